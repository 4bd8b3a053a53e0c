import { imageSize } from "image-size";
import type { Issue } from "../../functions/core/kit.ts";
import { ChartBudget, chartPoints, ImageBudget } from "./budgets.ts";
import type { Cell, ReportData } from "./data.ts";
import { asCellObject, layoutSection, MAX_COLUMNS, tableWidth, type GridProblem } from "./grid.ts";

/**
 * What the JSON Schema cannot say about blocks: tables whose cells do not fit the header, images
 * that are not data: URLs, charts whose series do not match their categories. (An unknown block
 * `type` is the schema's: an enum error at /blocks/N/type.)
 *
 * Runs whether or not the schema passed, so that one answer lists every problem; each check looks
 * only at blocks whose own shape it can trust. The images and charts of the report together are held
 * to the budgets of budgets.ts.
 */
export function reportRules(data: ReportData, _schemaValid: boolean): Issue[] {
  const issues: Issue[] = [];
  const blocks: unknown = (data as { blocks?: unknown } | null)?.blocks;
  if (!Array.isArray(blocks)) return issues;
  const images = new ImageBudget();
  const charts = new ChartBudget();
  blocks.forEach((block: unknown, i) => {
    if (!isObject(block)) return;
    const path = `/blocks/${i}`;
    if (block.type === "table") issues.push(...tableRules(block, path));
    else if (block.type === "image") issues.push(...imageRules(block, path, images));
    else if (block.type === "chart") issues.push(...chartRules(block, path, charts));
  });
  return issues;
}

// ── tables ───────────────────────────────────────────────────────────────────────────────

function isRows(value: unknown): value is Cell[][] {
  return Array.isArray(value) && value.every((row) => Array.isArray(row));
}

function tableRules(table: Record<string, unknown>, path: string): Issue[] {
  const header = table.header === undefined ? [] : table.header;
  const rows = table.rows;
  if (!isRows(header) || !isRows(rows)) return [];
  const columns = Array.isArray(table.columns) ? table.columns : undefined;
  const width = tableWidth({ header, columns, rows });
  // Checked first, as the grid below is as wide as the table (a colspan of 10⁹ must not become one).
  if (width > MAX_COLUMNS) {
    return [
      {
        rule: "table-columns",
        path: header.length > 0 ? `${path}/header/0` : `${path}/rows/0`,
        message: `the table is ${width} columns wide; at most ${MAX_COLUMNS} fit a page`,
        expected: MAX_COLUMNS,
        actual: width,
      },
    ];
  }
  const issues: Issue[] = [];
  if (header.length > 0 && columns && columns.length !== width) {
    issues.push({
      rule: "table-columns",
      path: `${path}/columns`,
      message: `the header is ${width} columns wide but ${columns.length} columns are described`,
      expected: width,
      actual: columns.length,
    });
  }
  const section = (name: "header" | "rows", part: Cell[][]) =>
    layoutSection(part, width).problems.map((p) => gridIssue(`${path}/${name}`, part, p, name === "header"));
  issues.push(...section("header", header), ...section("rows", rows));
  return issues;
}

function gridIssue(path: string, part: Cell[][], p: GridProblem, isHeader: boolean): Issue {
  const against = isHeader ? "the header's first row" : "the header";
  if (p.kind === "colspan") {
    const cell = asCellObject(part[p.row]?.[p.cell ?? 0] ?? null);
    const at = `${path}/${p.row}/${p.cell}`;
    return {
      rule: "table-colspan",
      path: typeof cell.colspan === "number" && cell.colspan > 1 ? `${at}/colspan` : at,
      message: `the cells of this row reach column ${p.actual}, but ${against} is ${p.expected} columns wide`,
      expected: p.expected,
      actual: p.actual,
    };
  }
  if (p.kind === "rowspan") {
    return {
      rule: "table-rowspan",
      path: `${path}/${p.row}/${p.cell}/rowspan`,
      message: `rowspan reaches past the last row of the ${isHeader ? "header" : "table body"}: at most ${p.expected} rows remain`,
      expected: p.expected,
      actual: p.actual,
    };
  }
  return {
    rule: "table-row-width",
    path: `${path}/${p.row}`,
    message: `this row fills ${p.actual} of ${p.expected} columns; give every column a cell ("" or null for an empty one)`,
    expected: p.expected,
    actual: p.actual,
  };
}

// ── images ───────────────────────────────────────────────────────────────────────────────

/** Raster formats and SVG (which, as an <img>, can neither run script nor fetch anything). */
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"];

export function isImageDataUrl(src: string): boolean {
  const m = /^data:([a-z]+\/[a-z0-9.+-]+)((?:;[a-z0-9-]+=[^;,]*)*)(;base64)?,/i.exec(src);
  if (!m || !IMAGE_TYPES.includes((m[1] ?? "").toLowerCase())) return false;
  if (!m[3]) return true; // percent-encoded (typical of SVG)
  return /^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(src.slice(m[0].length));
}

/**
 * Pixels an image may decode to. Chromium holds a decoded image as 4 bytes a pixel: a few hundred
 * bytes of PNG can declare 100,000 × 100,000 pixels (40 GB). A4 at 600 dpi is about 35 million.
 */
const MAX_IMAGE_PIXELS = 40_000_000;
const MAX_IMAGE_SIDE = 20_000;

