import { InputError } from "../core/errors.ts";
import { escapePointer } from "../core/input/index.ts";
import { ChartBudget, chartPoints } from "../../templates/report/budgets.ts";
import { chartSvg, type ChartSize } from "../../templates/report/charts.ts";
import type { ChartBlock } from "../../templates/report/data.ts";

/**
 * The `chart` helper draws with the report template's own chart code (templates/report/charts.ts:
 * ECharts' server-side SVG renderer), which is asynchronous, while Handlebars helpers are not. So a
 * package whose template uses `chart` renders twice: the view runs the template once to collect the
 * charts it asks for, in order, draws them, and the real render takes them in the same order.
 * The first pass also holds them to the report template's budget for all the charts of a render
 * (templates/report/budgets.ts), before any is drawn.
 */

export interface ChartRequest {
  block: ChartBlock;
  size: ChartSize;
  /** The spec object of the data it was drawn for (the real render must ask for the same). */
  spec: object;
}

/** Requests gathered during a view's first pass, by the data's root object, and the points they come to. */
const collecting = new WeakMap<object, { requests: ChartRequest[]; budget: ChartBudget }>();
/** Charts drawn for the render of the data's root object, in order. */
const drawn = new WeakMap<object, { spec: object; svg: string }[]>();

/** Runs `firstPass` (the template rendered once) and draws every chart it asked for. */
export async function prepareCharts(root: object, lang: string, firstPass: () => void): Promise<void> {
  const requests: ChartRequest[] = [];
  collecting.set(root, { requests, budget: new ChartBudget() });
  try {
    firstPass();
  } finally {
    collecting.delete(root);
  }
  const svgs = await Promise.all(requests.map((r, i) => chartSvg(r.block, r.size, lang, `chart${i + 1}`)));
  drawn.set(
    root,
    requests.map((r, i) => ({ spec: r.spec, svg: svgs[i] ?? "" })),
  );
}

/** What `{{chart spec}}` writes: nothing while collecting, then the SVG drawn for it. */
export function chartFor(root: object, spec: unknown, size: ChartSize): string {
  const block = chartBlock(spec);
  const pass = collecting.get(root);
  if (pass) {
    const points = chartPoints(block.kind, block.categories.length, block.series.length);
    const overBudget = pass.budget.add(points, () => pointerTo(root, spec));
    if (overBudget) throw new InputError("invalid_data", [overBudget]);
    pass.requests.push({ block, size, spec: spec as object });
    return "";
  }
  const next = drawn.get(root)?.shift();
  if (!next || next.spec !== spec) throw new Error("chart: the chart was not drawn before the render");
  return next.svg;
}

const KINDS = new Set(["bar", "line", "pie"]);

/** The spec checked as the report template's schema and rules check a chart block. */
function chartBlock(spec: unknown): ChartBlock {
  const fail = (why: string): never => {
    throw new Error(`chart: ${why}`);
  };
  if (!isObject(spec)) return fail("the spec is not an object");
  const { kind, title, unit, stacked, categories, series } = spec;
  if (typeof kind !== "string" || !KINDS.has(kind)) return fail('kind is "bar", "line" or "pie"');
  if (title !== undefined && typeof title !== "string") fail("title is text");
  if (unit !== undefined && typeof unit !== "string") fail("unit is text");
  if (stacked !== undefined && typeof stacked !== "boolean") fail("stacked is true or false");
  if (!Array.isArray(categories) || categories.length === 0 || categories.length > 1000) {
    fail("categories is a list of 1 to 1000 names");
  }
  const names = categories as unknown[];
  if (!names.every((c) => typeof c === "string" || typeof c === "number")) fail("each category is text or a number");
  if (!Array.isArray(series) || series.length === 0 || series.length > 20) fail("series is a list of 1 to 20 series");
  for (const [i, s] of (series as unknown[]).entries()) {
    if (!isObject(s) || typeof s.name !== "string" || !Array.isArray(s.data)) {
      fail(`series[${i}] is { "name": text, "data": [numbers] }`);
    }
    const data = (s as { data: unknown[] }).data;
    if (data.length !== names.length) fail(`series[${i}] has ${data.length} values for ${names.length} categories`);
    if (!data.every((v) => v === null || (typeof v === "number" && Number.isFinite(v)))) {
      fail(`series[${i}]'s values are numbers (or null)`);
    }
    if (kind === "pie" && data.some((v) => typeof v === "number" && v < 0)) fail("a slice of a pie cannot be negative");
  }
  if (kind === "pie" && (series as unknown[]).length > 1) fail("a pie chart draws one series");
  if (kind === "pie" && stacked === true) fail("only bar and line charts stack");
  return {
    type: "chart",
    kind: kind as ChartBlock["kind"],
    title: title as string | undefined,
    unit: unit as string | undefined,
    stacked: stacked as boolean | undefined,
    categories: names as (string | number)[],
    series: (series as { name: string; data: (number | null)[] }[]).map((s) => ({ name: s.name, data: s.data })),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The JSON Pointer of the first place in `root` that holds `target` (the same object, or an equal
 * text), "" when none does: where a helper's refused argument came from. Data is at most 100,000
 * values (the core's limit), and this runs only for a refusal.
 */
export function pointerTo(root: object, target: unknown): string {
  const stack: [unknown, string][] = [[root, ""]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (node === target) return path;
    if (typeof node !== "object" || node === null) continue;
    const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, value] = entries[i] as readonly [string, unknown];
      stack.push([value, `${path}/${escapePointer(key)}`]);
    }
  }
  return "";
}
