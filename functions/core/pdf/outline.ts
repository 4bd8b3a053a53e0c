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
  type RawPdf,
  dictEntries,
  pdfTextString,
  ref,
  refValue,
  textString,
  type DictEntry,
  type Edit,
} from "./pdf-bytes.ts";

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
