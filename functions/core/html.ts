import { fontAssets } from "./fonts.ts";
import { pageBox, pageCss } from "./page-css.ts";
import { declaredFaces, fontPreloadHtml, marginBoxText } from "./margin-text.ts";
import { PAGE_REF_CSS } from "./page-refs.ts";
import type { LoadedTemplate, TemplateBody } from "./templates.ts";
import type { RenderOptions } from "./types.ts";
import { watermarkHtml } from "./watermark.ts";

/** A document as the browser receives it: everything but the fonts, which every page already has. */
export interface DocumentParts {
  lang: string;
  title: string;
  css: string;
  /** What the template made of the data. */
  body: string;
  /**
   * The service's own HTML after it (the font preload, the watermark), parsed on its own: whatever
   * state the template's HTML leaves the parser in (an open <template>, <style> or comment), it
   * cannot swallow these.
   */
  extras?: string;
}

/** The document around `body` (what the template made of the data): its CSS, fonts, watermark. */
export function buildDocument(
  template: LoadedTemplate,
  body: TemplateBody,
  options: RenderOptions,
  head: { title: string; lang: string },
): DocumentParts {
  const ownCss = `${PAGE_REF_CSS}\n${pageCss(template.definition.page, options.page)}`;
  const css = `${PAGE_REF_CSS}\n${template.css}\n${pageCss(template.definition.page, options.page)}`;
  const { found } = body;
  // Margin boxes' text in every face the page has, laid out unseen so that its glyphs are loaded
  // (last in the body: the template's selectors such as body > :first-child see what they expect).
  const faces = [...bundledFaces(), ...(found ? found.faces : declaredFaces(template.css))];
  const text = found ? joinChars(marginBoxText(ownCss, ""), found.marginText) : marginBoxText(css, body.html);
  const preload = fontPreloadHtml(text, faces);
  // The watermark (options.watermark) is positioned, out of the flow: appended, it moves nothing.
  const mark = options.watermark
    ? watermarkHtml(options.watermark, pageBox(template.definition.page, options.page).typeArea)
    : "";
  return { lang: head.lang, title: head.title, css, body: body.html, extras: preload + mark };
}

/** The characters of `a` and `b`, sorted, each once (as marginBoxText gives them). */
function joinChars(a: string, b: string): string {
  return [...new Set([...a, ...b])].sort().join("");
}

let bundled: { css: string; faces: ReturnType<typeof declaredFaces> } | undefined;

/** The faces of the bundled fonts (family, weight, style), read once from their @font-face rules. */
function bundledFaces(): ReturnType<typeof declaredFaces> {
  const { css } = fontAssets();
  if (bundled?.css !== css) bundled = { css, faces: declaredFaces(css) };
  return bundled.faces;
}

/** The same document as one standalone HTML file (for `--html` and debugging). */
export function toHtml(doc: DocumentParts): string {
  return [
    "<!doctype html>",
    `<html lang="${escapeHtml(doc.lang)}"><head><meta charset="utf-8">`,
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>${fontAssets().css}</style>`,
    `<style>${doc.css}</style>`,
    `</head><body>${doc.body}${doc.extras ?? ""}</body></html>`,
  ].join("\n");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
