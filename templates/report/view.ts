import { pageBox, type PageDefaults, type RenderOptions } from "../../functions/core/kit.ts";
import { chartSvg, type ChartSize } from "./charts.ts";
import {
  isChinese,
  reportLang,
  type Block,
  type Cell,
  type ChartBlock,
  type Column,
  type ImageBlock,
  type ListItem,
  type ReportData,
  type TableBlock,
} from "./data.ts";
import { isImageDataUrl } from "./rules.ts";
import { asCellObject, layoutSection, tableWidth, type PlacedCell } from "./grid.ts";

/** A4 portrait; margins leave room for the running header and footer in the margin boxes. */
export const PAGE_DEFAULTS: PageDefaults = {
  size: "A4",
  orientation: "portrait",
  margin: { top: "25mm", right: "20mm", bottom: "25mm", left: "20mm" },
};

// Handlebars runs in strict mode: every key a partial reads is present (null when unused).

export interface CellView {
  text: string;
  /** Alignment (l, c, r), plus "num" for numbers (tabular figures). */
  cls: string;
  colspan: number | null;
  rowspan: number | null;
}

export interface TableView {
  partial: "table";
  caption: string | null;
  note: string | null;
  cols: { style: string }[] | null;
  head: CellView[][];
  /** Rows joined by a rowspan share a tbody that is kept on one page (when it fits). */
  bodies: { keep: boolean; rows: CellView[][] }[];
}

interface ListView {
  ordered: boolean;
  items: { text: string; children: ListView | null }[];
}

type BlockView =
  | { partial: "heading1" | "heading2"; id: string; text: string }
  | { partial: "heading3"; text: string }
  | { partial: "paragraph"; text: string }
  | ({ partial: "list" } & ListView)
  | { partial: "keyValue"; items: { key: string; value: string; wrap: boolean }[] }
  | TableView
  | { partial: "image"; src: string | null; alt: string; style: string; caption: string | null }
  | { partial: "chart"; svg: string; label: string }
  | { partial: "pageBreak" };

/** An entry of the table of contents; its page number is the core's <page-ref> to `id`. */
export interface TocEntry {
  id: string;
  text: string;
  level: 1 | 2;
}

export interface ReportView {
  lang: string;
  zh: boolean;
  title: string;
  /** The title as the running header shows it: one line, shortened with "…" when longer. */
  runningTitle: string;
  subtitle: string | null;
  byline: string | null;
  toc: { title: string; entries: TocEntry[] } | null;
  blocks: BlockView[];
}

export async function reportView(data: ReportData, options: RenderOptions): Promise<ReportView> {
  const lang = reportLang(data);
  const zh = isChinese(lang);
  const geometry = typeArea(options);
  const blocks: BlockView[] = [];
  const tocEntries: TocEntry[] = [];

  // A page break with nothing after it would only leave an empty last page.
  let last = data.blocks.length - 1;
  while (last >= 0 && data.blocks[last]?.type === "pageBreak") last--;

  for (const [i, block] of data.blocks.slice(0, last + 1).entries()) {
    const view = await blockView(block, i, lang, geometry);
    blocks.push(view);
    if (block.type === "heading" && block.level <= 2) {
      tocEntries.push({ id: `s${i}`, text: normalize(block.text), level: block.level as 1 | 2 });
    }
  }

  const byline = [data.author?.trim(), data.date ? formatDate(data.date, lang) : undefined].filter(Boolean);
  return {
    lang,
    zh,
    title: data.title,
    runningTitle: shorten(data.title, RUNNING_TITLE_LENGTH),
    subtitle: data.subtitle?.trim() || null,
    byline: byline.length ? byline.join(zh ? "　" : " · ") : null,
    toc: data.toc && tocEntries.length > 0 ? { title: zh ? "目录" : "Contents", entries: tocEntries } : null,
    blocks,
  };
}

/** HTML white space (not U+3000, which is text) collapsed to one space, as a browser shows it. */
function normalize(text: string): string {
  return text.replace(/[ \t\n\f\r]+/g, " ").replace(/^ | $/g, "");
}

function formatDate(date: string, lang: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  try {
    return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeZone: "UTC" }).format(d);
  } catch {
    return date;
  }
}

// ── blocks ───────────────────────────────────────────────────────────────────────────────

