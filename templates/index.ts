import type { TemplateDefinition } from "../functions/core/template-definition.ts";
import govDisclosureAnnualReport from "./gov-disclosure-annual-report/index.ts";
import report from "./report/index.ts";

/** Every template the service knows; the folder of each holds its files (hbs, css, schema, example). */
export const templateDefinitions: TemplateDefinition[] = [
  govDisclosureAnnualReport as TemplateDefinition,
  report as TemplateDefinition,
];
