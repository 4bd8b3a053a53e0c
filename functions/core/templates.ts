import Handlebars from "handlebars";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { InputError, LimitError } from "./errors.ts";
import type { TemplateDefinition } from "./template-definition.ts";

/**
 * A template handed to the core: its code (the definition) and its files, either in a folder
 * (template.hbs, partials/, style.css, schema.json, example.json: the built-in templates) or already
 * in memory (a published template package, read from a zip in S3). The core knows no template of its
 * own: built-in templates and published ones alike register through this.
 */
export type TemplateSource =
  | { definition: TemplateDefinition; dir: string }
  | { definition: TemplateDefinition; files: TemplateFiles };

/** A template's files in memory: what its folder would hold, already read and parsed. */
export interface TemplateFiles {
  template: string;
  /** Partial name → its Handlebars source (`{{> name}}`). */
  partials: Readonly<Record<string, string>>;
  css: string;
  schema: object;
  example: unknown;
}

/** A template with its files loaded and its Handlebars compiled: built once per process. */
export interface LoadedTemplate {
  definition: TemplateDefinition;
  schema: object;
  css: string;
  example: unknown;
  render(view: object): string;
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
  const files = "files" in source ? source.files : readFolder(source.dir);
  // Each template gets its own Handlebars environment: its helpers and partials cannot collide.
  const hbs = Handlebars.create();
  if ("files" in source) countBlockRuns(hbs);
  for (const [name, helper] of Object.entries(definition.helpers ?? {})) hbs.registerHelper(name, helper);
  for (const [name, partial] of Object.entries(files.partials)) hbs.registerPartial(name, partial);
  // strict: a misspelt field in a template is an error, not silently blank output.
  const compiled = hbs.compile(files.template, { strict: true, noEscape: false });
  return {
    definition,
    schema: files.schema,
    css: files.css,
    example: files.example,
    render: "files" in source ? (view) => renderPublished(compiled, view) : (view) => compiled(view),
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

/**
 * Block runs (`each`, `with`, `if`, `unless` bodies) one render of a published template may make.
 * Handlebars runs synchronously, out of reach of the render's deadline: a grid of 6,000 × 6,000
 * cells from 12,000 values would hold the process for half a minute and make 300 MB of HTML.
 */
const PUBLISHED_BLOCK_RUNS = 1_000_000;
/** HTML one render of a published template may make, in characters. */
const PUBLISHED_HTML_CHARS = 40_000_000;

/** Block runs left in the render under way (renders of a template are synchronous: one at a time). */
let blockRunsLeft = Number.POSITIVE_INFINITY;

/**
 * Make `hbs`'s block helpers count their runs against the budget of withinBlockBudget (published
 * templates' environments: the core's, and a package's own first pass).
 */
export function countBlockRuns(hbs: typeof Handlebars): void {
  for (const name of ["each", "with", "if", "unless"]) {
    const original = hbs.helpers[name] as Handlebars.HelperDelegate;
    hbs.registerHelper(name, function (this: unknown, ...args: unknown[]) {
      const options = args.at(-1) as Handlebars.HelperOptions;
      const counted = (fn: Handlebars.TemplateDelegate | undefined) =>
        fn &&
        Object.assign((context: unknown, opts?: Handlebars.RuntimeOptions) => {
          if (--blockRunsLeft < 0) throw tooMuchWork(`its blocks ran more than ${PUBLISHED_BLOCK_RUNS} times`);
          return fn(context, opts);
        }, fn);
      const wrapped = { ...options, fn: counted(options.fn), inverse: counted(options.inverse) };
      return original.call(this, ...args.slice(0, -1), wrapped);
    });
  }
}

/** Run one render of a published template within the block and size budget. */
export function withinBlockBudget(render: () => string): string {
  blockRunsLeft = PUBLISHED_BLOCK_RUNS;
  try {
    const html = render();
    if (html.length > PUBLISHED_HTML_CHARS)
      throw tooMuchWork(`it made more than ${PUBLISHED_HTML_CHARS} characters of HTML`);
    return html;
  } finally {
    blockRunsLeft = Number.POSITIVE_INFINITY;
  }
}

function tooMuchWork(what: string): LimitError {
  return new LimitError("templateWork", `the template is too much work for this data: ${what}`);
}

/**
 * A published package's template is its author's, not the service's: when valid data still fails in
 * it (a field strict mode misses, a helper refusing a value such as a date that is no date), the
 * input is refused (invalid_data, 422) with Handlebars' message, rather than counted as our fault.
 */
function renderPublished(compiled: (view: object) => string, view: object): string {
  try {
    return withinBlockBudget(() => compiled(view));
  } catch (e) {
    if (e instanceof InputError || e instanceof LimitError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new InputError("invalid_data", [{ rule: "template-render", path: "", message }]);
  }
}
