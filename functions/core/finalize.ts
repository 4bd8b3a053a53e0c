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
 * Make Chromium's PDF ours and reproducible, by editing its bytes in place:
 * - replace the document information dictionary (Chromium writes the wall-clock time and its
 *   own producer) with one derived from the input alone;
 * - renumber the tagged-PDF structure IDs (Chromium uses DOM node ids, which differ per render);
 * - add a trailer /ID from the input's hash.
 * Skia writes one classic xref table and no object streams, so this is a splice plus an offset
 * shift. A general PDF library (pdf-lib) did the same in 120–270 ms per report; this takes ~2 ms
 * and keeps the rest of the file exactly as Chromium wrote it.
 */
export function finalizePdf(raw: Uint8Array, meta: FinalMetadata): { pdf: Uint8Array; pages: number } {
  // latin1 maps bytes 1:1 to UTF-16 code units, so string offsets are byte offsets.
  let text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("latin1");
  text = renumberStructureIds(text);

  const trailerAt = text.lastIndexOf("\ntrailer\n");
  const xrefAt = text.lastIndexOf("\nxref\n", trailerAt) + 1;
  const trailer = /^trailer\n<<([\s\S]*?)>>\nstartxref\n(\d+)\n%%EOF\n?$/.exec(text.slice(trailerAt + 1));
  const infoNumber = /\/Info (\d+) 0 R/.exec(trailer?.[1] ?? "")?.[1];
  if (!trailer || xrefAt <= 0 || !infoNumber) throw new Error("unexpected PDF layout from Chromium");

  const objectAt = text.indexOf(`\n${infoNumber} 0 obj\n`) + 1;
  const bodyAt = objectAt + `${infoNumber} 0 obj\n`.length;
  const bodyEnd = text.indexOf("\nendobj\n", bodyAt);
  const info = infoDictionary(meta);
  const delta = info.length - (bodyEnd - bodyAt);

  const xref = text.slice(xrefAt, trailerAt + 1).replace(/^(\d{10}) (\d{5}) n $/gm, (line, offset: string, gen: string) =>
    Number(offset) > objectAt ? `${String(Number(offset) + delta).padStart(10, "0")} ${gen} n ` : line,
  );
  const id = `<${meta.documentId.slice(0, 32).toUpperCase()}>`;
  const out =
    text.slice(0, bodyAt) +
    info +
    text.slice(bodyEnd, xrefAt) +
    xref +
    `trailer\n<<${trailer[1]}\n/ID [${id} ${id}]>>\nstartxref\n${xrefAt + delta}\n%%EOF\n`;

  const pages = Number(/\/Type \/Pages\n\/Count (\d+)/.exec(text)?.[1] ?? Number.NaN);
  if (!Number.isInteger(pages)) throw new Error("unexpected PDF layout from Chromium: no page count");
  return { pdf: new Uint8Array(Buffer.from(out, "latin1")), pages };
}

/** Chromium tags structure elements with "(node00000123)" from DOM node ids; rank them instead. */
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
  const lines = entries.filter(([, v]) => v).map(([k, v]) => `/${k} ${pdfText(v ?? "")}`);
  if (meta.date) {
    const d = pdfDate(meta.date);
    lines.push(`/CreationDate ${d}`, `/ModDate ${d}`);
  }
  return `<<${lines.join("\n")}>>`;
}

/** A PDF text string as UTF-16BE hex with a byte order mark: any script, no escaping needed. */
function pdfText(value: string): string {
  const bytes = Buffer.from(value, "utf16le").swap16();
  return `<FEFF${bytes.toString("hex").toUpperCase()}>`;
}

function pdfDate(date: Date): string {
  const iso = date.toISOString(); // 2026-11-26T00:00:00.000Z
  return `(D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z)`;
}
