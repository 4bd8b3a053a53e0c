import { dictEntries, PdfLayoutError, type RawPdf, xrefSubsections } from "./pdf-bytes.ts";

/** An object written by an update: a new number, or an existing one it replaces. */
export interface UpdatedObject {
  num: number;
  /** The object's value (e.g. a dictionary's `<< … >>`), without `num 0 obj` and `endobj`. */
  body: string;
}

/**
 * The file with `objects` appended as an incremental update (ISO 32000-1, 7.5.6): the original bytes
 * untouched, then the objects, a classic xref section for them alone, and a trailer with /Prev
 * (the previous xref) and the original's other entries (/Root, /Info, /ID, /Encrypt) as they were.
 * `size` is the new /Size: one more than the highest object number in the file. Returns the file as
 * a latin1 string (one char per byte), so string offsets are byte offsets.
 */
export function appendUpdate(reader: RawPdf, objects: UpdatedObject[], size: number): string {
  const original = reader.text;
  const eol = /[\r\n]$/.test(original) ? "" : "\n";
  const parts: string[] = [original, eol];
  let at = original.length + eol.length;
  const offsets = new Map<number, number>();
  for (const { num, body } of objects) {
    if (!Number.isInteger(num) || num < 1 || num >= size)
      throw new RangeError(`object number ${num} outside 1…${size - 1}`);
    if (offsets.has(num)) throw new RangeError(`object ${num} written twice in one update`);
    if (/[^\0-\xff]/.test(body)) throw new RangeError(`object ${num} is not latin1 text`);
    const text = `${num} 0 obj\n${body}\nendobj\n`;
    offsets.set(num, at);
    parts.push(text);
    at += text.length;
  }
  const xrefAt = at;
  parts.push("xref\n", xrefSubsections(offsets));

  const kept = [...dictEntries(reader.trailer).values()].filter((e) => !["Size", "Prev", "XRefStm"].includes(e.key));
  const entries = [`/Size ${size}`, ...kept.map((e) => `/${e.key} ${e.value}`), `/Prev ${reader.xrefAt}`];
  if (!kept.some((e) => e.key === "ID")) throw new PdfLayoutError("the trailer has no /ID to keep");
  parts.push(`trailer\n<<${entries.join("\n")}>>\nstartxref\n${xrefAt}\n%%EOF\n`);
  return parts.join("");
}
