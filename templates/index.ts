import { join } from "node:path";
import govDisclosureAnnualReport from "./gov-disclosure-annual-report/index.ts";
import report from "./report/index.ts";
import type { TemplateDefinition, TemplateSource } from "../functions/core/kit.ts";

/**
 * The templates that ship with the service, for the doors to register with the core. `root` is the
 * folder that holds templates/ (the repository, or a Lambda bundle's runtime folder).
 */
export function builtInTemplates(root: string): TemplateSource[] {
  return [govDisclosureAnnualReport as TemplateDefinition, report as TemplateDefinition].map((definition) => ({
    definition,
    dir: join(root, "templates", definition.id),
  }));
}
