import { writeFileSync } from "node:fs"; // TEMP
import { countPages, outlineTitleEdits } from "./outline.ts";
import { PdfLayoutError, RawPdf, isWhite, pdfTextString, ref, type Edit } from "./pdf-bytes.ts";
import type { PdfMetadata } from "./types.ts";

export interface FinalMetadata extends PdfMetadata {
  title: string;
  producer: string;
  /** A date the input itself states (e.g. the report's date); absent means none is written. */
  date?: Date;
  /** Stable identity of the input (hex, e.g. sha256 of the envelope): becomes the PDF's /ID. */
  documentId: string;
}

/**
 * Make Chromium's PDF ours and reproducible, in one pass over its bytes:
 * - replace the document information dictionary (Chromium writes the wall-clock time and its own
 *   producer) with one derived from the input alone;
 * - mend bookmark titles Chromium garbled (outline.ts), given the headings' real texts;
 * - renumber the tagged-PDF structure IDs (Chromium uses DOM node ids, which differ per render);
 * - add a trailer /ID from the input's hash.
 * Also counts the pages, from the page tree.
 */
export function finalizePdf(
  raw: Uint8Array,
  meta: FinalMetadata,
  headings: string[],
): { pdf: Uint8Array; pages: number } {
  if (!/^[0-9A-Fa-f]{32,}$/.test(meta.documentId)) {
    throw new TypeError("documentId must be at least 32 hex digits (e.g. a sha256)");
  }
  if (process.env.DEBUG_RAW_DUMP) (globalThis as any).__n = ((globalThis as any).__n ?? 0) + 1, writeFileSync(`${process.env.DEBUG_RAW_DUMP}${(globalThis as any).__n}.pdf`, raw); // TEMP
  const reader = new RawPdf(raw);
  const infoNumber = ref(reader.trailer, "Info");
  if (infoNumber === undefined) throw new PdfLayoutError("no /Info in the trailer");
  const infoAt = reader.bodyOffset(infoNumber);
  const infoEnd = infoAt + reader.dict(infoNumber).length;
  const edits: Edit[] = [{ at: infoAt, end: infoEnd, text: `\n${infoDictionary(meta)}` }, ...outlineTitleEdits(reader, headings)];
  edits.push(...structureIdEdits(reader, edits));
  const id = `<${meta.documentId.slice(0, 32).toUpperCase()}>`;
  const out = reader.splice(edits, `/ID [${id} ${id}]`);
  return { pdf: new Uint8Array(Buffer.from(out, "latin1")), pages: countPages(reader) };
}

/**
 * Chromium tags structure elements with "/ID (node00000123)" from DOM node ids (Skia's "node%08d"),
 * which differ per render and grow through a browser's life; number them 1, 2, 3… in the same order
 * instead, always 8 digits (ids past 99999999 have 9, and would sort wrongly as text). Renumbered
 * are the ids some element declares with /ID, wherever they occur as a string (/ID, /Headers, the
 * IDTree's /Names and /Limits); other text such as a bookmark titled "node12345678", an escaped
 * "\(node…)" or anything inside another edit (a title being replaced) is left alone.
 */
function structureIdEdits(reader: RawPdf, taken: Edit[]): Edit[] {
  const text = reader.text;
  const declared = new Set<string>();
  const at: number[] = [];
  const digits: string[] = [];
  const busy = [...taken].sort((a, b) => a.at - b.at);
  let next = 0;
  // A plain search: a long table has tens of thousands of these, in /Headers.
  for (let i = text.indexOf("(node"); i >= 0 && i < reader.xrefAt; i = text.indexOf("(node", i + 5)) {
    let end = i + 5;
    while (isDigit(text.charCodeAt(end))) end++;
    if (end - i - 5 < 8 || text.charCodeAt(end) !== 0x29 /* ) */ || text.charCodeAt(i - 1) === 0x5c /* \ */) continue;
    while (next < busy.length && (busy[next] as Edit).end <= i) next++;
    if (next < busy.length && (busy[next] as Edit).at <= i) continue;
    const id = text.slice(i + 5, end);
    let before = i - 1;
    while (isWhite(text.charCodeAt(before))) before--;
    if (text.startsWith("/ID", before - 2)) declared.add(id);
    at.push(i);
    digits.push(id);
  }
  // Numeric order: by length, then as text. Only ids whose number changes need an edit.
  const ids = [...declared].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const renumbered = new Map<string, string>();
  ids.forEach((id, i) => {
    const replacement = String(i + 1).padStart(8, "0");
    if (replacement !== id) renumbered.set(id, `(node${replacement})`);
  });
  const edits: Edit[] = [];
  for (let k = 0; k < digits.length; k++) {
    const id = digits[k] as string;
    const replacement = renumbered.get(id);
    const from = at[k] as number;
    if (replacement !== undefined) edits.push({ at: from, end: from + id.length + 6, text: replacement });
  }
  return edits;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function infoDictionary(meta: FinalMetadata): string {
  const entries: [string, string | undefined][] = [
    ["Title", meta.title],
    ["Author", meta.author],
    ["Subject", meta.subject],
    ["Keywords", Array.isArray(meta.keywords) ? meta.keywords.join(", ") : meta.keywords],
    ["Creator", meta.producer],
    ["Producer", meta.producer],
  ];
  const lines = entries.filter(([, v]) => v).map(([k, v]) => `/${k} ${pdfTextString(v ?? "")}`);
  if (meta.date) {
    const d = pdfDate(meta.date);
    lines.push(`/CreationDate ${d}`, `/ModDate ${d}`);
  }
  return `<<${lines.join("\n")}>>`;
}

function pdfDate(date: Date): string {
  const iso = date.toISOString(); // 2026-11-26T00:00:00.000Z
  return `(D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z)`;
}
