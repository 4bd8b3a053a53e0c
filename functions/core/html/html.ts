import type { BundledFonts } from "./fonts.ts";
import { type PageDefaults, pageBox, pageCss } from "./page-css.ts";
import { declaredFaces, fontPreloadHtml, marginBoxText } from "./margin-text.ts";
import { PAGE_REF_CSS } from "../page-refs/index.ts";
import type { RenderOptions } from "../types.ts";
import { watermarkHtml } from "./watermark.ts";

/** What a template made of the data: the body's HTML, and what is known of it already. */
export interface TemplateBody {
  html: string;
  /**
   * What the core would otherwise read off the template's CSS and HTML, when the template found it
   * itself: a fenced template reads it from its own parse, so that the core never scans HTML or CSS
   * it did not make (a crafted one can make a regular expression take minutes).
   */
  found?: FoundInBody;
}

export interface FoundInBody {
  /** The text of each h1–h6 heading, in order (white space collapsed). */
  headings: string[];
  /** The characters of the `@page` margin boxes' content, in the template's CSS and its <style> elements. */
  marginText: string;
  /** The faces the template's CSS declares with @font-face. */
  faces: { family: string; weight: string; style: string }[];
}

/** What buildDocument needs of a template: its CSS and its page. */
export interface DocumentTemplate {
  css: string;
  page: PageDefaults;
}

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
  template: DocumentTemplate,
  body: TemplateBody,
  options: RenderOptions,
  head: { title: string; lang: string },
  fonts: BundledFonts,
): DocumentParts {
  const ownCss = `${PAGE_REF_CSS}\n${pageCss(template.page, options.page)}`;
  const css = `${PAGE_REF_CSS}\n${template.css}\n${pageCss(template.page, options.page)}`;
  const { found } = body;
  // Margin boxes' text in every face the page has, laid out unseen so that its glyphs are loaded
  // (last in the body: the template's selectors such as body > :first-child see what they expect).
  const faces = [...fonts.faces, ...(found ? found.faces : declaredFaces(template.css))];
  const text = found ? joinChars(marginBoxText(ownCss, ""), found.marginText) : marginBoxText(css, body.html);
  const preload = fontPreloadHtml(text, faces);
  // The watermark (options.watermark) is positioned, out of the flow: appended, it moves nothing.
  const mark = options.watermark ? watermarkHtml(options.watermark, pageBox(template.page, options.page).typeArea) : "";
  return { lang: head.lang, title: head.title, css, body: body.html, extras: preload + mark };
}

/** The characters of `a` and `b`, sorted, each once (as marginBoxText gives them). */
function joinChars(a: string, b: string): string {
  return [...new Set([...a, ...b])].sort().join("");
}

/** The same document as one standalone HTML file with `fonts` (for `--html` and debugging). */
export function toHtml(doc: DocumentParts, fonts: Pick<BundledFonts, "css">): string {
  return [
    "<!doctype html>",
    `<html lang="${escapeHtml(doc.lang)}"><head><meta charset="utf-8">`,
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>${fonts.css}</style>`,
    `<style>${doc.css}</style>`,
    `</head><body>${doc.body}${doc.extras ?? ""}</body></html>`,
  ].join("\n");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
