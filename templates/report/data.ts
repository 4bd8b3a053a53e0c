/** The data of the general `report` template (docs/contracts/report.md), as schema.json allows it. */
export interface ReportData {
  title: string;
  subtitle?: string;
  author?: string;
  /** YYYY-MM-DD: printed under the title and written as the PDF's creation date. */
  date?: string;
  /** BCP 47; zh-* switches the running footer, TOC title and number style to Chinese. */
  lang?: string;
  toc?: boolean;
  blocks: Block[];
}

export type Block =
  | HeadingBlock
  | ParagraphBlock
  | ListBlock
  | KeyValueBlock
  | TableBlock
  | ImageBlock
  | ChartBlock
  | PageBreakBlock;

export interface HeadingBlock {
  type: "heading";
  level: 1 | 2 | 3;
  text: string;
}

export interface ParagraphBlock {
  type: "paragraph";
  /** Plain text; "\n" is a line break. */
  text: string;
}

export type ListItem = string | number | { text: string | number; items?: ListItem[] };

export interface ListBlock {
  type: "list";
  ordered?: boolean;
  items: ListItem[];
}

export interface KeyValueBlock {
  type: "keyValue";
  items: { key: string; value: string | number }[];
}

export type Align = "left" | "center" | "right";

export interface CellObject {
  text: string | number | null;
  colspan?: number;
  rowspan?: number;
  align?: Align;
}

export type Cell = string | number | null | CellObject;

export interface Column {
  align?: Align;
  /** text (default): as given; number: digit grouping per `lang`; percent: a fraction shown as %. */
  format?: "text" | "number" | "percent";
  /** Fixed decimals for number and percent columns. */
  decimals?: number;
  /** A CSS width (e.g. "20%", "30mm"). */
  width?: string;
}

export interface TableBlock {
  type: "table";
  caption?: string;
  columns?: Column[];
  /** Header rows: repeated at the top of every page the table runs onto. */
  header?: Cell[][];
  rows: Cell[][];
  /** A note under the table (source, remarks). */
  note?: string;
}

export interface ImageBlock {
  type: "image";
  /** A data: URL (data:image/png;base64,…); nothing is fetched. */
  src: string;
  alt?: string;
  /** CSS width, e.g. "60%" or "80mm"; the default is the image's own size, at most the type area. */
  width?: string;
  caption?: string;
}

export interface ChartSeries {
  name: string;
  data: (number | null)[];
}

export interface ChartBlock {
  type: "chart";
  kind: "bar" | "line" | "pie";
  title?: string;
  categories: (string | number)[];
  series: ChartSeries[];
  /** The unit of the values (axis name), e.g. "件" or "万元". */
  unit?: string;
  /** Bars stacked per category (bar and line only). */
  stacked?: boolean;
}

export interface PageBreakBlock {
  type: "pageBreak";
}

export function isChinese(lang: string): boolean {
  return /^zh\b/i.test(lang);
}

/** data.lang, or a guess from the title when absent: CJK text means zh-CN, anything else en. */
export function reportLang(data: Pick<ReportData, "lang" | "title">): string {
  if (data.lang) return data.lang;
  return /[\u3400-\u9fff\uf900-\ufaff]/.test(data.title) ? "zh-CN" : "en";
}
