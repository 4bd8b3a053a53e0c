import { getTemplate, templateIds } from "../core/templates.ts";
import type { HttpResult } from "../events.ts";
import { json } from "./responses.ts";

/** GET /v1/templates → every template's id, title and JSON Schema. */
export function listTemplates(): HttpResult {
  const templates = templateIds().map((id) => {
    const template = getTemplate(id);
    return {
      id,
      title: template.definition.title,
      schema: template.schema,
      example: `/v1/templates/${encodeURIComponent(id)}/example`,
    };
  });
  return json(200, { templates }, { "cache-control": "public, max-age=300" });
}

/** GET /v1/templates/{id}/example → a complete envelope that renders (unknown id → 404 with the known ones). */
export function templateExample(id: string): HttpResult {
  return json(200, getTemplate(id).example, { "cache-control": "public, max-age=300" });
}
