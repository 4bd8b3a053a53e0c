import Handlebars from "handlebars";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { InputError } from "./errors.ts";
import type { TemplateDefinition } from "./template-definition.ts";

/**
 * A template handed to the core: its code (the definition) and the folder of its files
 * (template.hbs, partials/, style.css, schema.json, example.json). The core knows no template of
 * its own: built-in templates and published ones alike register through this.
 */
export interface TemplateSource {
  definition: TemplateDefinition;
  dir: string;
}

/** A template with its files loaded and its Handlebars compiled: built once per process. */
export interface LoadedTemplate {
  definition: TemplateDefinition;
  schema: object;
  css: string;
  example: unknown;
  render(view: object): string;
}

/** The templates a renderer knows, by id. */
export interface TemplateRegistry {
  ids(): string[];
  /** The template, loaded on first use; an unknown id is an InputError("unknown_template"). */
  get(id: string): LoadedTemplate;
}

export function createTemplateRegistry(sources: readonly TemplateSource[]): TemplateRegistry {
  const byId = new Map<string, TemplateSource>();
  for (const source of sources) {
    if (byId.has(source.definition.id)) throw new Error(`two templates have the id "${source.definition.id}"`);
    byId.set(source.definition.id, source);
  }
  const loaded = new Map<string, LoadedTemplate>();
  const ids = () => [...byId.keys()];
  return {
    ids,
    get(id) {
      const cached = loaded.get(id);
      if (cached) return cached;
      // A Map, so that "__proto__" or "constructor" are only unknown ids.
      const source = byId.get(id);
      if (!source) {
        throw new InputError("unknown_template", [
          {
            rule: "template",
            path: "/template",
            message: `unknown template "${id}"; known templates: ${ids().join(", ")}`,
            expected: ids(),
            actual: id,
          },
        ]);
      }
      const template = load(source);
      loaded.set(id, template);
      return template;
    },
  };
}

function load({ definition, dir }: TemplateSource): LoadedTemplate {
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
