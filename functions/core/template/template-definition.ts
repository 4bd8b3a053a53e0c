import type { HelperDelegate } from "handlebars";
import type { PageDefaults } from "../html/index.ts";
import type { Issue, PdfMetadata, RenderOptions } from "../types.ts";

/**
 * What a template folder exports from its index.ts. The files beside it (template.hbs, partials/,
 * style.css, schema.json, example.json) are loaded by the registry; this is the code part.
 */
export interface TemplateDefinition<Data = unknown> {
  id: string;
  title: string;
  page: PageDefaults;
  /**
   * The page runs the template's own scripts. Off unless a template says so: such a document is
   * loaded into a fresh page by navigation (slower than a warm page) behind the same network fence.
   */
  javascript?: boolean;
  /** The template's own rules, run after the JSON Schema. `data` has passed the schema only if `schemaValid`. */
  rules?(data: Data, schemaValid: boolean): Issue[];
  /**
   * Rules (by `rule` name) that guard the service rather than the document — image pixel sizes,
   * table widths: they refuse even when options.validation is "warn", which waives only the others.
   */
  limitRules?: readonly string[];
  /**
   * The Handlebars view of valid data: defaults filled in, tables laid out. Page numbers of
   * elements (a table of contents) are the core's: `<page-ref for="ID"></page-ref>` (page-refs.ts).
   */
  view(data: Data, options: RenderOptions): Promise<object> | object;
  /** Document metadata derived from the data; options.metadata overrides each field. */
  metadata(data: Data): PdfMetadata & { title: string; lang: string; date?: Date };
  /** A file name for the PDF when options.filename is absent (without directory). */
  filename(data: Data): string;
  helpers?: Record<string, HelperDelegate>;
}

export function defineTemplate<Data>(definition: TemplateDefinition<Data>): TemplateDefinition<Data> {
  return definition;
}