async function blockView(block: Block, i: number, lang: string, area: TypeArea): Promise<BlockView> {
  switch (block.type) {
    case "heading": {
      const text = normalize(block.text);
      return block.level === 3
        ? { partial: "heading3", text }
        : { partial: block.level === 1 ? "heading1" : "heading2", id: `s${i}`, text };
    }
    case "paragraph":
      return { partial: "paragraph", text: block.text };
    case "list":
      return { partial: "list", ...listView(block.items, block.ordered === true) };
    case "keyValue":
      return {
        partial: "keyValue",
        // A key stays on one line (the key column is as wide as the longest) unless it is too long
        // to: then it wraps inside a column of its own share of the width.
        items: block.items.map((item) => ({
          key: item.key,
          value: scalar(item.value, lang),
          wrap: item.key.length > KEY_ON_ONE_LINE,
        })),
      };
    case "table":
      return tableView(block, lang, area);
    case "image":
      return imageView(block, area);
    case "chart":
      return chartView(block, i, lang, area);
    case "pageBreak":
      return { partial: "pageBreak" };
  }
}

function scalar(value: string | number, lang: string): string {
  return typeof value === "number" ? new Intl.NumberFormat(lang, { maximumFractionDigits: 20 }).format(value) : value;
}

function listView(items: ListItem[], ordered: boolean): ListView {
  return {
    ordered,
    items: items.map((item) => {
      if (typeof item !== "object") return { text: String(item), children: null };
      return {
        text: String(item.text),
        children: item.items?.length ? listView(item.items, ordered) : null,
      };
    }),
  };
}

// ── tables ───────────────────────────────────────────────────────────────────────────────

type Format = (value: number) => string;

function columnFormat(column: Column | undefined, lang: string): Format {
  const decimals = column?.decimals;
  const digits =
    decimals === undefined
      ? { maximumFractionDigits: 20 }
      : { minimumFractionDigits: decimals, maximumFractionDigits: decimals };
  switch (column?.format) {
    case "number": {
      const f = new Intl.NumberFormat(lang, digits);
      return (v) => f.format(v);
    }
    case "percent": {
      const f = new Intl.NumberFormat(lang, {
        style: "percent",
        ...(decimals === undefined ? { maximumFractionDigits: 2 } : digits),
      });
      return (v) => f.format(v);
    }
    default:
      return (v) => String(v);
  }
}

const ALIGN = { left: "l", center: "c", right: "r" } as const;
/** Characters of the title the running header shows: a margin box is one line that cannot wrap. */
const RUNNING_TITLE_LENGTH = 60;

function shorten(text: string, length: number): string {
  const chars = [...text.replace(/\s+/g, " ").trim()];
  return chars.length <= length
    ? chars.join("")
    : `${chars
        .slice(0, length - 1)
        .join("")
        .trimEnd()}…`;
}

/** Characters of a key–value key that always fit one line beside its value. */
const KEY_ON_ONE_LINE = 40;

/** A run this long with no break opportunity (URLs, IDs, digits) may break anywhere. */
const LONG_WORD = /[^\s\u2e80-\uffff]{30}/u;

function tableView(table: TableBlock, lang: string, area: TypeArea): TableView {
  const header = table.header ?? [];
  const width = tableWidth(table);
  const columns = Array.from({ length: width }, (_, c) => table.columns?.[c]);
  const formats = columns.map((column) => columnFormat(column, lang));

  const cells = (rows: Cell[][], head: boolean) => {
    const layout = layoutSection(rows, width);
    const views = layout.rows.map((placed, r) =>
      placed.map(({ index, column, colspan, rowspan }): CellView => {
        const cell = asCellObject(rows[r]?.[index] ?? null);
        const value = cell.text;
        const col = columns[column];
        const numeric = typeof value === "number";
        const text = numeric ? (head ? String(value) : (formats[column] ?? String)(value)) : (value ?? "");
        const numberish = col?.format === "number" || col?.format === "percent" || numeric;
        const align = cell.align ?? (head ? "center" : (col?.align ?? (numberish ? "right" : "left")));
        let cls: string = ALIGN[align];
        if (numeric) cls += " num";
        else if (LONG_WORD.test(text)) cls += " brk";
        return { text, cls, colspan: colspan > 1 ? colspan : null, rowspan: rowspan > 1 ? rowspan : null };
      }),
    );
    return { layout, views };
  };

  const head = cells(header, true);
  keepShortHeadersWhole(head.layout.rows, head.views, width, area);
  const body = cells(table.rows, false);
  // Rows joined by a rowspan form one tbody kept on one page; the other rows run freely.
  const reach = body.layout.reach;
  const bodies: TableView["bodies"] = [];
  let loose: CellView[][] = [];
  for (let r = 0; r < body.views.length; ) {
    let end = reach[r] ?? r;
    for (let k = r; k <= end; k++) end = Math.max(end, reach[k] ?? k);
    if (end === r) {
      loose.push(body.views[r] ?? []);
    } else {
      if (loose.length) bodies.push({ keep: false, rows: loose });
      loose = [];
      bodies.push({ keep: true, rows: body.views.slice(r, end + 1) });
    }
    r = end + 1;
  }
  if (loose.length) bodies.push({ keep: false, rows: loose });

  const widths = columns.map((c) => c?.width);
  return {
    partial: "table",
    caption: table.caption?.trim() || null,
    note: table.note?.trim() || null,
    cols: widths.some(Boolean) ? widths.map((w) => ({ style: w ? `width:${w}` : "" })) : null,
    head: head.views,
    bodies,
  };
}

