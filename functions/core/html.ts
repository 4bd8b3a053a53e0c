import { fontAssets } from "./fonts.ts";
import { pageBox, pageCss } from "./page-css.ts";
import { declaredFaces, fontPreloadHtml, marginBoxText } from "./margin-text.ts";
import { PAGE_REF_CSS } from "./page-refs.ts";
import type { LoadedTemplate } from "./templates.ts";
import type { RenderOptions } from "./types.ts";
import { watermarkHtml } from "./watermark.ts";

/** A document as the browser receives it: everything but the fonts, which every page already has. */
export interface DocumentParts {
  lang: string;
  title: string;
  css: string;
  body: string;
}

export function buildDocument(
  template: LoadedTemplate,
  view: object,
  options: RenderOptions,
  head: { title: string; lang: string },
): DocumentParts {
  const css = `${PAGE_REF_CSS}\n${template.css}\n${pageCss(template.definition.page, options.page)}`;
  const body = template.render(view);
  // Margin boxes' text in every face the page has, laid out unseen so that its glyphs are loaded
  // (last in the body: the template's selectors such as body > :first-child see what they expect).
  const faces = [...bundledFaces(), ...declaredFaces(template.css)];
  const preload = fontPreloadHtml(marginBoxText(css, body), faces);
  // The watermark (options.watermark) is positioned, out of the flow: appended, it moves nothing.
  const mark = options.watermark
    ? watermarkHtml(options.watermark, pageBox(template.definition.page, options.page).typeArea)
    : "";
  return { lang: head.lang, title: head.title, css, body: body + preload + mark };
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
    `</head><body>${doc.body}</body></html>`,
  ].join("\n");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
