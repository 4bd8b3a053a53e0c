import Handlebars from "handlebars";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { InputError } from "../errors.ts";
import type { TemplateDefinition } from "./template-definition.ts";
import type { TemplateBody } from "../html/index.ts";
import type { Issue } from "../types.ts";
import { checkSchema } from "../input/index.ts";

/**
 * A template handed to the core: its code (the definition) and its files, either in a folder
 * (template.hbs, partials/, style.css, schema.json, example.json: the built-in templates) or already
 * in memory; or a template whose templating runs elsewhere (`fenced`: a published template package,
 * whose Handlebars and schema run in the packages' worker threads, never in the core's). The core
 * knows no template of its own: built-in templates and published ones alike register through this.
 */
export type TemplateSource =
  | { definition: TemplateDefinition; dir: string }
  | { definition: TemplateDefinition; files: TemplateFiles }
  | { definition: TemplateDefinition; fenced: FencedTemplate };

/** A template's files in memory: what its folder would hold, already read and parsed. */
export interface TemplateFiles {
  template: string;
  /** Partial name → its Handlebars source (`{{> name}}`). */
  partials: Readonly<Record<string, string>>;
  css: string;
  schema: object;
  example: unknown;
}

/** A template's parts, whoever runs it. */
interface TemplateParts {
  schema: object;
  css: string;
  example: unknown;
  /** The data checked against the template's schema: every failure. */
  validate(data: unknown, signal: AbortSignal): Promise<Issue[]>;
  /** The body the template makes of its view (InputError, LimitError when the data or the work is refused). */
  render(view: object, signal: AbortSignal): Promise<TemplateBody>;
}

/** A template that validates and renders out of the core's hands (in a thread of its own, say). */
export type FencedTemplate = TemplateParts;

/** A template with its files loaded and its Handlebars compiled: built once per process. */
export interface LoadedTemplate extends TemplateParts {
  definition: TemplateDefinition;
}

/**
 * Templates not handed in up front (published template packages): asked for a name the renderer's
 * own templates do not have, it gives that template's source, or undefined if there is none. The
 * source's definition.id names the exact version (e.g. "notice@a1b2c3"): sources are immutable by
 * it, so the template is loaded once and kept under it.
 */
export type TemplateResolver = (name: string) => Promise<TemplateSource | undefined>;

/** The templates a renderer knows, by id. */
export interface TemplateRegistry {
  /** The ids of the templates handed in (not those a resolver finds). */
  ids(): string[];
  /** A template handed in, loaded on first use; an unknown id is an InputError("unknown_template"). */
  get(id: string): LoadedTemplate;
  /** A template handed in, or else the one the resolver finds by `name`; none is an InputError("unknown_template"). */
  resolve(name: string): Promise<LoadedTemplate>;
}

/** Published templates kept loaded at once (each holds its compiled Handlebars, CSS and assets). */
const RESOLVED_KEPT = 32;

export function createTemplateRegistry(
  sources: readonly TemplateSource[],
  resolver?: TemplateResolver,
): TemplateRegistry {
  const byId = new Map<string, TemplateSource>();
  for (const source of sources) {
    if (byId.has(source.definition.id)) throw new Error(`two templates have the id "${source.definition.id}"`);
    byId.set(source.definition.id, source);
  }
  const loaded = new Map<string, LoadedTemplate>();
  // Least recently used first: Map keeps insertion order, and a hit is moved to the end.
  const resolved = new Map<string, LoadedTemplate>();
  const ids = () => [...byId.keys()];
  const unknown = (id: string) =>
    new InputError("unknown_template", [
      {
        rule: "template",
        path: "/template",
        message: `unknown template "${id}"; the built-in templates are ${ids().join(", ")}${resolver ? ", and the published ones GET /v1/templates lists" : ""}`,
        expected: ids(),
        actual: id,
      },
    ]);
  const get = (id: string): LoadedTemplate => {
    const cached = loaded.get(id);
    if (cached) return cached;
    // A Map, so that "__proto__" or "constructor" are only unknown ids.
    const source = byId.get(id);
    if (!source) throw unknown(id);
    const template = load(source);
    loaded.set(id, template);
    return template;
  };
  return {
    ids,
    get,
    async resolve(name) {
      if (byId.has(name) || !resolver) return get(name);
      const source = await resolver(name);
      if (!source) throw unknown(name);
      const key = source.definition.id;
      let template = resolved.get(key);
      if (template) resolved.delete(key);
      else template = load(source);
      resolved.set(key, template);
      for (const old of resolved.keys()) {
        if (resolved.size <= RESOLVED_KEPT) break;
        resolved.delete(old);
      }
      return template;
    },
  };
}

/** A template's files loaded and its Handlebars compiled (the registry keeps what it loads). */
export function load(source: TemplateSource): LoadedTemplate {
  const { definition } = source;
  if ("fenced" in source) {
    const { schema, css, example, validate, render } = source.fenced;
    return { definition, schema, css, example, validate, render };
  }
  const files = "files" in source ? source.files : readFolder(source.dir);
  // Each template gets its own Handlebars environment: its helpers and partials cannot collide.
  const hbs = Handlebars.create();
  for (const [name, helper] of Object.entries(definition.helpers ?? {})) hbs.registerHelper(name, helper);
  for (const [name, partial] of Object.entries(files.partials)) hbs.registerPartial(name, partial);
  // strict: a misspelt field in a template is an error, not silently blank output.
  const compiled = hbs.compile(files.template, { strict: true, noEscape: false });
  return {
    definition,
    schema: files.schema,
    css: files.css,
    example: files.example,
    // The service's own templates: their schemas and Handlebars are trusted to run in this thread.
    validate: async (data) => checkSchema(files.schema, data),
    render: async (view) => ({ html: compiled(view) }),
  };
}

function readFolder(dir: string): TemplateFiles {
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  const partials: Record<string, string> = {};
  const partialsDir = join(dir, "partials");
  if (existsSync(partialsDir)) {
    for (const file of readdirSync(partialsDir).filter((f) => f.endsWith(".hbs"))) {
      partials[basename(file, ".hbs")] = readFileSync(join(partialsDir, file), "utf8");
    }
  }
  return {
    template: read("template.hbs"),
    partials,
    css: read("style.css"),
    schema: JSON.parse(read("schema.json")) as object,
    example: JSON.parse(read("example.json")) as unknown,
  };
}
