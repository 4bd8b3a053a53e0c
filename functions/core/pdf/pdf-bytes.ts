/**
 * Chromium's PDF as bytes: object access through its classic xref table, and in-place edits that
 * keep that layout. Skia writes one xref table, no object streams and uncompressed dictionaries, so
 * reading the few objects we need (catalog, page tree, outline, info, the structure IDTree) and
 * splicing a few of them is a matter of milliseconds, where a general PDF library re-serialises the
 * whole file (120–270 ms).
 *
 * That layout is checked, not assumed: a file that is not one classic xref table and trailer at its
 * end (a cross-reference stream as PDF 1.5 object streams need, a hybrid file unless allowed, an
 * incrementally updated or encrypted file), or whose xref does not point at the objects read, throws
 * PdfLayoutError, so a change in Chromium's output fails the render loudly instead of producing a
 * corrupt file.
 * Dictionaries are read token by token (strings, nested dictionaries and arrays skipped whole), so
 * text inside a string — a heading "endobj >> /Next 3 0 R" — is never mistaken for structure.
 */

import { promisify } from "node:util";
import { deflate, inflateSync } from "node:zlib";

/** Chromium's PDF is not laid out the way this module reads and edits it. */
export class PdfLayoutError extends Error {
  constructor(detail: string) {
    super(`unexpected PDF layout from Chromium: ${detail}`);
    this.name = "PdfLayoutError";
  }
}

/** Object access through the file's one classic xref table. */
export class RawPdf {
  /** The file as latin1 text: one char per byte, so string offsets are byte offsets. */
  readonly text: string;
  private readonly offsets = new Map<number, number>();
  /** Where each in-use entry's 10-digit offset is in the file, and that offset, in file order. */
  private readonly entryAt: number[] = [];
  private readonly entryOffset: number[] = [];
  /** Where the xref table starts: every object lies before it. */
  readonly xrefAt: number;
  /** Where the `trailer` keyword is. */
  private readonly trailerAt: number;
  /** Where the xref table's last entry ends: new objects' subsection goes there. */
  private readonly tableEnd: number;
  /** One past the highest object number the xref table lists. */
  private readonly listed: number;
  /** The trailer dictionary's text, `<<` to `>>`. */
  readonly trailer: string;
  /** A hybrid file's cross-reference stream (the trailer's /XRefStm): where its object starts. */
  private readonly xrefStreamAt?: number;

