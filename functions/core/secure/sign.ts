import { createHash } from "node:crypto";
import { cadesSignature, cadesSignatureBound, readCertificates } from "./cms.ts";
import { appendUpdate, type UpdatedObject } from "../pdf/index.ts";
import { pageTree } from "../pdf/index.ts";
import { arrayItems, dictEntries, PdfLayoutError, RawPdf, refValue, skipSpace, skipValue } from "../pdf/index.ts";
import type { PdfSigner } from "./signer.ts";
import type { SignOptions } from "../types.ts";

export interface SignContext {
  /** When it is signed: the signature dictionary's /M. */
  time: Date;
  /** The file is encrypted (encrypt.ts ran first): how its new strings are encrypted. /Contents never is. */
  encryptString?: (bytes: Uint8Array) => Uint8Array;
}

/**
 * `options.pdf.sign`: a PAdES signature (ETSI.CAdES.detached, baseline B-B) over the whole finished
 * file, appended as an incremental update, so every byte before it (PDF/A conformance, encryption,
 * the fixed /ID) stays as it was. The update writes:
 * - the catalog again, with /AcroForm << /Fields [field] /SigFlags 3 >> (signatures exist, and the
 *   file is to be changed only by appending);
 * - page 1 again, the field's widget added to its /Annots;
 * - the signature field, merged with its widget: invisible (/Rect [0 0 0 0], which PDF/A allows
 *   without an appearance stream), /F 132 (Print + Locked: PDF/A wants annotations printable), so the
 *   pages look exactly as printed and readers list the signature in their signature panel;
 * - the signature dictionary: /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached, /M, /Reason,
 *   /Location, /ContactInfo, /ByteRange (all the file but /Contents) and /Contents, the CMS
 *   (cms.ts) as zero-padded hex in room sized for the signer's certificates and key.
 * Either the whole signed file is returned or an error thrown: nothing half-signed leaves here.
 */
export async function signPdf(
  pdf: Uint8Array,
  signer: PdfSigner,
  options: SignOptions,
  context: SignContext,
): Promise<Uint8Array> {
  const certs = readCertificates(await signer.certificates(), signer.keyType);
  const room = cadesSignatureBound(certs, signer.keyType);
  const reader = new RawPdf(pdf, { allowEncrypted: context.encryptString !== undefined, allowHybrid: true });
  const text = string(context.encryptString);

  const catalogNum = reader.rootRef();
  const catalog = reader.dict(catalogNum);
  if (dictEntries(catalog).has("AcroForm")) {
    throw new PdfLayoutError("the catalog already has an /AcroForm (Chromium writes no form fields)");
  }
  const firstPage = [...pageTree(reader, catalog)].find(([, page]) => page === 1)?.[0];
  if (firstPage === undefined) throw new PdfLayoutError("the document has no page");
  const size = Number(dictEntries(reader.trailer).get("Size")?.value);
  if (!Number.isInteger(size) || size < 1) throw new PdfLayoutError("the trailer has no valid /Size");
  const field = size;
  const signature = size + 1;

  const placeholder = "0".repeat(room * 2);
  const objects: UpdatedObject[] = [
    { num: catalogNum, body: withEntry(catalog, "AcroForm", `<</Fields [${field} 0 R] /SigFlags 3>>`) },
    ...annotsUpdate(reader, firstPage, field),
    {
      num: field,
      body:
        `<</Type /Annot /Subtype /Widget /FT /Sig /T ${text("Signature1")} /V ${signature} 0 R` +
        ` /F 132 /Rect [0 0 0 0] /P ${firstPage} 0 R>>`,
    },
    {
      num: signature,
      body: [
        "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached",
        `/ByteRange ${BYTE_RANGE_ROOM}`,
        `/Contents <${placeholder}>`,
        `/M ${text(pdfDate(context.time))}`,
        ...(options.reason === undefined ? [] : [`/Reason ${text(options.reason)}`]),
        ...(options.location === undefined ? [] : [`/Location ${text(options.location)}`]),
        ...(options.contactInfo === undefined ? [] : [`/ContactInfo ${text(options.contactInfo)}`]),
        ">>",
      ].join("\n"),
    },
  ];
  const file = Buffer.from(appendUpdate(reader, objects, size + 2), "latin1");

  // Where /Contents' hex string is: the signature dictionary is the last object before the xref.
  const contentsAt = file.lastIndexOf(`/Contents <${placeholder}>`, undefined, "latin1") + "/Contents ".length;
  const contentsEnd = contentsAt + placeholder.length + 2;
  const rangeAt = file.lastIndexOf(`/ByteRange ${BYTE_RANGE_ROOM}`, contentsAt, "latin1") + "/ByteRange ".length;
  if (contentsAt < "/Contents ".length || rangeAt < "/ByteRange ".length) {
    throw new PdfLayoutError("the signature dictionary was not found where it was written");
  }
  const byteRange = `[0 ${contentsAt} ${contentsEnd} ${file.length - contentsEnd}]`;
  file.write(byteRange.padEnd(BYTE_RANGE_ROOM.length, " "), rangeAt, "latin1");

  const digest = createHash("sha256").update(file.subarray(0, contentsAt)).update(file.subarray(contentsEnd)).digest();
  const cms = await cadesSignature(certs, signer.keyType, digest, (data) => signer.sign(data));
  if (cms.byteLength > room) throw new Error(`the signature takes ${cms.byteLength} bytes; room was made for ${room}`);
  file.write(Buffer.from(cms).toString("hex").toUpperCase(), contentsAt + 1, "latin1");
  return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
}

