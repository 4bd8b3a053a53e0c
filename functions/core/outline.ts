/**
 * The bookmarks (document outline) of a PDF as Chromium writes it, with the page each one points to.
 *
 * Chromium prints with `outline: true`, so Skia writes one bookmark per h1–h6 heading (nested by
 * level, in document order): `<< /Title … /Dest [pageRef /XYZ x y 0] /First … /Next … >>`. Skia
 * writes a classic xref table, no object streams and uncompressed dictionaries, so the few objects
 * needed (catalog, page tree, outline items) are read straight from the bytes through the xref: no
 * PDF library, no full parse, a few milliseconds even for a long report.
 */
import {
  PdfLayoutError,
  RawPdf,
  dictEntries,
  pdfTextString,
  ref,
  refValue,
  textString,
  type DictEntry,
  type Edit,
} from "./pdf-bytes.ts";

export interface OutlineEntry {
  /** The heading's text as the bookmark shows it (white space collapsed by Chromium). */
  title: string;
  /** Depth in the bookmark tree, 1 for the top level. */
  level: number;
  /** 1-based page number the bookmark points to. */
  page: number;
}

export interface PdfOutline {
  pages: number;
  /** Every bookmark, in document order (a depth-first walk of the tree). */
  entries: OutlineEntry[];
}

