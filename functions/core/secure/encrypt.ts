/**
 * `options.pdf.encrypt`: AES-256 (standard security handler V 5, R 6; ISO 32000-2, 7.6.4.3) on the
 * final file, in place over its bytes as pdf-bytes.ts reads them: every string of every object and
 * every stream's bytes (Chromium's are already compressed) become AES-256-CBC ciphertext with a
 * random IV first, /Length follows, and one object is added, the /Encrypt dictionary. Only what the
 * standard exempts stays clear: that dictionary, the trailer's /ID and a hybrid file's cross-reference
 * stream (object-streams.ts). An object stream is encrypted as the stream it is, so the objects packed
 * in it are, strings included, and never each on their own (ISO 32000-2, 7.6.2). A general PDF library re-serialises the whole file to do this (@libpdf/core: about a
 * second for a 2,000-row report); this takes about a tenth of that.
 *
 * Random salts, keys and IVs: the same input encrypts to a different file each time.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { securityKeys } from "./encrypt-keys.ts";
import {
  type Edit,
  PdfLayoutError,
  RawPdf,
  dictEntries,
  hexBytes,
  literalString,
  ref,
  skipSpace,
  skipValue,
} from "../pdf/index.ts";
import type { EncryptOptions } from "../types.ts";

export interface EncryptedPdf {
  pdf: Uint8Array;
  /** Encrypts a string's bytes as this file's strings are (for objects added after, e.g. a signature's /Reason): AES-256-CBC, a random IV first. */
  encryptString(bytes: Uint8Array): Uint8Array;
}

export function encryptPdf(pdf: Uint8Array, options: EncryptOptions): EncryptedPdf {
  const keys = securityKeys(options);
  const raw = new RawPdf(pdf, { allowHybrid: true });
  const clear: Clear[] = [];
  for (const num of raw.objectNumbers()) objectPlaintexts(pdf, raw, num, clear);
  const edits = encryptAll(keys.fileKey, clear);
  edits.push(...versionEdits(raw));

  // The /Encrypt dictionary is a new object, numbered /Size, written just before the xref table.
  const size = Number(dictEntries(raw.trailer).get("Size")?.value);
  if (!Number.isInteger(size) || size < 1) throw new PdfLayoutError("the trailer has no valid /Size");
  edits.push(...xrefStreamSizeEdits(raw, size + 1));
  // A fresh /ID: the finalized file's is a hash of the input, which would let anyone confirm a guess
  // of the report's content without the password (the /ID is never encrypted).
  const id = `<${randomBytes(16).toString("hex").toUpperCase()}>`;
  const spliced = raw.splice(edits, `/Size ${size + 1}\n/Encrypt ${size} 0 R\n/ID [${id} ${id}]`);
  const out = withObject(spliced, size, keys.dictionary);
  // Read back: the xref must find every object where it now is, the new one included.
  const check = new RawPdf(out, { allowEncrypted: true, allowHybrid: true });
  if (ref(check.trailer, "Encrypt") !== size || !check.dict(size).includes("/AESV3")) {
    throw new PdfLayoutError("the encrypted file does not read back");
  }
  return { pdf: out, encryptString: (bytes) => aes256(keys.fileKey, bytes) };
}

/** AES-256-CBC with PKCS#7 padding, a random 16-byte IV before the ciphertext (AESV3). */
function aes256(key: Buffer, bytes: Uint8Array): Uint8Array {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  return Buffer.concat([iv, cipher.update(bytes), cipher.final()]);
}

/** Bytes to encrypt where [at, end) of the file is: a string token, or a stream's data and its /Length. */
interface Clear {
  at: number;
  end: number;
  /** The bytes, or a string of them one char per byte (as a literal string's are read). */
  bytes: Uint8Array | string;
  /** A stream's /Length value, [at, end) of the file. */
  length?: { at: number; end: number };
}

/**
 * Encrypts every string and stream as aes256 would, in one pass of one cipher (tens of thousands
 * of strings would otherwise cost a cipher each). In CBC each block is chained to the ciphertext
 * before it, so a fresh random block fed before each plaintext comes out as that plaintext's IV:
 * random, as AESV3 wants (E(random ⊕ anything) is random), and the blocks after it are exactly
 * CBC under that IV.
 */
