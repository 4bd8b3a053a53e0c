/**
 * What a template may use of the core: the one import of a template's code. Templates register
 * with the core (createRenderer's `templates`); the core never imports a template.
 */
export { defineTemplate, type TemplateDefinition, type TemplateSource } from "./template/index.ts";
export { pageBox, type PageDefaults } from "./html/index.ts";
export type { Issue, RenderOptions } from "./types.ts";
export { escapePointer, safeFileName } from "./input/index.ts";
