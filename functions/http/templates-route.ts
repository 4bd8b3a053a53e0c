import type { TemplateRegistry } from "../core/templates.ts";
import type { HttpResult } from "../service/events.ts";
import { json } from "./responses.ts";

/** GET /v1/templates → every template's id, title and JSON Schema. */
export function listTemplates(registry: TemplateRegistry): HttpResult {
  const templates = registry.ids().map((id) => {
    const template = registry.get(id);
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
export function templateExample(registry: TemplateRegistry, id: string): HttpResult {
  return json(200, registry.get(id).example, { "cache-control": "public, max-age=300" });
}