function encryptAll(key: Buffer, clear: Clear[]): Edit[] {
  const lengths = clear.map((c) => (typeof c.bytes === "string" ? c.bytes.length : c.bytes.byteLength));
  const sizes = lengths.map((n) => 16 + (n & ~15) + 16);
  const input = Buffer.alloc(sizes.reduce((a, b) => a + b, 0));
  const seeds = randomBytes(16 * clear.length);
  let at = 0;
  clear.forEach((c, i) => {
    const size = sizes[i] as number;
    seeds.copy(input, at, 16 * i, 16 * i + 16);
    if (typeof c.bytes === "string") input.write(c.bytes, at + 16, "latin1");
    else input.set(c.bytes, at + 16);
    const pad = size - 16 - (lengths[i] as number); // PKCS#7: 1–16 bytes, each the count
    input.fill(pad, at + size - pad, at + size);
    at += size;
  });
  const cipher = createCipheriv("aes-256-cbc", key, Buffer.alloc(16)).setAutoPadding(false);
  const output = Buffer.concat([cipher.update(input), cipher.final()]);

  const edits: Edit[] = [];
  at = 0;
  clear.forEach((c, i) => {
    const size = sizes[i] as number;
    const encrypted = output.subarray(at, at + size);
    at += size;
    if (c.length) {
      edits.push({ ...c.length, text: String(size) }, { at: c.at, end: c.end, text: encrypted.toString("latin1") });
    } else {
      edits.push({ at: c.at, end: c.end, text: `<${encrypted.toString("hex")}>` });
    }
  });
  return edits;
}

/**
 * Object `num`'s plaintexts: each string token, and a stream's bytes. Throws PdfLayoutError where
 * the object is not laid out as Chromium writes one: a /Length that is not a direct integer, no
 * endstream or endobj where due.
 */
function objectPlaintexts(pdf: Uint8Array, raw: RawPdf, num: number, clear: Clear[]): void {
  const text = raw.text;
  const valueAt = skipSpace(text, raw.bodyOffset(num));
  const strings: Clear[] = [];
  const valueEnd = stringPlaintexts(text, valueAt, strings);
  let at = skipSpace(text, valueEnd);
  if (!text.startsWith("stream", at)) clear.push(...strings);
  else {
    const where = `object ${num}'s stream`;
    if (!text.startsWith("<<", valueAt)) throw new PdfLayoutError(`${where} has no dictionary`);
    const entries = dictEntries(text.slice(valueAt, valueEnd));
    // A cross-reference stream is never encrypted: a reader needs it to find the /Encrypt dictionary.
    const xref = entries.get("Type")?.value === "/XRef";
    if (!xref) clear.push(...strings);
    const length = entries.get("Length");
    if (!length || !/^\d+$/.test(length.value)) {
      throw new PdfLayoutError(`${where} has no direct /Length (${length?.value.slice(0, 20) ?? "none"})`);
    }
    const eol = /stream(?:\r\n|\n)/y;
    eol.lastIndex = at;
    if (!eol.test(text)) throw new PdfLayoutError(`${where}: "stream" is not followed by an end of line`);
    const dataAt = eol.lastIndex;
    const dataEnd = dataAt + Number(length.value);
    const endstream = /(?:\r\n|\r|\n)?endstream/y;
    endstream.lastIndex = dataEnd;
    if (dataEnd > raw.xrefAt || !endstream.test(text)) {
      throw new PdfLayoutError(`${where}: no "endstream" after its /Length of ${length.value} bytes`);
    }
    const bytes = pdf.subarray(dataAt, dataEnd);
    if (!xref)
      clear.push({ at: dataAt, end: dataEnd, bytes, length: { at: valueAt + length.at, end: valueAt + length.end } });
    at = skipSpace(text, endstream.lastIndex);
  }
  if (!/^endobj(?![^\0\t\n\f\r ()<>[\]{}/%])/.test(text.slice(at, at + 7))) {
    throw new PdfLayoutError(`object ${num} does not end with "endobj" (byte ${at})`);
  }
}

