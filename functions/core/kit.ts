/**
 * What a template may use of the core: the one import of a template's code. Templates register
 * with the core (createRenderer's `templates`); the core never imports a template.
 */
export { defineTemplate, type TemplateDefinition } from "./template-definition.ts";
export { pageBox, resolveMargin, type PageDefaults, type Size } from "./page-css.ts";
export type { Issue, PdfMetadata, RenderOptions } from "./types.ts";
export { escapePointer } from "./validate.ts";
export { safeFileName } from "./filename.ts";