/**
 * Column headers of a few words read badly broken over two lines ("金额（万 / 元）"), and the
 * browser's automatic table layout gives them no more than their narrowest width when a text
 * column is hungry. Keep single-column headers of up to 8 characters on one line, if all of them
 * together still fit across the type area.
 */
function keepShortHeadersWhole(placed: PlacedCell[][], views: CellView[][], width: number, area: TypeArea): void {
  const em = (9.5 * 96) / 72;
  const padding = 2 * ((2 * 96) / 25.4) + 1;
  const need = new Array<number>(width).fill(3 * em);
  const short: CellView[] = [];
  placed.forEach((row, r) => {
    row.forEach((p, k) => {
      const view = views[r]?.[k];
      if (!view || p.colspan !== 1 || [...view.text].length > 8) return;
      need[p.column] = Math.max(need[p.column] ?? 0, textWidthEm(view.text) * em + padding);
      short.push(view);
    });
  });
  if (need.reduce((a, b) => a + b, 0) > area.width * 0.92) return;
  for (const view of short) view.cls += " nw";
}

/** Width of text in em: CJK ≈ 1 em, everything else ≈ 0.55 em. */
function textWidthEm(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u2e80-\uffff]/u.test(ch) || (ch.codePointAt(0) ?? 0) > 0xffff ? 1 : 0.55;
  return w;
}

// ── images and charts ────────────────────────────────────────────────────────────────────

function imageView(image: ImageBlock, area: TypeArea): BlockView {
  // At most the type area: tall images shrink to fit one page with their caption.
  const maxHeight = Math.floor(area.height * 0.8);
  const width = image.width ? `width:${image.width};` : "";
  return {
    partial: "image",
    // Only with validation "warn" can another URL get here; it is left out rather than fetched.
    src: isImageDataUrl(image.src) ? image.src : null,
    // The figure's alternative text in the tagged PDF: the alt given, else the caption ("" = decorative).
    alt: image.alt ?? image.caption?.trim() ?? "",
    style: `${width}max-height:${maxHeight}px`,
    caption: image.caption?.trim() || null,
  };
}

async function chartView(chart: ChartBlock, index: number, lang: string, area: TypeArea): Promise<BlockView> {
  const width = Math.floor(area.width);
  const ratio = chart.kind === "pie" ? 0.42 : 0.52;
  const height = Math.round(Math.min(Math.max(width * ratio, 220), area.height * 0.6, 420));
  const size: ChartSize = { width, height };
  const names = chart.series.map((s) => s.name).join(", ");
  return {
    partial: "chart",
    svg: await chartSvg(chart, size, lang, `chart${index}`),
    label: [chart.title, names].filter(Boolean).join(": ") || "chart",
  };
}

// ── the page ─────────────────────────────────────────────────────────────────────────────

interface TypeArea {
  /** CSS px (96 per inch). */
  width: number;
  height: number;
}

/** CSS px (96 per inch) per millimetre. */
const PX_PER_MM = 96 / 25.4;

/** The page's type area in CSS px, from the same options that page-css.ts turns into @page. */
function typeArea(options: RenderOptions): TypeArea {
  const { typeArea: mm } = pageBox(PAGE_DEFAULTS, options.page);
  return { width: Math.max(160, mm.width * PX_PER_MM), height: Math.max(160, mm.height * PX_PER_MM) };
}
