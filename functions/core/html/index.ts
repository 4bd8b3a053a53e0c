/**
 * The document Chromium prints: the template's body with its CSS, the page's size and margins as
 * `@page` rules, the bundled fonts, the margin boxes' text preloaded, the watermark; and what the core
 * reads of its own templates' HTML (the headings the bookmarks should have).
 */
export { type BundledFonts, bundledFonts } from "./fonts.ts";
export { headingTexts } from "./headings.ts";
export {
  buildDocument,
  type DocumentParts,
  type FoundInBody,
  type TemplateBody,
  toHtml,
} from "./html.ts";
export { declaredFaces, marginBoxText } from "./margin-text.ts";
export { pageBox, pageBoxIssues, resolveMargin, type PageDefaults } from "./page-css.ts";
