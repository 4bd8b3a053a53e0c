import Handlebars from "handlebars";
import { InputError, LimitError } from "../../core/errors.ts";
import { marginBoxText } from "../../core/html/index.ts";
import type { TemplateBody } from "../../core/template/index.ts";
import type { FencedParts } from "../package-source.ts";
import type { Issue } from "../../core/types.ts";
import { checkSchema } from "../../core/input/index.ts";
import { BUILT_IN_HELPERS } from "../hbs-check.ts";
import { PACKAGE_HELPER_NAMES, packageHelpers } from "../helpers.ts";
import { FILES } from "../layout.ts";
import { prepareCharts } from "../package-charts.ts";
import { loadQrCodes } from "../qr-svg.ts";
import { type MarkKind, marked, splitMarks, unmarkable } from "./output-marks.ts";
import { type OutputFinding, parseOutput } from "./output-policy.ts";
import { tooMuchWork } from "./protocol.ts";

/**
 * A package's template and schema, run inside a fence thread (worker.ts): never on the service's
 * event loop. Each render is counted as it runs (block runs and partial calls, characters of output)
 * and stops at the first budget passed; every value it writes is marked (output-marks.ts), and the
 * HTML it made is judged by output-policy.ts before anyone sees it.
 */

export interface CompiledPackage {
  validate(data: unknown): Issue[];
  /**
   * The body for valid data, with what the core needs to know of it (found from its parse):
   * InputError (invalid_data) or LimitError (templateWork) otherwise.
   */
  render(data: object): Promise<TemplateBody>;
}

/**
 * Block runs (`each`, `with`, `if`, `unless` bodies) and partial calls one pass of a template may
 * make: a grid of 6,000 × 6,000 cells from 12,000 values, or partials that each call the next twice
 * 27 levels deep, stop here in a second instead of holding a thread for minutes.
 */
const MAX_TEMPLATE_RUNS = 1_000_000;
/**
 * HTML one pass may make, in characters, counted as it is made: a 500-page report of dense tables
 * makes about 3 million; judging 8 million (parsed, with the data's ranges) takes some 160 MB of a
 * thread's 256 MB heap.
 */
const MAX_TEMPLATE_CHARS = 8_000_000;

/** The work one pass has left, and the output it has made so far. */
interface Budget {
  runs: number;
  chars: number;
  /** One frame per block run or partial call under way: the output of its children, and of its values. */
  frames: { children: number; values: number }[];
}

let budget: Budget | undefined;
/** Whether this thread writes values with marks: without them every range would go unseen. */
let marking = false;

/** Handlebars' own escaping, before installMarkedOutput replaces it. */
const escapeHtml = Handlebars.Utils.escapeExpression;

/**
 * Handlebars writes every `{{value}}` through Utils.escapeExpression, which templates read when they
 * are first run; this thread runs nothing but packages, so it is replaced once, for all of them.
 */
export function installMarkedOutput(): void {
  marking = true;
  (Handlebars.Utils as { escapeExpression: (value: unknown) => string }).escapeExpression = (value: unknown) => {
    let html: string;
    if (value instanceof Marked) html = marked(value.kind, value.html);
    // A helper's markup (qrcode, chart): the service's own, with data inside it escaped.
    else if (isSafeString(value)) html = unmarkable(value.toHTML());
    else {
      const text = escapeHtml(value as string);
      html = text === "" ? "" : marked("data", text);
    }
    countValue(html.length);
    return html;
  };
}

/** The helpers a package may call. */
export const KNOWN_HELPERS: ReadonlySet<string> = new Set([...BUILT_IN_HELPERS, ...PACKAGE_HELPER_NAMES]);

/** What the CSS helpers and dataImage return: their HTML, marked as such when written. */
class Marked {
  constructor(
    readonly kind: MarkKind,
    readonly html: string,
  ) {}
  toString(): string {
    return this.html;
  }
}