function imageRules(image: Record<string, unknown>, path: string, budget: ImageBudget): Issue[] {
  if (typeof image.src !== "string") return [];
  if (isImageDataUrl(image.src)) return imageSizeRules(image.src, `${path}/src`, budget);
  const src = image.src;
  return [
    {
      rule: "image-src",
      path: `${path}/src`,
      message: /^data:/i.test(src)
        ? `must be a data: URL of an image (${IMAGE_TYPES.join(", ")}), base64 or percent-encoded`
        : "must be a data: URL (data:image/png;base64,…): the renderer fetches nothing from the network",
      expected: "data:image/…",
      actual: src.length > 80 ? `${src.slice(0, 80)}…` : src,
    },
  ];
}

/** SVGs inside SVGs this deep are looked into; an image nested deeper is refused, not skipped. */
const MAX_IMAGE_NESTING = 2;

/** Character references an SVG's text may spell "data:" with (XML's, and HTML's &colon;). */
function decodeXmlReferences(text: string): string {
  const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", colon: ":" };
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] !== "#") return named[ref.toLowerCase()] ?? whole;
    const code =
      ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/**
 * The image's own size, read from its header, whatever type its data: URL claims (Chromium decodes
 * by the bytes). In an SVG, every data: URL it holds is looked at the same way: Chromium decodes the
 * rasters an SVG embeds, of any declared type. Rasters within the limits count against `budget`.
 */
function imageSizeRules(src: string, path: string, budget: ImageBudget, depth = 0): Issue[] {
  const comma = src.indexOf(",");
  const meta = src.slice(0, comma);
  const body = src.slice(comma + 1);
  let bytes: Uint8Array;
  try {
    bytes = /;base64$/i.test(meta) ? Buffer.from(body, "base64") : Buffer.from(decodeURIComponent(body), "utf8");
  } catch {
    return [
      { rule: "image-src", path, message: "the data: URL's percent-encoding is broken", expected: "data:image/…" },
    ];
  }
  let size: { width?: number; height?: number; type?: string };
  try {
    size = imageSize(bytes);
  } catch {
    // An SVG without a size of its own takes the size it is given; anything else must be readable.
    if (!/^data:image\/svg\+xml/i.test(meta)) {
      return [{ rule: "image-format", path, message: `the data: URL (${meta.slice(5)}) holds no readable image` }];
    }
    size = { type: "svg" };
  }
  const issues: Issue[] = [];
  const { width = 0, height = 0 } = size;
  const isSvg = size.type === "svg";
  if (!isSvg && (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS)) {
    issues.push({
      rule: "image-pixels",
      path,
      message: `the image is ${width} × ${height} pixels; at most ${MAX_IMAGE_SIDE} a side and ${MAX_IMAGE_PIXELS / 1e6} million in all (A4 at 600 dpi is about 35 million)`,
      expected: `≤ ${MAX_IMAGE_SIDE} × ${MAX_IMAGE_SIDE}, ≤ ${MAX_IMAGE_PIXELS} pixels`,
      actual: `${width} × ${height}`,
    });
  } else if (!isSvg) {
    const overBudget = budget.add(src, width * height, () => path);
    if (overBudget) issues.push(overBudget);
  }
  if (!isSvg) return issues;
  const text = decodeXmlReferences(Buffer.from(bytes).toString("utf8"));
  for (const m of text.matchAll(/data:[^,"'()<>\s]*,[^"'()<>\s]*/gi)) {
    if (depth + 1 > MAX_IMAGE_NESTING) {
      issues.push({
        rule: "image-nesting",
        path,
        message: `images inside SVGs are looked into ${MAX_IMAGE_NESTING} levels deep; this one nests deeper`,
        expected: MAX_IMAGE_NESTING,
      });
      break;
    }
    issues.push(...imageSizeRules(m[0], path, budget, depth + 1));
  }
  return issues;
}

// ── charts ───────────────────────────────────────────────────────────────────────────────

function chartRules(chart: Record<string, unknown>, path: string, budget: ChartBudget): Issue[] {
  const issues: Issue[] = [];
  const categories = Array.isArray(chart.categories) ? chart.categories : undefined;
  const series = Array.isArray(chart.series) ? chart.series : [];
  const overBudget = budget.add(chartPoints(chart.kind, categories?.length ?? 0, series.length), () => path);
  if (overBudget) issues.push(overBudget);
  series.forEach((s: unknown, j) => {
    if (!isObject(s) || !Array.isArray(s.data) || !categories) return;
    if (s.data.length !== categories.length) {
      issues.push({
        rule: "chart-series-length",
        path: `${path}/series/${j}/data`,
        message: `has ${s.data.length} values for ${categories.length} categories: give one value (or null) per category`,
        expected: categories.length,
        actual: s.data.length,
      });
    }
  });
  if (chart.kind === "pie") {
    if (series.length > 1) {
      issues.push({
        rule: "chart-pie-series",
        path: `${path}/series`,
        message: "a pie chart draws one series: give one, or use a bar chart to compare several",
        expected: 1,
        actual: series.length,
      });
    }
    const first: unknown = series[0];
    if (isObject(first) && Array.isArray(first.data)) {
      first.data.forEach((v: unknown, k) => {
        if (typeof v === "number" && v < 0) {
          issues.push({
            rule: "chart-pie-negative",
            path: `${path}/series/0/data/${k}`,
            message: "a slice of a pie cannot be negative",
            actual: v,
          });
        }
      });
    }
  }
  if (chart.stacked === true && chart.kind === "pie") {
    issues.push({ rule: "chart-stacked", path: `${path}/stacked`, message: "only bar and line charts stack" });
  }
  return issues;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
