import { SOURCE_FILE_NAME } from "./attachment.ts";
import {
  type DictEntry,
  dictEdits,
  dictEntries,
  type Edit,
  PdfLayoutError,
  pdfTextString,
  type RawPdf,
  refValue,
  textString,
} from "../pdf/index.ts";

/** What the catalog gains besides what every PDF gets. */
export interface CatalogAdditions {
  /** The document's language, for /Lang when Chromium wrote none (it writes <html lang>). */
  lang?: string;
  /** The XMP metadata stream's object number (PDF/A). */
  metadata?: number;
  /** The /OutputIntents array (PDF/A). */
  outputIntents?: string;
  /** The attached source's file specification: in /Names /EmbeddedFiles, and in /AF when `associated`. */
  attachment?: { filespec: number; associated: boolean };
}

/**
 * Edits that make the catalog say what an accessible PDF's catalog says — its title shown instead of
 * its file name (/ViewerPreferences /DisplayDocTitle true), tagged (/MarkInfo /Marked true, when it
 * has a structure tree), its language (/Lang) — plus the additions. Chromium writes the first three
 * already; they are checked, and only what is missing or different is written. Entries that are
 * dictionaries are edited where they are: inside the catalog or in the object they refer to.
 */
export function catalogEdits(reader: RawPdf, add: CatalogAdditions): Edit[] {
  const root = reader.rootRef();
  const catalog = reader.dict(root);
  const base = reader.bodyOffset(root);
  const entries = dictEntries(catalog);
  const set: [string, string][] = [];
  const edits: Edit[] = [];
  /** `inner` set in the dictionary that is the value of `key`, wherever that dictionary is. */
  const inside = (key: string, inner: [string, string][], check?: (dict: Map<string, DictEntry>) => void): void => {
    const entry = entries.get(key);
    const held = refValue(entry?.value);
    if (held !== undefined) {
      check?.(dictEntries(reader.dict(held)));
      edits.push(...dictEdits(reader.dict(held), reader.bodyOffset(held), inner));
    } else if (entry?.value.startsWith("<<")) {
      check?.(dictEntries(entry.value));
      edits.push(...dictEdits(entry.value, base + entry.at, inner));
    } else {
      set.push([key, `<<${inner.map(([k, v]) => `/${k} ${v}`).join("\n")}>>`]);
    }
  };

  inside("ViewerPreferences", [["DisplayDocTitle", "true"]]);
  if (entries.has("StructTreeRoot")) inside("MarkInfo", [["Marked", "true"]]);
  const lang = entries.get("Lang");
  if ((lang === undefined || textString(lang.value) === "") && add.lang) set.push(["Lang", pdfString(add.lang)]);
  if (add.metadata !== undefined) set.push(["Metadata", `${add.metadata} 0 R`]);
  if (add.outputIntents !== undefined) set.push(["OutputIntents", add.outputIntents]);
  if (add.attachment) {
    const { filespec, associated } = add.attachment;
    inside("Names", [["EmbeddedFiles", `<</Names [(${SOURCE_FILE_NAME}) ${filespec} 0 R]>>`]], (names) => {
      if (names.has("EmbeddedFiles")) throw new PdfLayoutError("the catalog's /Names has /EmbeddedFiles already");
    });
    if (associated) {
      if (entries.has("AF")) throw new PdfLayoutError("the catalog has associated files (/AF) already");
      set.push(["AF", `[${filespec} 0 R]`]);
    }
  }
  return [...edits, ...dictEdits(catalog, base, set)].sort((a, b) => a.at - b.at);
}

/** A text string: literal for printable ASCII (a language tag), UTF-16BE hex otherwise. */
function pdfString(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return `(${value.replace(/[()\\]/g, "\\$&")})`;
  return pdfTextString(value);
}