/**
 * Adds the plaintext of each string token in the value at `at` (dictionaries and arrays searched
 * through), and returns where the value ends.
 */
function stringPlaintexts(text: string, at: number, clear: Clear[]): number {
  const c = text.charCodeAt(at);
  const dict = c === 0x3c /* < */ && text.charCodeAt(at + 1) === 0x3c;
  if (dict || c === 0x5b /* [ */) {
    const close = dict ? ">>" : "]";
    let i = at + close.length;
    for (;;) {
      i = skipSpace(text, i);
      if (i >= text.length) throw new PdfLayoutError(`unterminated ${dict ? "dictionary" : "array"} at byte ${at}`);
      if (text.startsWith(close, i)) return i + close.length;
      i = stringPlaintexts(text, i, clear);
    }
  }
  if (c === 0x28 /* ( */) {
    const end = skipValue(text, at);
    const inner = text.slice(at + 1, end - 1);
    // Most strings have no escape and no CR to read: their bytes are as written.
    const bytes = /[\\\r]/.test(inner) ? literalString(text, at + 1).value : inner;
    clear.push({ at, end, bytes });
    return end;
  }
  if (c === 0x3c) {
    const end = skipValue(text, at);
    clear.push({ at, end, bytes: hexBytes(text.slice(at + 1, end - 1)) });
    return end;
  }
  return skipValue(text, at);
}

/**
 * AES-256 with revision 6 is PDF 2.0, and Adobe's extension level 8 to PDF 1.7: a header below 1.7
 * becomes 1.7 (same length, nothing moves) and the catalog states the extension, as qpdf writes it.
 */
/**
 * A hybrid file's cross-reference stream states /Size as its trailer does (ISO 32000-1 7.5.8.4):
 * both grow by the /Encrypt object.
 */
function xrefStreamSizeEdits(raw: RawPdf, size: number): Edit[] {
  const offset = dictEntries(raw.trailer).get("XRefStm")?.value;
  if (offset === undefined) return [];
  const header = /\d+[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+obj/y;
  header.lastIndex = Number(offset);
  if (!header.test(raw.text)) throw new PdfLayoutError(`/XRefStm ${offset} does not point at an object`);
  const dictAt = header.lastIndex;
  const entry = dictEntries(raw.text.slice(dictAt, skipValue(raw.text, skipSpace(raw.text, dictAt)))).get("Size");
  if (!entry) throw new PdfLayoutError("the cross-reference stream has no /Size");
  return [{ at: dictAt + entry.at, end: dictAt + entry.end, text: String(size) }];
}

function versionEdits(raw: RawPdf): Edit[] {
  const version = /^%PDF-(\d)\.(\d)/.exec(raw.text.slice(0, 8));
  if (!version || Number(version[1]) >= 2) return [];
  const edits: Edit[] = Number(version[2]) < 7 ? [{ at: 0, end: 8, text: "%PDF-1.7" }] : [];
  const root = raw.rootRef();
  const catalog = raw.dict(root);
  if (dictEntries(catalog).has("Extensions")) return edits;
  const end = raw.bodyOffset(root) + catalog.length - 2;
  edits.push({ at: end, end, text: "\n/Extensions <</ADBE <</BaseVersion /1.7 /ExtensionLevel 8>>>>" });
  return edits;
}

/**
 * The spliced file with object `num` (`body`) added before its xref table, which gets a subsection
 * for it at its end; startxref moves by as much as was inserted.
 */
function withObject(file: string, num: number, body: string): Uint8Array {
  const tail = /startxref\n(\d+)\n%%EOF\n$/.exec(file);
  const trailerAt = file.lastIndexOf("trailer\n<<");
  if (!tail || trailerAt < 0) throw new PdfLayoutError("the spliced file does not end with a trailer and startxref");
  const xrefAt = Number(tail[1]);
  const object = `${num} 0 obj\n${body}\nendobj\n`;
  const entry = `${num} 1\n${String(xrefAt).padStart(10, "0")} 00000 n \n`;
  const out =
    file.slice(0, xrefAt) +
    object +
    file.slice(xrefAt, trailerAt) +
    entry +
    file.slice(trailerAt, tail.index) +
    `startxref\n${xrefAt + object.length}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, "latin1"));
}