  /**
   * `allowEncrypted`: read an encrypted file's structure (e.g. to sign it after encrypt.ts): strings
   * and streams are then ciphertext, which whoever reads them must know. `allowHybrid`: read a file
   * packed by object-streams.ts (trailer /XRefStm): only its top-level objects, the ones the classic
   * table lists; splice keeps /XRefStm pointing at the cross-reference stream wherever it moves.
   */
  constructor(pdf: Uint8Array, options: { allowEncrypted?: boolean; allowHybrid?: boolean } = {}) {
    // latin1 maps bytes 1:1 to UTF-16 code units, so string offsets are byte offsets.
    const text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString("latin1");
    this.text = text;
    if (!text.startsWith("%PDF-")) throw new PdfLayoutError("no %PDF- header");

    // The end of the file: startxref, the xref table's offset, %%EOF (and nothing else).
    const startxrefAt = text.lastIndexOf("startxref");
    const tail = /startxref[\0\t\n\f\r ]+(\d+)[\0\t\n\f\r ]+%%EOF[\0\t\n\f\r ]*$/y;
    tail.lastIndex = startxrefAt;
    const start = startxrefAt < 0 ? undefined : tail.exec(text)?.[1];
    if (start === undefined) throw new PdfLayoutError("the file does not end with startxref, an offset and %%EOF");
    const xrefAt = Number(start);
    this.xrefAt = xrefAt;
    if (xrefAt >= startxrefAt) throw new PdfLayoutError(`startxref ${xrefAt} points past the end of the file`);
    const objectHeader = /\d+[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+obj\b/y;
    objectHeader.lastIndex = xrefAt;
    if (objectHeader.test(text)) {
      throw new PdfLayoutError(
        `startxref ${xrefAt} points at an object (a cross-reference stream, as PDF 1.5 object streams need), not a classic xref table`,
      );
    }
    const keyword = /xref[\t ]*(?:\r\n|\r|\n)/y;
    keyword.lastIndex = xrefAt;
    if (!keyword.test(text)) throw new PdfLayoutError(`startxref ${xrefAt} does not point at an xref table`);

    // Subsections: "first count" then `count` entries of 20 bytes: "oooooooooo ggggg n" and " \n", " \r" or "\r\n".
    let at = keyword.lastIndex;
    let listed = 0;
    const section = /(\d+) (\d+)[\t ]*(?:\r\n|\r|\n)/y;
    for (;;) {
      section.lastIndex = at;
      const head = section.exec(text);
      if (!head) break;
      const first = Number(head[1]);
      const count = Number(head[2]);
      at = section.lastIndex;
      listed = Math.max(listed, first + count);
      if (at + count * 20 > startxrefAt)
        throw new PdfLayoutError(`xref subsection "${first} ${count}" runs past the table`);
      for (let i = 0; i < count; i++, at += 20) {
        const offset = xrefEntry(text, at);
        if (offset === undefined) {
          throw new PdfLayoutError(
            `malformed xref entry for object ${first + i} at byte ${at}: ${JSON.stringify(text.slice(at, at + 20))}`,
          );
        }
        if (offset >= 0) {
          this.offsets.set(first + i, offset);
          this.entryAt.push(at);
          this.entryOffset.push(offset);
        }
      }
    }
    this.tableEnd = at;
    this.listed = listed;
    const trailerKeyword = /[\0\t\n\f\r ]*trailer[\0\t\n\f\r ]*/y;
    trailerKeyword.lastIndex = at;
    if (!trailerKeyword.test(text) || !text.startsWith("<<", trailerKeyword.lastIndex)) {
      throw new PdfLayoutError(`no trailer dictionary after the xref table (byte ${at})`);
    }
    this.trailerAt = text.indexOf("trailer", at);
    const dictAt = trailerKeyword.lastIndex;
    const dictEnd = skipValue(text, dictAt);
    if (!/^[\0\t\n\f\r ]*$/.test(text.slice(dictEnd, startxrefAt))) {
      throw new PdfLayoutError("more than the trailer between the xref table and startxref");
    }
    this.trailer = text.slice(dictAt, dictEnd);
    const keys = dictEntries(this.trailer);
    if (keys.has("Prev")) throw new PdfLayoutError("an incremental update (the trailer has /Prev)");
    const xrefStm = keys.get("XRefStm")?.value;
    if (xrefStm !== undefined && !options.allowHybrid)
      throw new PdfLayoutError("a hybrid file (the trailer has /XRefStm: objects in object streams)");
    if (xrefStm !== undefined) {
      objectHeader.lastIndex = Number(xrefStm);
      if (!/^\d+$/.test(xrefStm) || Number(xrefStm) >= xrefAt || !objectHeader.test(text))
        throw new PdfLayoutError(`the trailer's /XRefStm ${xrefStm.slice(0, 20)} does not point at an object`);
      this.xrefStreamAt = Number(xrefStm);
    }
    if (keys.has("Encrypt") && !options.allowEncrypted)
      throw new PdfLayoutError("an encrypted file (the trailer has /Encrypt)");
  }

  /** The numbers of the objects in use, in xref table order. */
  objectNumbers(): number[] {
    return [...this.offsets.keys()];
  }

  rootRef(): number {
    const root = ref(this.trailer, "Root");
    if (root === undefined) throw new PdfLayoutError("no /Root");
    return root;
  }

  /**
   * The number the first object splice() adds gets: the trailer's /Size, checked to lie past every
   * number the xref table lists (a smaller /Size would make the new objects replace old ones).
   */
  nextObjectNumber(): number {
    const size = dictEntries(this.trailer).get("Size")?.value;
    if (size === undefined || !/^\d+$/.test(size)) throw new PdfLayoutError("the trailer has no integer /Size");
    if (Number(size) < this.listed)
      throw new PdfLayoutError(`the trailer's /Size ${size} is below the objects its xref lists (${this.listed})`);
    return Number(size);
  }

  /**
   * The dictionary of object `num`: the text from after "obj" to its closing ">>" (leading white
   * space included, any stream after it not). Throws if the object is not a dictionary.
   */
  dict(num: number): string {
    const begin = this.bodyOffset(num);
    const at = skipSpace(this.text, begin);
    if (!this.text.startsWith("<<", at)) throw new PdfLayoutError(`object ${num} is not a dictionary`);
    return this.text.slice(begin, skipValue(this.text, at));
  }

  /** Where the text returned by dict(num) starts in the file: just after `num 0 obj`. */
  bodyOffset(num: number): number {
    const offset = this.offsets.get(num);
    if (offset === undefined) throw new PdfLayoutError(`object ${num} missing from the xref table`);
    const header = /(\d+)[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+obj/y;
    header.lastIndex = offset;
    const found = header.exec(this.text);
    if (!found || Number(found[1]) !== num || /\d/.test(this.text[offset - 1] ?? "")) {
      throw new PdfLayoutError(`the xref offset ${offset} of object ${num} does not point at "${num} 0 obj"`);
    }
    return header.lastIndex;
  }

  /**
   * Replace byte ranges inside objects (before the xref), shift the xref and startxref to match,
   * and add `trailerEntries` to the trailer dictionary (replacing entries of the same keys). Edits
   * must not overlap, nor cover the start of an object. `objects` (each an object's value as written
   * between "N 0 obj" and "endobj", latin1) are appended after the last object, numbered from
   * nextObjectNumber() in order, listed in a new xref subsection, and /Size grows to match.
   * Returns the file as a latin1 string.
   */
  splice(edits: Edit[], trailerEntries = "", objects: readonly string[] = []): string {
    const text = this.text;
    const sorted = [...edits].sort((a, b) => a.at - b.at || a.end - b.end);
    const ends: number[] = [];
    const shifts: number[] = [];
    let total = 0;
    let previousEnd = 0;
    for (const e of sorted) {
      if (!Number.isInteger(e.at) || !Number.isInteger(e.end) || e.at < 0 || e.end < e.at || e.end > this.xrefAt) {
        throw new RangeError(`edit [${e.at}, ${e.end}) is not inside the file's objects`);
      }
      if (e.at < previousEnd) throw new RangeError(`edits overlap at byte ${e.at}`);
      if (/[^\0-\xff]/.test(e.text)) throw new RangeError(`edit at byte ${e.at} is not latin1 text`);
      previousEnd = e.end;
      total += e.text.length - (e.end - e.at);
      ends.push(e.end);
      shifts.push(total);
    }
    /** Where the byte at `offset` (outside every edit) lands. */
    const moved = (offset: number): number => {
      let lo = 0;
      let hi = ends.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((ends[mid] as number) <= offset) lo = mid + 1;
        else hi = mid;
      }
      const next = sorted[lo];
      if (next && next.at <= offset && offset < next.end) {
        throw new RangeError(`edit [${next.at}, ${next.end}) covers the start of an object at byte ${offset}`);
      }
      return offset + (lo === 0 ? 0 : (shifts[lo - 1] as number));
    };

    const out: string[] = [];
    let from = 0;
    for (const e of sorted) {
      out.push(text.slice(from, e.at), e.text);
      from = e.end;
    }
    out.push(text.slice(from, this.xrefAt));

    // New objects go where the xref table was, and are listed in a subsection of their own.
    const first = objects.length > 0 ? this.nextObjectNumber() : 0;
    let appended = objects.length > 0 && !isWhite(text.charCodeAt(this.xrefAt - 1)) ? "\n" : "";
    let subsection = objects.length > 0 ? `${first} ${objects.length}\n` : "";
    objects.forEach((body, i) => {
      if (/[^\0-\xff]/.test(body)) throw new RangeError(`new object ${first + i} is not latin1 text`);
      subsection += `${xrefOffset(moved(this.xrefAt) + appended.length)} 00000 n \n`;
      appended += `${first + i} 0 obj\n${body}\nendobj\n`;
    });
    out.push(appended);
    from = this.xrefAt;
    this.entryAt.forEach((at, i) => {
      out.push(text.slice(from, at), xrefOffset(moved(this.entryOffset[i] as number)));
      from = at + 10;
    });
    out.push(text.slice(from, this.tableEnd), subsection, text.slice(this.tableEnd, this.trailerAt));

    // The trailer: entries being replaced removed, the new ones added.
    const stream = this.xrefStreamAt === undefined ? "" : `/XRefStm ${moved(this.xrefStreamAt)}`;
    const entries = [objects.length > 0 ? `/Size ${first + objects.length}` : "", stream, trailerEntries]
      .filter((e) => e !== "")
      .join("\n");
    const added = dictEntries(`<<${entries}>>`);
    let dict = this.trailer;
    const replaced = [...dictEntries(dict).values()].filter((e) => added.has(e.key)).sort((a, b) => b.keyAt - a.keyAt);
    for (const e of replaced) dict = dict.slice(0, e.keyAt) + dict.slice(e.end);
    dict = `${dict.slice(0, -2)}${entries ? `\n${entries}` : ""}>>`;
    out.push(`trailer\n${dict}\nstartxref\n${moved(this.xrefAt) + appended.length}\n%%EOF\n`);
    return out.join("");
  }
}

/** An offset as an xref entry writes it: 10 digits. */
function xrefOffset(offset: number): string {
  if (offset > 9_999_999_999) throw new RangeError("the file outgrew 10-digit xref offsets");
  return String(offset).padStart(10, "0");
}

/** A stream object's value: `dict` entries (no /Length) and `data` (latin1), as Skia writes one. */
const deflateOffThread = promisify(deflate);

/**
 * `data` (latin1 text or bytes) deflated, as latin1 text. On libuv's thread pool, not the main
 * thread: renders in flight at once share one main thread, and compressing was a quarter of what it
 * spent finishing a file (~3 of 11 ms for the seed report).
 */
export async function deflated(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  // 64 KiB of output per trip back to the main thread, not zlib's 16: a quarter of the copying there.
  return (await deflateOffThread(bytes, { chunkSize: 64 * 1024 })).toString("latin1");
}

export function streamObject(dict: string, data: string): string {
  return `<<${dict}\n/Length ${data.length}>> stream\n${data}\nendstream`;
}

/**
 * The offset an xref entry at `at` gives: -1 for a free entry, undefined if the 20 bytes there are
 * not an entry. (Checked byte by byte: Number() would accept spaces and signs.)
 */
function xrefEntry(text: string, at: number): number | undefined {
  let offset = 0;
  for (let i = 0; i < 10; i++) {
    const d = text.charCodeAt(at + i) - 48;
    if (d < 0 || d > 9) return undefined;
    offset = offset * 10 + d;
  }
  if (text.charCodeAt(at + 10) !== 32 || text.charCodeAt(at + 16) !== 32) return undefined;
  for (let i = 11; i < 16; i++) {
    const d = text.charCodeAt(at + i) - 48;
    if (d < 0 || d > 9) return undefined;
  }
  const kind = text[at + 17];
  const eol = text.slice(at + 18, at + 20);
  if ((kind !== "n" && kind !== "f") || (eol !== " \n" && eol !== " \r" && eol !== "\r\n")) return undefined;
  return kind === "n" ? offset : -1;
}

/** A replacement of the bytes [at, end) of the file. */
export interface Edit {
  at: number;
  end: number;
  text: string;
}

/** The indirect object `/key` refers to in a dictionary (top-level entries only), if it is a reference. */
export function ref(dict: string, key: string): number | undefined {
  return refValue(dictEntries(dict).get(key)?.value);
}

/** The object number of a reference value "12 0 R". */
export function refValue(value: string | undefined): number | undefined {
  const m = value === undefined ? undefined : /^(\d+)[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+R$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** One entry of a dictionary: `/key` starts at keyAt, its value is text [at, end). */
export interface DictEntry {
  key: string;
  keyAt: number;
  at: number;
  end: number;
  value: string;
}

/**
 * The top-level entries of a dictionary's text (`<<` … `>>`, leading white space allowed), with
 * where each is: values are skipped whole (strings, arrays, nested dictionaries), so nothing inside
 * a string or a nested dictionary is taken for an entry. A later duplicate key wins, as in pdf.js.
 */
export function dictEntries(dict: string): Map<string, DictEntry> {
  let i = skipSpace(dict, 0);
  if (!dict.startsWith("<<", i))
    throw new PdfLayoutError(`expected a dictionary, found ${JSON.stringify(dict.slice(i, i + 20))}`);
  i += 2;
  const out = new Map<string, DictEntry>();
  for (;;) {
    i = skipSpace(dict, i);
    if (dict.startsWith(">>", i)) return out;
    if (dict.charCodeAt(i) !== 0x2f /* / */) {
      throw new PdfLayoutError(`expected a name in a dictionary, found ${JSON.stringify(dict.slice(i, i + 20))}`);
    }
    const keyAt = i;
    const keyEnd = skipValue(dict, i);
    const at = skipSpace(dict, keyEnd);
    const end = skipValue(dict, at);
    const key = dict.slice(keyAt + 1, keyEnd);
    out.set(key, { key, keyAt, at, end, value: dict.slice(at, end) });
    i = end;
  }
}

/** One element of an array: its text [at, end) (relative to the text given), and that text. */
export interface ArrayItem {
  at: number;
  end: number;
  value: string;
}

/**
 * The elements of the array whose "[" is at `at` in `text` ("12 0 R" is one element), each with
 * where it is. Throws if there is no array there.
 */
export function arrayItems(text: string, at: number): ArrayItem[] {
  if (text.charCodeAt(at) !== 0x5b /* [ */)
    throw new PdfLayoutError(`expected an array, found ${JSON.stringify(text.slice(at, at + 20))}`);
  const out: ArrayItem[] = [];
  let i = at + 1;
  for (;;) {
    i = skipSpace(text, i);
    if (i >= text.length) throw new PdfLayoutError(`unterminated array at byte ${at}`);
    if (text.charCodeAt(i) === 0x5d /* ] */) return out;
    const end = skipValue(text, i);
    out.push({ at: i, end, value: text.slice(i, end) });
    i = end;
  }
}

/**
 * One node of a name tree (PDF 32000-1, 7.9.6) as it is written: where its /Limits and /Names
 * values are in the file (absolute offsets), its /Kids in order, and a leaf's key/value pairs as
 * written (a key is a string token, "(…)" or "<…>"; a value any object, "12 0 R" included).
 */
export interface NameTreeNode {
  /** Its object number; undefined for a root written directly inside another dictionary. */
  num?: number;
  limits?: { at: number; end: number };
  kids: NameTreeNode[];
  names?: { at: number; end: number; pairs: { key: string; value: string }[] };
}

/**
 * The name tree whose root is `value` (a reference, or a dictionary written at byte `valueAt` of
 * the file). Throws PdfLayoutError for what is not a name tree: a node with both /Kids and /Names,
 * kids that are not references, a node reached twice (a cycle), /Names with an odd number of
 * elements or a key that is not a string.
 */
export function readNameTree(reader: RawPdf, value: string, valueAt: number): NameTreeNode {
  const seen = new Set<number>();
  const read = (value: string, valueAt: number, depth: number): NameTreeNode => {
    if (depth > 64) throw new PdfLayoutError("a name tree deeper than 64 levels");
    const num = refValue(value);
    let dict = value;
    let base = valueAt;
    if (num !== undefined) {
      if (seen.has(num)) throw new PdfLayoutError(`name tree node ${num} is reached twice`);
      seen.add(num);
      dict = reader.dict(num);
      base = reader.bodyOffset(num);
    }
    const entries = dictEntries(dict);
    const node: NameTreeNode = { num, kids: [] };
    const limits = entries.get("Limits");
    if (limits) node.limits = { at: base + limits.at, end: base + limits.end };
    const kids = entries.get("Kids");
    const names = entries.get("Names");
    const where = num === undefined ? "a name tree's root" : `name tree node ${num}`;
    if (kids && names) throw new PdfLayoutError(`${where} has both /Kids and /Names`);
    if (kids) {
      for (const kid of arrayItems(kids.value, 0)) {
        if (refValue(kid.value) === undefined)
          throw new PdfLayoutError(`${where} has a kid that is not a reference: ${kid.value.slice(0, 20)}`);
        node.kids.push(read(kid.value, 0, depth + 1));
      }
    }
    if (names) {
      const items = arrayItems(names.value, 0);
      if (items.length % 2 !== 0) throw new PdfLayoutError(`${where} has an odd number of /Names elements`);
      const pairs: { key: string; value: string }[] = [];
      for (let i = 0; i < items.length; i += 2) {
        const key = (items[i] as ArrayItem).value;
        if (stringBytes(key) === undefined)
          throw new PdfLayoutError(`${where} has a key that is not a string: ${key.slice(0, 20)}`);
        pairs.push({ key, value: (items[i + 1] as ArrayItem).value });
      }
      node.names = { at: base + names.at, end: base + names.end, pairs };
    }
    return node;
  };
  return read(value, valueAt, 0);
}

/** PDF white space: NUL, tab, line feed, form feed, carriage return, space. */
export function isWhite(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 12 || c === 0;
}

/** 1 for white space and delimiters, the bytes that end a name, number or keyword. */
const ENDS_TOKEN = new Uint8Array(256);
for (const c of [0, 9, 10, 12, 13, 32, ...[..."()<>[]{}/%"].map((ch) => ch.charCodeAt(0))]) ENDS_TOKEN[c] = 1;

/** Past white space and comments. */
export function skipSpace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (isWhite(c)) i++;
    else if (c === 0x25 /* % */) {
      while (i < text.length && text[i] !== "\n" && text[i] !== "\r") i++;
    } else return i;
  }
}

/**
 * Where the PDF object starting at `at` ends: a dictionary, array, string, name, number, reference
 * ("12 0 R" as one value), boolean or null. Throws on anything else, or text that ends first.
 */
export function skipValue(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === 0x3c /* < */) {
    if (text.charCodeAt(at + 1) === 0x3c) {
      let i = at + 2;
      for (;;) {
        i = skipSpace(text, i);
        if (i >= text.length) throw new PdfLayoutError(`unterminated dictionary at byte ${at}`);
        if (text.startsWith(">>", i)) return i + 2;
        i = skipValue(text, i);
      }
    }
    const end = text.indexOf(">", at);
    if (end < 0) throw new PdfLayoutError(`unterminated hex string at byte ${at}`);
    return end + 1;
  }
  if (c === 0x28 /* ( */) return skipLiteral(text, at + 1);
  if (c === 0x5b /* [ */) {
    let i = at + 1;
    for (;;) {
      i = skipSpace(text, i);
      if (i >= text.length) throw new PdfLayoutError(`unterminated array at byte ${at}`);
      if (text.charCodeAt(i) === 0x5d /* ] */) return i + 1;
      i = skipValue(text, i);
    }
  }
  let i = at + (c === 0x2f /* / */ ? 1 : 0);
  while (i < text.length && ENDS_TOKEN[text.charCodeAt(i) & 0xff] === 0) i++;
  const token = text.slice(at, i);
  if (c === 0x2f || token === "true" || token === "false" || token === "null") return i;
  if (!NUMBER.test(token))
    throw new PdfLayoutError(`unexpected ${JSON.stringify(text.slice(at, at + 20))} at byte ${at}`);
  // "12 0 R" is one value.
  if (!INTEGER.test(token)) return i;
  REFERENCE_TAIL.lastIndex = i;
  return REFERENCE_TAIL.test(text) ? REFERENCE_TAIL.lastIndex : i;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const INTEGER = /^\d+$/;
/** What follows the object number of a reference: " 0 R" and a delimiter or the end. */
const REFERENCE_TAIL = /[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+R(?![^\0\t\n\f\r ()<>[\]{}/%])/y;

/** Where a literal string that starts after its "(" ends (after its ")"). */
function skipLiteral(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \\ */) i++;
    else if (c === 0x28 /* ( */) depth++;
    else if (c === 0x29 /* ) */ && depth-- === 0) return i + 1;
  }
  throw new PdfLayoutError(`unterminated string at byte ${from - 1}`);
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" };

/**
 * The bytes of a PDF literal string starting after its "(" (balanced parentheses, escapes, line
 * continuations; an unescaped end of line is one "\n"), and where it ends (after its ")").
 */
export function literalString(text: string, from: number): { value: string; end: number } {
  let out = "";
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      const next = text[++i] ?? "";
      const octal = /^[0-7]{1,3}/.exec(text.slice(i, i + 3))?.[0];
      if (octal) {
        out += String.fromCharCode(parseInt(octal, 8) & 0xff);
        i += octal.length - 1;
      } else if (next === "\r" || next === "\n") {
        if (next === "\r" && text[i + 1] === "\n") i++;
      } else {
        out += ESCAPES[next] ?? next;
      }
    } else if (c === "\r") {
      if (text[i + 1] === "\n") i++;
      out += "\n";
    } else if (c === "(") {
      depth++;
      out += c;
    } else if (c === ")") {
      if (depth === 0) return { value: out, end: i + 1 };
      depth--;
      out += c;
    } else {
      out += c;
    }
  }
  throw new PdfLayoutError(`unterminated string at byte ${from - 1}`);
}