/** Room for the byte range's four numbers, each up to 10 digits (as the xref's offsets): spaces fill the rest. */
const BYTE_RANGE_ROOM = `[0 ${"9".repeat(10)} ${"9".repeat(10)} ${"9".repeat(10)}]`;

/**
 * Page `page` again with `field` added to its /Annots: written in the page dictionary (Skia's links
 * are), or an array object of its own (then that object is written again).
 */
function annotsUpdate(reader: RawPdf, page: number, field: number): UpdatedObject[] {
  const dict = reader.dict(page);
  const annots = dictEntries(dict).get("Annots");
  if (annots === undefined) return [{ num: page, body: withEntry(dict, "Annots", `[${field} 0 R]`) }];
  const arrayNum = refValue(annots.value);
  if (arrayNum === undefined) return [{ num: page, body: withEntry(dict, "Annots", appended(annots.value, field)) }];
  const at = skipSpace(reader.text, reader.bodyOffset(arrayNum));
  const array = reader.text.slice(at, skipValue(reader.text, at));
  return [{ num: arrayNum, body: appended(array, field) }];
}

/** An array's text with a reference to `num` added at its end. */
function appended(array: string, num: number): string {
  const items = arrayItems(array, 0).map((i) => i.value);
  return `[${[...items, `${num} 0 R`].join(" ")}]`;
}

/** A dictionary's text with `/key value` set (replacing an entry of that key). */
function withEntry(dict: string, key: string, value: string): string {
  const entry = dictEntries(dict).get(key);
  if (entry) return `${dict.slice(0, entry.at)}${value}${dict.slice(entry.end)}`.trim();
  const end = dict.lastIndexOf(">>");
  return `${dict.slice(0, end).trim()}\n/${key} ${value}>>`;
}

/**
 * A text string as the file writes its strings: UTF-16BE with a byte order mark (any script, nothing
 * to escape), as hex; encrypted first when the file is.
 */
function string(encrypt: SignContext["encryptString"]): (value: string) => string {
  return (value) => {
    const bytes = /^[\x20-\x7e]*$/.test(value)
      ? Buffer.from(value, "latin1")
      : Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(value, "utf16le").swap16()]);
    return `<${Buffer.from(encrypt ? encrypt(bytes) : bytes)
      .toString("hex")
      .toUpperCase()}>`;
  };
}

/** A PDF date (ISO 32000-1, 7.9.4) in UTC: D:YYYYMMDDHHmmSSZ. */
function pdfDate(time: Date): string {
  const iso = time.toISOString();
  return `D:${iso.slice(0, 19).replace(/[-T:]/g, "")}Z`;
}
