import { layoutSection, tableWidth } from "../../templates/report/grid.ts";
import { squash, textLines, type TextLine } from "./pdf.ts";

/** The running header (title) and footer ("第 X 页 共 Y 页" / "Page X of Y") at the start of a page's text. */
export function withoutRunningText(pageText: string, title: string): string {
  const t = squash(pageText);
  const header = squash(title);
  const footer = /^(?:第\d+页共\d+页|Page\d+of\d+)/;
  let rest = t.startsWith(header) ? t.slice(header.length) : t;
  rest = rest.replace(footer, "");
  // On page 1 the footer comes first and there is no header.
  return rest;
}

/** Every string a reader must find in the PDF for the given report data (numbers as formatted). */
export function expectedTexts(data: ReportLike): string[] {
  const out: string[] = [data.title];
  if (data.subtitle) out.push(data.subtitle);
  if (data.author) out.push(data.author);
  const nf = (lang: string, o: Intl.NumberFormatOptions = {}) => new Intl.NumberFormat(lang, o);
  const lang = data.lang ?? "zh-CN";
  const listTexts = (items: unknown[]): void => {
    for (const item of items) {
      if (typeof item === "object" && item !== null) {
        const o = item as { text: unknown; items?: unknown[] };
        out.push(String(o.text));
        if (o.items) listTexts(o.items);
      } else out.push(String(item));
    }
  };
  for (const block of data.blocks) {
    const b = block as Record<string, any>;
    switch (b.type) {
      case "heading":
        out.push(b.text);
        break;
      case "paragraph":
        out.push(...String(b.text).split("\n"));
        break;
      case "list":
        listTexts(b.items);
        break;
      case "keyValue":
        for (const { key, value } of b.items) {
          out.push(key, typeof value === "number" ? nf(lang).format(value) : value);
        }
        break;
      case "table": {
        if (b.caption) out.push(b.caption);
        if (b.note) out.push(...String(b.note).split("\n"));
        const cellText = (cell: unknown) =>
          cell !== null && typeof cell === "object" ? (cell as { text: unknown }).text : cell;
        for (const row of b.header ?? []) for (const cell of row) out.push(String(cellText(cell) ?? ""));
        const width = tableWidth(b as { rows: [][] });
        const layout = layoutSection(b.rows, width);
        b.rows.forEach((row: unknown[], r: number) => {
          row.forEach((cell, k) => {
            const value = cellText(cell);
            const column = layout.rows[r]?.[k]?.column ?? 0;
            const format = b.columns?.[column] ?? {};
            const digits =
              format.decimals === undefined
                ? undefined
                : { minimumFractionDigits: format.decimals, maximumFractionDigits: format.decimals };
            if (typeof value !== "number") out.push(String(value ?? ""));
            else if (format.format === "number")
              out.push(nf(lang, digits ?? { maximumFractionDigits: 20 }).format(value));
            else if (format.format === "percent")
              out.push(nf(lang, { style: "percent", ...(digits ?? {}) }).format(value));
            else out.push(String(value));
          });
        });
        break;
      }
      case "image":
        if (b.caption) out.push(b.caption);
        break;
      case "chart":
        if (b.title) out.push(b.title);
        out.push(...b.categories.map(String), ...b.series.map((s: { name: string }) => s.name));
        break;
    }
  }
  return out.filter((s) => s.trim() !== "");
}

export interface ReportLike {
  title: string;
  subtitle?: string;
  author?: string;
  lang?: string;
  toc?: boolean;
  blocks: unknown[];
}

/**
 * The table of contents as printed: each entry's text followed by its page number, read from the
 * lines of the pages before the first heading (an entry may take two lines; the number ends it).
 */
export async function tocFromPdf(
  pdf: Uint8Array,
  entries: string[],
): Promise<Map<string, { tocPage: number; page: number }>> {
  const lines = await textLines(pdf);
  const first =
    entries[0] === undefined
      ? 0
      : lines.findIndex((l, i) => i > 0 && squash(l.text) === squash(entries[0] ?? "") && l.page > 1);
  const tocLines = lines
    .slice(0, first < 0 ? lines.length : first)
    .filter((l) => l.page < (lines[first]?.page ?? Infinity));
  let text = "";
  const pageAt: number[] = [];
  for (const line of tocLines) {
    const t = squash(line.text);
    text += t;
    for (let k = 0; k < t.length; k++) pageAt.push(line.page);
  }
  const found = new Map<string, { tocPage: number; page: number }>();
  let from = 0;
  for (const entry of entries) {
    const re = new RegExp(`${escapeRegExp(squash(entry))}(\\d+)`, "g");
    re.lastIndex = from;
    const m = re.exec(text);
    if (!m) continue;
    from = m.index + m[0].length;
    found.set(entry, { tocPage: pageAt[from - 1] ?? 0, page: Number(m[1]) });
  }
  return found;
}

/** The page of the first heading after page `after` whose text is `heading` (on one or more lines). */
export function headingPage(lines: TextLine[], heading: string, after: number): number | undefined {
  const want = squash(heading);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line || line.page <= after) continue;
    let text = "";
    for (let k = i; k < lines.length && lines[k]?.page === line.page; k++) {
      text += squash(lines[k]?.text ?? "");
      if (text === want) return line.page;
      if (!want.startsWith(text)) break;
    }
  }
  return undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