/** The bytes of a hex string's digits (white space ignored, an odd last digit followed by 0). */
export function hexBytes(digits: string): Buffer {
  const hex = digits.replace(/[\0\t\n\f\r ]+/g, "");
  if (!/^[0-9A-Fa-f]*$/.test(hex)) throw new PdfLayoutError(`bad hex string <${digits.slice(0, 20)}>`);
  return Buffer.from(hex.length % 2 ? `${hex}0` : hex, "hex");
}

/**
 * The bytes of a string token — "(literal)" or "<hex>" — one char per byte, so that comparing two
 * of them as JS strings compares the bytes, as a name tree orders its keys. Undefined for other tokens.
 */
export function stringBytes(value: string): string | undefined {
  if (value.startsWith("(")) return literalString(value, 1).value;
  if (value.startsWith("<") && !value.startsWith("<<"))
    return hexBytes(value.slice(1, value.indexOf(">"))).toString("latin1");
  return undefined;
}

/**
 * A string value as written in a dictionary — `(literal)` or `<hex>` — as text: UTF-16BE after a
 * FE FF byte order mark, UTF-8 after EF BB BF, PDFDocEncoding otherwise. Undefined for other values.
 */
export function textString(value: string): string | undefined {
  let bytes: Buffer;
  if (value.startsWith("(")) bytes = Buffer.from(literalString(value, 1).value, "latin1");
  else if (value.startsWith("<") && !value.startsWith("<<")) bytes = hexBytes(value.slice(1, value.indexOf(">")));
  else return undefined;
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return Buffer.from(bytes.subarray(2, bytes.length & ~1))
      .swap16()
      .toString("utf16le");
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString("utf8");
  let out = "";
  for (const b of bytes) out += String.fromCharCode(PDF_DOC_ENCODING[b] ?? b);
  return out;
}

