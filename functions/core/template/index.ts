/**
 * Templates as the core sees them: a definition (code) and files, loaded and compiled once, kept in
 * a registry by id; published ones found through a resolver. A template package's source is
 * `fenced`: its schema and Handlebars run outside the core (functions/packages/fence/).
 */
export { defineTemplate, type TemplateDefinition } from "./template-definition.ts";
export {
  createTemplateRegistry,
  load,
  type LoadedTemplate,
  type TemplateRegistry,
  type TemplateResolver,
  type TemplateSource,
} from "./templates.ts";
// What a template makes: the html room's, where the document is built around it.
export type { FoundInBody, TemplateBody } from "../html/index.ts";