export function compilePackage(parts: FencedParts): CompiledPackage {
  if (!marking) throw new Error("compilePackage runs in a fence thread, after installMarkedOutput");
  // What the output's marks cannot see, refused again whatever the check said: output written
  // unescaped, which no mark brackets ({{{…}}}, {{&…}}, the built-in lookup used as a block).
  for (const [name, source] of Object.entries({ [FILES.template]: parts.template, ...parts.partials })) {
    const unmarked = unmarkedOutput(Handlebars.parse(source));
    if (unmarked) {
      const message = `${name}: ${unmarked} writes data unescaped, which a package may not (the check refuses it)`;
      throw new InputError("invalid_data", [{ rule: "template-render", path: "", message }]);
    }
  }
  const hbs = Handlebars.create();
  const helpers = packageHelpers({ assetPixels: parts.assetPixels });
  for (const [name, helper] of Object.entries(helpers)) hbs.registerHelper(name, helper);
  for (const name of ["cssString", "cssValue", "dataImage"] as const) {
    const kind: MarkKind = name === "dataImage" ? "image" : "css";
    const helper = helpers[name];
    hbs.registerHelper(name, function (this: unknown, ...args: unknown[]) {
      const value: unknown = (helper as (...a: unknown[]) => unknown).apply(this, args);
      return new Marked(kind, isSafeString(value) ? value.toHTML() : escapeHtml(value as string));
    });
  }
  countRuns(hbs);
  // strict: a misspelt field in a template is an error, not silently blank output.
  const options = { strict: true, noEscape: false };
  for (const [name, source] of Object.entries(parts.partials)) {
    hbs.registerPartial(name, counted(hbs.compile(source, options)));
  }
  const template = hbs.compile(parts.template, options);
  const pass = (data: object): string => withinBudget(() => template(data));
  const assets = new Set(parts.assetUrls);

  return {
    validate: (data) => checkSchema(parts.schema, data),
    async render(data) {
      const html = asInputError(async () => {
        if (parts.uses.qrcode) await loadQrCodes();
        if (parts.uses.chart) await prepareCharts(data, parts.lang, () => void pass(data));
        return pass(data);
      });
      const { html: body, ranges } = splitMarks(await html);
      const parsed = parseOutput(body, ranges, assets);
      if (parsed.findings.length > 0) throw outputRefused(body, parsed.findings);
      const { cssFound } = parts;
      const marginText = [...new Set([...cssFound.marginText, ...marginBoxText(parsed.styles.join("\n"), "")])]
        .sort()
        .join("");
      return { html: body, found: { headings: parsed.headings, marginText, faces: cssFound.faces } };
    },
  };
}

/** The first statement of `node` that would write a value without escaping (and so without marks). */
function unmarkedOutput(node: hbs.AST.Node): string | undefined {
  const children = (...nodes: (hbs.AST.Node | undefined | null)[]) => {
    for (const child of nodes) {
      const found = child ? unmarkedOutput(child) : undefined;
      if (found) return found;
    }
    return undefined;
  };
  switch (node.type) {
    case "Program":
      return children(...(node as hbs.AST.Program).body);
    case "MustacheStatement":
      return (node as hbs.AST.MustacheStatement).escaped ? undefined : "an unescaped mustache ({{{…}}} or {{&…}})";
    case "BlockStatement": {
      const block = node as hbs.AST.BlockStatement;
      if ((block.path as hbs.AST.PathExpression).original === "lookup") return "lookup as a block";
      return children(block.program, block.inverse);
    }
    case "PartialBlockStatement":
    case "DecoratorBlock":
      return children((node as hbs.AST.PartialBlockStatement).program);
    default:
      return undefined;
  }
}

/** One pass of a template within the budgets. */
function withinBudget(run: () => string): string {
  budget = { runs: MAX_TEMPLATE_RUNS, chars: 0, frames: [{ children: 0, values: 0 }] };
  try {
    return run();
  } finally {
    budget = undefined;
  }
}

function countValue(chars: number): void {
  if (!budget) return;
  const frame = budget.frames.at(-1);
  if (frame) frame.values += chars;
  addChars(chars);
}