/** Where PDFDocEncoding differs from Latin-1 (PDF 32000-1, annex D.2). */
const PDF_DOC_ENCODING: Record<number, number> = {
  0x18: 0x2d8,
  0x19: 0x2c7,
  0x1a: 0x2c6,
  0x1b: 0x2d9,
  0x1c: 0x2dd,
  0x1d: 0x2db,
  0x1e: 0x2da,
  0x1f: 0x2dc,
  0x80: 0x2022,
  0x81: 0x2020,
  0x82: 0x2021,
  0x83: 0x2026,
  0x84: 0x2014,
  0x85: 0x2013,
  0x86: 0x192,
  0x87: 0x2044,
  0x88: 0x2039,
  0x89: 0x203a,
  0x8a: 0x2212,
  0x8b: 0x2030,
  0x8c: 0x201e,
  0x8d: 0x201c,
  0x8e: 0x201d,
  0x8f: 0x2018,
  0x90: 0x2019,
  0x91: 0x201a,
  0x92: 0x2122,
  0x93: 0xfb01,
  0x94: 0xfb02,
  0x95: 0x141,
  0x96: 0x152,
  0x97: 0x160,
  0x98: 0x178,
  0x99: 0x17d,
  0x9a: 0x131,
  0x9b: 0x142,
  0x9c: 0x153,
  0x9d: 0x161,
  0x9e: 0x17e,
  0xa0: 0x20ac,
};

