import { pageTree } from "../pdf/index.ts";
import {
  arrayItems,
  dictEdits,
  dictEntries,
  type Edit,
  PdfLayoutError,
  type RawPdf,
  refValue,
  skipSpace,
  skipValue,
  streamObject,
} from "../pdf/index.ts";
import { SRGB_CONDITION, SRGB_PROFILE } from "./srgb-profile.ts";
import { type XmpFields, xmpPacket } from "./xmp.ts";

/**
 * What PDF/A-2b and PDF/A-3b (ISO 19005-2/-3, level B) ask of Chromium's PDF beyond what it already
 * is (every font embedded, no encryption, no JavaScript, no forbidden actions or annotations): the
 * XMP identification, an output intent for its DeviceRGB colour, print flags on annotations, and a
 * PDF 1.7 header. Each piece is bytes or edits for finalizePdf's one splice.
 */
export type PdfaStandard = "PDF/A-2b" | "PDF/A-3b";

export function pdfaPart(standard: PdfaStandard): 2 | 3 {
  return standard === "PDF/A-2b" ? 2 : 3;
}

/** The catalog's metadata stream (6.6.2.1): /Type /Metadata /Subtype /XML, UTF-8, not filtered. */
export function metadataStream(fields: XmpFields): string {
  return streamObject("/Type /Metadata\n/Subtype /XML", Buffer.from(xmpPacket(fields), "utf8").toString("latin1"));
}

/**
 * The sRGB output intent (6.2.3): Chromium paints in DeviceRGB (and DeviceGray in soft masks), which
 * PDF/A takes only under an output intent whose profile is RGB (6.2.4.3). Two objects, numbered
 * `first` (the ICC stream, /N 3) and `first + 1` (the intent); `entry` is the catalog's value.
 */
export function outputIntent(first: number): { objects: string[]; entry: string } {
  const profile = streamObject("/N 3", Buffer.from(SRGB_PROFILE).toString("latin1"));
  const intent = [
    "<</Type /OutputIntent",
    "/S /GTS_PDFA1",
    `/OutputConditionIdentifier (${SRGB_CONDITION})`,
    "/RegistryName (http://www.color.org)",
    `/Info (${SRGB_CONDITION})`,
    `/DestOutputProfile ${first} 0 R>>`,
  ].join("\n");
  return { objects: [profile, intent], entry: `[${first + 1} 0 R]` };
}

/** Annotation flags: Invisible, Hidden, Print, NoView, ToggleNoView (ISO 32000-1, 12.5.3). */
const INVISIBLE = 1;
const HIDDEN = 2;
const PRINT = 4;
const NO_VIEW = 32;
const TOGGLE_NO_VIEW = 256;

/**
 * Every annotation but a Popup with /F, its Print flag set and Hidden, Invisible, NoView and
 * ToggleNoView clear (6.3.2). Chromium writes /F 4 on its links already; this holds whatever it writes.
 */
export function annotationFlagEdits(reader: RawPdf): Edit[] {
  const edits: Edit[] = [];
  const seen = new Set<number>();
  const seenArrays = new Set<number>();
  const fix = (dict: string, base: number, where: string): void => {
    const entries = dictEntries(dict);
    if (entries.get("Subtype")?.value === "/Popup") return;
    const flags = entries.get("F")?.value;
    if (flags !== undefined && !/^\d+$/.test(flags))
      throw new PdfLayoutError(`${where} has flags /F ${flags.slice(0, 20)}`);
    const wanted = (Number(flags ?? 0) | PRINT) & ~(INVISIBLE | HIDDEN | NO_VIEW | TOGGLE_NO_VIEW);
    if (flags === undefined || Number(flags) !== wanted) edits.push(...dictEdits(dict, base, [["F", String(wanted)]]));
  };
  for (const page of pageTree(reader, reader.dict(reader.rootRef())).keys()) {
    const entry = dictEntries(reader.dict(page)).get("Annots");
    if (!entry) continue;
    // The array itself, or an indirect object holding it.
    let text = entry.value;
    let at = 0;
    const held = refValue(entry.value);
    if (held !== undefined && seenArrays.has(held)) continue; // pages sharing one /Annots array
    if (held !== undefined) {
      seenArrays.add(held);
      text = reader.text;
      at = skipSpace(text, reader.bodyOffset(held));
      skipValue(text, at);
    }
    for (const item of arrayItems(text, at)) {
      const num = refValue(item.value);
      if (num === undefined) {
        if (!item.value.startsWith("<<")) throw new PdfLayoutError(`page ${page} has an annotation ${item.value}`);
        const base = held === undefined ? reader.bodyOffset(page) + entry.at + item.at : item.at;
        fix(item.value, base, `an annotation of page ${page}`);
      } else if (!seen.has(num)) {
        seen.add(num);
        fix(reader.dict(num), reader.bodyOffset(num), `annotation ${num}`);
      }
    }
  }
  return edits;
}

/**
 * The file header PDF/A asks for (6.1.2): "%PDF-1.7" (the version ISO 32000-1 describes, on which
 * PDF/A-2 and -3 build; Skia writes 1.4), then a comment of at least four bytes above 127 (Skia
 * writes one; added if it is missing). Versions above 1.7 are no PDF/A-2 or -3 file.
 */
export function headerEdits(reader: RawPdf): Edit[] {
  const header = /^%PDF-(\d)\.(\d)(\r\n|\r|\n)/.exec(reader.text.slice(0, 16));
  if (!header) throw new PdfLayoutError("the file header is not %PDF-1.n and an end of line");
  const [line, major, minor] = header;
  if (major !== "1") throw new PdfLayoutError(`a PDF ${major}.${minor} file cannot be PDF/A-2 or -3`);
  const edits: Edit[] = minor === "7" ? [] : [{ at: 5, end: 8, text: "1.7" }];
  if (!/^%[\x80-\xff]{4}/.test(reader.text.slice(line.length, line.length + 5))) {
    edits.push({ at: line.length, end: line.length, text: "%\xe2\xe3\xcf\xd3\n" });
  }
  return edits;
}
