import Handlebars from "handlebars";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { templateDefinitions } from "../../templates/index.ts";
import { InputError } from "./errors.ts";
import { templatesDir } from "./paths.ts";
import type { TemplateDefinition } from "./template-definition.ts";

/** A template with its files loaded and its Handlebars compiled: built once per process. */
export interface LoadedTemplate {
  definition: TemplateDefinition;
  schema: object;
  css: string;
  example: unknown;
  render(view: object): string;
}

const loaded = new Map<string, LoadedTemplate>();

export function templateIds(): string[] {
  return templateDefinitions.map((t) => t.id);
}

export function getTemplate(id: string): LoadedTemplate {
  const cached = loaded.get(id);
  if (cached) return cached;
  const definition = templateDefinitions.find((t) => t.id === id);
  if (!definition) {
    throw new InputError("unknown_template", [
      {
        rule: "template",
        path: "/template",
        message: `unknown template "${id}"; known templates: ${templateIds().join(", ")}`,
        expected: templateIds(),
        actual: id,
      },
    ]);
  }
  const template = load(definition);
  loaded.set(id, template);
  return template;
}

function load(definition: TemplateDefinition): LoadedTemplate {
  const dir = join(templatesDir, definition.id);
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  // Each template gets its own Handlebars environment: its helpers and partials cannot collide.
  const hbs = Handlebars.create();
  for (const [name, helper] of Object.entries(definition.helpers ?? {})) hbs.registerHelper(name, helper);
  const partialsDir = join(dir, "partials");
  if (existsSync(partialsDir)) {
    for (const file of readdirSync(partialsDir).filter((f) => f.endsWith(".hbs"))) {
      hbs.registerPartial(basename(file, ".hbs"), readFileSync(join(partialsDir, file), "utf8"));
    }
  }
  // strict: a misspelt field in a template is an error, not silently blank output.
  const compiled = hbs.compile(read("template.hbs"), { strict: true, noEscape: false });
  return {
    definition,
    schema: JSON.parse(read("schema.json")) as object,
    css: read("style.css"),
    example: JSON.parse(read("example.json")) as unknown,
    render: (view) => compiled(view),
  };
}