/** A date as a PDF date string, in UTC: (D:20261126000000Z). */
export function pdfDate(date: Date): string {
  const iso = date.toISOString(); // 2026-11-26T00:00:00.000Z
  return `(D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z)`;
}

/**
 * Entries set in the dictionary `dict` (its text, which starts at byte `base` of the file): an
 * entry of the same key has its value replaced where it is (unless it is that value already), the
 * others are added before its ">>". Edits in file order.
 */
export function dictEdits(dict: string, base: number, set: readonly (readonly [string, string])[]): Edit[] {
  const entries = dictEntries(dict);
  const edits: Edit[] = [];
  let added = "";
  for (const [key, value] of set) {
    const entry = entries.get(key);
    if (entry?.value === value) continue;
    if (entry) edits.push({ at: base + entry.at, end: base + entry.end, text: value });
    else added += `\n/${key} ${value}`;
  }
  const close = base + dict.lastIndexOf(">>");
  if (added) edits.push({ at: close, end: close, text: added });
  return edits.sort((a, b) => a.at - b.at);
}

/** A PDF text string as UTF-16BE hex with a byte order mark: any script, no escaping needed. */
export function pdfTextString(value: string): string {
  return `<FEFF${Buffer.from(value, "utf16le").swap16().toString("hex").toUpperCase()}>`;
}

