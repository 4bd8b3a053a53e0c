import { countPages, outlineTitleEdits } from "./outline.ts";
import { RawPdf, pdfTextString, ref, type Edit } from "./pdf-bytes.ts";
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
  const reader = new RawPdf(raw);
  const infoNumber = ref(reader.trailer, "Info");
  if (infoNumber === undefined) throw new Error("unexpected PDF layout from Chromium: no /Info");
  const infoAt = reader.bodyOffset(infoNumber);
  const infoEnd = infoAt + reader.dict(infoNumber).lastIndexOf(">>") + 2;
  const edits: Edit[] = [{ at: infoAt, end: infoEnd, text: `\n${infoDictionary(meta)}` }, ...outlineTitleEdits(reader, headings)];
  const id = `<${meta.documentId.slice(0, 32).toUpperCase()}>`;
  const out = renumberStructureIds(reader.splice(edits, `/ID [${id} ${id}]`));
  return { pdf: new Uint8Array(Buffer.from(out, "latin1")), pages: countPages(reader) };
}

/** Chromium tags structure elements with "(node00000123)" from DOM node ids; rank them instead (same length). */
function renumberStructureIds(text: string): string {
  const ids = [...new Set(text.match(/\(node\d{8}\)/g) ?? [])].sort();
  const rank = new Map(ids.map((id, i) => [id, `(node${String(i + 1).padStart(8, "0")})`]));
  return ids.length === 0 ? text : text.replace(/\(node\d{8}\)/g, (id) => rank.get(id) ?? id);
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