function addChars(chars: number): void {
  if (!budget) return;
  budget.chars += chars;
  if (budget.chars > MAX_TEMPLATE_CHARS)
    throw tooMuchWork(`it made more than ${MAX_TEMPLATE_CHARS} characters of HTML`);
}

/**
 * `fn` (a block's body, a partial) counted: one run against the budget, and the characters it adds
 * to the output of its own (its text; its children's and its values' are counted where they are made).
 */
function counted(fn: Handlebars.TemplateDelegate): Handlebars.TemplateDelegate {
  return Object.assign((context: unknown, options?: Handlebars.RuntimeOptions) => {
    if (!budget) return fn(context, options);
    if (--budget.runs < 0) throw tooMuchWork(`its blocks and partials ran more than ${MAX_TEMPLATE_RUNS} times`);
    const frame = { children: 0, values: 0 };
    budget.frames.push(frame);
    let out: string;
    try {
      out = fn(context, options);
    } finally {
      budget.frames.pop();
    }
    addChars(Math.max(0, out.length - frame.children - frame.values));
    const parent = budget.frames.at(-1);
    if (parent) parent.children += out.length;
    return out;
  }, fn);
}

/** The block helpers and inline partials of `hbs`, counted. */
function countRuns(hbs: typeof Handlebars): void {
  for (const name of ["each", "with", "if", "unless"]) {
    const original = hbs.helpers[name] as Handlebars.HelperDelegate;
    hbs.registerHelper(name, function (this: unknown, ...args: unknown[]) {
      const options = args.at(-1) as Handlebars.HelperOptions;
      const wrap = (fn: Handlebars.TemplateDelegate | undefined) => fn && counted(fn);
      return original.call(this, ...args.slice(0, -1), {
        ...options,
        fn: wrap(options.fn),
        inverse: wrap(options.inverse),
      });
    });
  }
  // Handlebars' types leave out its decorators (they are not public API; `inline` is the one packages use).
  const inline = (hbs as unknown as { decorators: Record<string, (...args: unknown[]) => unknown> }).decorators.inline;
  if (!inline) throw new Error("Handlebars has no inline decorator");
  hbs.registerDecorator("inline", function (this: unknown, ...args: unknown[]) {
    const [fn, props, container, options] = args as [unknown, unknown, unknown, { fn: Handlebars.TemplateDelegate }];
    return inline.call(this, fn, props, container, { ...options, fn: counted(options.fn) });
  });
}

/**
 * A package's template is its author's, not the service's: when valid data still fails in it (a
 * field strict mode misses, a helper refusing a value such as a date that is no date), the input is
 * refused (invalid_data, 422) with Handlebars' message, rather than counted as the service's fault.
 */
async function asInputError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof InputError || e instanceof LimitError) throw e;
    // V8's own RangeErrors: a template that nests itself too deep, or a string past V8's length.
    if (e instanceof RangeError && /call stack/.test(e.message)) throw tooMuchWork("its partials nest too deep");
    if (e instanceof RangeError) throw tooMuchWork("it made more HTML than a string can hold");
    const message = e instanceof Error ? e.message : String(e);
    throw new InputError("invalid_data", [{ rule: "template-render", path: "", message }]);
  }
}

/** The HTML broke the package rules (data where it may not go, or something that would fetch or run). */
function outputRefused(html: string, findings: readonly OutputFinding[]): InputError {
  return new InputError(
    "invalid_data",
    findings.map((f) => ({
      rule: "template-output",
      path: "",
      message: `${f.message} [${f.rule}], in the HTML the template made at: ${near(html, f.offset)}`,
    })),
  );
}

/** A short excerpt of `html` from `offset`, on one line. */
function near(html: string, offset: number): string {
  const excerpt = html.slice(offset, offset + 60).replace(/\s+/g, " ");
  return JSON.stringify(offset + 60 < html.length ? `${excerpt}…` : excerpt);
}

function isSafeString(value: unknown): value is { toHTML(): string } {
  return typeof value === "object" && value !== null && typeof (value as { toHTML?: unknown }).toHTML === "function";
}