/** A stream object's data and where its /Length value and its raw data are in the file. */
export interface StreamAt {
  /** The data, inflated when Flate; undefined when another filter (or Flate with parameters) encodes it. */
  data: Buffer | undefined;
  lengthAt: number;
  lengthEnd: number;
  dataAt: number;
  dataEnd: number;
}

/**
 * Stream `num` as the byte work reads it (page contents, /ToUnicode maps): undefined when its
 * /Length is not a direct number; throws if it is not a stream or /Length does not end at endstream.
 */
export function streamAt(reader: RawPdf, num: number): StreamAt | undefined {
  const at = reader.bodyOffset(num);
  const dict = reader.dict(num);
  const entries = dictEntries(dict);
  const length = entries.get("Length");
  if (!length || !/^\d+$/.test(length.value)) return undefined;
  const keyword = /[\0\t\n\f\r ]*stream(\r\n|\n)/y;
  keyword.lastIndex = at + dict.length;
  if (!keyword.test(reader.text)) throw new PdfLayoutError(`object ${num} is not a stream`);
  const dataAt = keyword.lastIndex;
  const dataEnd = dataAt + Number(length.value);
  if (!/^[\r\n]*endstream/.test(reader.text.slice(dataEnd, dataEnd + 12))) {
    throw new PdfLayoutError(`stream ${num}'s /Length does not end at endstream`);
  }
  const raw = Buffer.from(reader.text.slice(dataAt, dataEnd), "latin1");
  const filter = entries.get("Filter")?.value;
  const plain = !entries.has("DecodeParms") && (filter === undefined || filter === "/FlateDecode");
  return {
    data: !plain ? undefined : filter === undefined ? raw : inflateSync(raw),
    lengthAt: at + length.at,
    lengthEnd: at + length.end,
    dataAt,
    dataEnd,
  };
}

/**
 * Classic xref subsections for `offsets` (object number → byte offset, generation 0): one per run of
 * consecutive numbers, 20-byte entries.
 */
export function xrefSubsections(offsets: ReadonlyMap<number, number>): string {
  const nums = [...offsets.keys()].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < nums.length; ) {
    let j = i + 1;
    while (j < nums.length && nums[j] === (nums[j - 1] as number) + 1) j++;
    out.push(`${nums[i]} ${j - i}\n`);
    for (let k = i; k < j; k++) out.push(`${String(offsets.get(nums[k] as number)).padStart(10, "0")} 00000 n \n`);
    i = j;
  }
  return out.join("");
}