export function readOutline(pdf: Uint8Array): PdfOutline {
  const reader = new RawPdf(pdf);
  const catalog = reader.dict(reader.rootRef());
  const pageNumbers = pageTree(reader, catalog);
  const entries: OutlineEntry[] = [];
  for (const item of outlineItems(reader, catalog)) {
    // Skia's destination is explicit: [pageRef /XYZ left top zoom].
    const target = /^\[[\0\t\n\f\r ]*(\d+)[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+R/.exec(
      item.entries.get("Dest")?.value ?? "",
    )?.[1];
    const page = target === undefined ? undefined : pageNumbers.get(Number(target));
    if (page !== undefined) entries.push({ title: titleSpan(item.entries)?.title ?? "", level: item.level, page });
  }
  return { pages: pageNumbers.size, entries };
}

interface OutlineItem {
  num: number;
  /** The item's dictionary entries, positions relative to reader.bodyOffset(num). */
  entries: Map<string, DictEntry>;
  level: number;
}

/** The outline items in document order: a depth-first walk of /First and /Next. */
function outlineItems(reader: RawPdf, catalog: string): OutlineItem[] {
  const items: OutlineItem[] = [];
  const outlinesRef = ref(catalog, "Outlines");
  if (outlinesRef === undefined) return items;
  const seen = new Set<number>();
  const visit = (first: number | undefined, level: number) => {
    for (let num = first; num !== undefined && !seen.has(num); ) {
      seen.add(num);
      const entries = dictEntries(reader.dict(num));
      items.push({ num, entries, level });
      visit(refValue(entries.get("First")?.value), level + 1);
      num = refValue(entries.get("Next")?.value);
    }
  };
  visit(ref(reader.dict(outlinesRef), "First"), 1);
  return items;
}

/**
 * Edits that give bookmarks the titles their headings really have. Chromium assembles a bookmark's
 * title from the heading's painted line boxes: a space at a line break is lost ("one linein the
 * table"), and a heading pushed to the next page by `break-after: avoid` can have its first line
 * twice. `headings` are the texts of the document's h1–h6 in order (see headingTexts); a title is
 * replaced only when the bookmarks pair with them one to one and Chromium's title is one of those
 * corruptions of the heading's text (so text Chromium leaves out on purpose, e.g. aria-hidden, stays out).
 */
export function outlineTitleEdits(reader: RawPdf, headings: string[]): Edit[] {
  const items = outlineItems(reader, reader.dict(reader.rootRef()));
  if (items.length === 0 || items.length !== headings.length) return [];
  const edits: Edit[] = [];
  items.forEach((item, i) => {
    const want = headings[i] ?? "";
    const found = titleSpan(item.entries);
    if (!found || !isCorruptionOf(found.title, want)) return;
    const base = reader.bodyOffset(item.num);
    edits.push({ at: base + found.start, end: base + found.end, text: `/Title ${pdfTextString(want)}` });
  });
  return edits;
}

/** Chromium's title lost spaces at line breaks, or repeats a leading part of the heading. */
function isCorruptionOf(title: string, heading: string): boolean {
  if (title === heading || heading === "") return false;
  const bare = (s: string) => s.replace(/\s+/g, "");
  const t = bare(title);
  const h = bare(heading);
  if (t === h) return true;
  // A leading part printed twice: the title is that part followed by the whole heading.
  return t.length > h.length && t.endsWith(h) && h.startsWith(t.slice(0, t.length - h.length));
}

/**
 * The text of each h1–h6 element of an HTML fragment, in document order, as a reader sees it:
 * tags removed, character references decoded, white space collapsed.
 */
export function headingTexts(html: string): string[] {
  const out: string[] = [];
  // Attribute values may hold ">" (quoted); comments are not text.
  const tag = `(?:[^>"']|"[^"]*"|'[^']*')*`;
  const heading = new RegExp(String.raw`<h([1-6])\b${tag}>([\s\S]*?)<\/h\1\s*>`, "gi");
  const markup = new RegExp(String.raw`<\/?[A-Za-z]${tag}>`, "g");
  for (const m of html.replace(/<!--[\s\S]*?-->/g, "").matchAll(heading)) {
    // HTML white space (not U+3000 and the like, which are text) collapses to one space.
    out.push(
      decodeEntities((m[2] ?? "").replace(markup, ""))
        .replace(/[ \t\n\f\r]+/g, " ")
        .replace(/^ | $/g, ""),
    );
  }
  return out;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/**
 * The number of pages, counted from the page tree's leaves. (Skia nests /Pages nodes of at most
 * 8 kids once a document has more than 8 pages, so the first /Count in the file is not the total.)
 */
export function countPages(reader: RawPdf): number {
  return pageTree(reader, reader.dict(reader.rootRef())).size;
}

/** Page object number → 1-based page number. */
export function pageTree(reader: RawPdf, catalog: string): Map<number, number> {
  const pagesRef = ref(catalog, "Pages");
  if (pagesRef === undefined) throw new PdfLayoutError("no page tree");
  const pageNumbers = new Map<number, number>();
  collectPages(reader, pagesRef, pageNumbers, 0);
  return pageNumbers;
}

/** Walk the page tree (Skia may nest /Pages nodes) and number the leaves in order. */
function collectPages(reader: RawPdf, node: number, out: Map<number, number>, depth: number): void {
  if (depth > 32) throw new PdfLayoutError("page tree too deep");
  const entries = dictEntries(reader.dict(node));
  const type = entries.get("Type")?.value;
  if (type === "/Page") {
    if (out.has(node)) throw new PdfLayoutError(`page ${node} twice in the page tree`);
    out.set(node, out.size + 1);
    return;
  }
  if (type !== "/Pages") throw new PdfLayoutError(`object ${node} in the page tree is neither /Page nor /Pages`);
  const kids = entries.get("Kids")?.value ?? "";
  if (!kids.startsWith("[")) throw new PdfLayoutError(`page tree node ${node} has no /Kids array`);
  for (const kid of kids.matchAll(/(\d+)[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+R/g))
    collectPages(reader, Number(kid[1]), out, depth + 1);
}

/** The /Title text (<FEFF…> UTF-16BE as Skia writes non-ASCII, a literal string for ASCII) and where its `/Title …` entry is. */
function titleSpan(entries: Map<string, DictEntry>): { title: string; start: number; end: number } | undefined {
  const entry = entries.get("Title");
  const title = entry === undefined ? undefined : textString(entry.value);
  return entry === undefined || title === undefined ? undefined : { title, start: entry.keyAt, end: entry.end };
}
