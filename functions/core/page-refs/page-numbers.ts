/**
 * The PDF side of page references (page-refs.ts): on which page each referenced element begins,
 * and writing those numbers into the placeholders of the one print.
 *
 * Where an element is comes from the PDF itself: each reference is a link to its element, so Skia
 * writes a named destination for it (catalog /Dests: `/ID [pageRef /XYZ x y 0]`). The placeholders
 * are found as glyphs: per font, the ten glyphs whose /ToUnicode says "0123456789" directly followed
 * by three digit glyphs (the reference's index). Anything unexpected — a placeholder missing, found
 * twice, split across strings, or text that merely looks like one — leaves the PDF as it is and
 * says why, so the caller prints again with the numbers as text: never a wrong number.
 */
import { deflateSync } from "node:zlib";
import { textShows, type ShownString, UnreadableContent } from "../pdf/index.ts";
import { pageTree } from "../pdf/index.ts";
import { pageRefError } from "./page-refs.ts";
import {
  PdfLayoutError,
  RawPdf,
  arrayItems,
  dictEntries,
  type Edit,
  hexBytes,
  ref,
  refValue,
  skipSpace,
  skipValue,
  type StreamAt,
  streamAt,
} from "../pdf/index.ts";

export type PageNumbering =
  /** The numbers are in: the PDF to keep. */
  | { filled: true; pdf: Uint8Array; pages: ReadonlyMap<string, number> }
  /** They could not be written in place: print again with `pages` as text. */
  | { filled: false; reason: string; pages: ReadonlyMap<string, number> };

const DIGITS = "0123456789";

/** Fill the placeholders of references `ids` (in order; see reservePageRefs) with their pages. */
export function fillPageNumbers(pdf: Uint8Array, ids: readonly string[], room: number): PageNumbering {
  const reader = new RawPdf(pdf);
  const pages = targetPages(reader, ids);
  const unfilled = (reason: string): PageNumbering => ({ filled: false, reason, pages });
  const widest = Math.max(...pages.values());
  if (String(widest).length > room) return unfilled(`page ${widest} does not fit ${room} digits`);
  if (String(ids.length - 1).length > room) return unfilled(`${ids.length} references do not fit ${room} digits`);

  const edits: Edit[] = [];
  const found = new Set<number>();
  const wanted = new Set(ids);
  const fonts = new FontCache(reader);
  try {
    for (const page of pagesLinkingTo(reader, wanted)) {
      for (const stream of contentStreams(reader, page)) {
        const resources = fontResources(reader, page);
        const placeholders = findPlaceholders(stream.text, room, (name) => fonts.get(resources.get(name)));
        if (placeholders.length === 0) continue;
        const changes: Edit[] = [];
        for (const p of placeholders) {
          if (p.index >= ids.length || found.has(p.index))
            return unfilled(`placeholder ${p.index} is not one of a kind`);
          found.add(p.index);
          const number = String(pages.get(ids[p.index] as string)).padStart(room, " ");
          for (const glyph of p.digitSet) changes.push({ at: glyph.at, end: glyph.end, text: "" });
          p.slot.forEach((glyph, k) => {
            const digit = number[k] as string;
            const code = digit === " " ? undefined : p.digitSet[Number(digit)]?.hex;
            changes.push({ at: glyph.at, end: glyph.end, text: code === undefined ? "" : `<${code}> Tj` });
          });
        }
        edits.push(...stream.replaceWith(applyEdits(stream.text, changes)));
      }
    }
  } catch (error) {
    if (error instanceof UnreadableContent) return unfilled(error.message);
    throw error;
  }
  if (found.size !== ids.length) return unfilled(`${ids.length - found.size} placeholders were not found`);
  return { filled: true, pdf: new Uint8Array(Buffer.from(reader.splice(edits), "latin1")), pages };
}

/** The 1-based page on which each id's element begins, from the named destinations. */
export function pageRefTargets(pdf: Uint8Array, ids: readonly string[]): Map<string, number> {
  return targetPages(new RawPdf(pdf), ids);
}

function targetPages(reader: RawPdf, ids: readonly string[]): Map<string, number> {
  const catalog = reader.dict(reader.rootRef());
  const pageNumbers = pageTree(reader, catalog);
  const destsRef = ref(catalog, "Dests");
  const dests = destsRef === undefined ? new Map() : dictEntries(reader.dict(destsRef));
  const pages = new Map<string, number>();
  for (const id of ids) {
    let value = dests.get(id)?.value ?? "";
    if (value.startsWith("<<")) value = dictEntries(value).get("D")?.value ?? "";
    const target = /^\[[\0\t\n\f\r ]*(\d+)[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]+R/.exec(value)?.[1];
    const page = target === undefined ? undefined : pageNumbers.get(Number(target));
    if (page === undefined) {
      throw pageRefError(
        `<page-ref for="${id}">: no element with id "${id}" is printed (none has it, or it is hidden, or every reference to it is)`,
      );
    }
    pages.set(id, page);
  }
  return pages;
}

/** Page objects, in order, with a link to one of `ids` (a reference is such a link). */
function pagesLinkingTo(reader: RawPdf, ids: ReadonlySet<string>): number[] {
  const catalog = reader.dict(reader.rootRef());
  return [...pageTree(reader, catalog).keys()].filter((page) => {
    const annots = resolved(reader, dictEntries(reader.dict(page)).get("Annots")?.value);
    if (!annots?.startsWith("[")) return false;
    return arrayItems(annots, 0).some((item) => {
      const annot = resolved(reader, item.value);
      const dest = annot?.startsWith("<<") ? dictEntries(annot).get("Dest")?.value : undefined;
      return dest?.startsWith("/") === true && ids.has(dest.slice(1));
    });
  });
}

/** A direct value, or the value (dictionary, array, …) a reference points to. */
function resolved(reader: RawPdf, value: string | undefined): string | undefined {
  const num = refValue(value);
  if (num === undefined) return value;
  const at = skipSpace(reader.text, reader.bodyOffset(num));
  return reader.text.slice(at, skipValue(reader.text, at));
}

/** A page's font resource names → font object numbers. */
function fontResources(reader: RawPdf, page: number): Map<string, number> {
  const resources = resolved(reader, dictEntries(reader.dict(page)).get("Resources")?.value);
  const fonts = resources?.startsWith("<<") ? resolved(reader, dictEntries(resources).get("Font")?.value) : undefined;
  const out = new Map<string, number>();
  if (!fonts?.startsWith("<<")) return out;
  for (const [name, entry] of dictEntries(fonts)) {
    const num = refValue(entry.value);
    if (num !== undefined) out.set(name, num);
  }
  return out;
}

interface ContentStream {
  text: string;
  /** Edits that make the stream object hold `text` instead (deflated). */
  replaceWith(text: string): Edit[];
}

function contentStreams(reader: RawPdf, page: number): ContentStream[] {
  const contents = dictEntries(reader.dict(page)).get("Contents")?.value ?? "";
  const refs = contents.startsWith("[") ? arrayItems(contents, 0).map((i) => i.value) : [contents];
  return refs.map((value) => {
    const num = refValue(value);
    if (num === undefined) throw new PdfLayoutError(`page ${page} has content that is not a stream reference`);
    const stream = readStream(reader, num);
    return {
      text: stream.data.toString("latin1"),
      replaceWith: (text) => {
        const data = deflateSync(Buffer.from(text, "latin1")).toString("latin1");
        return [
          { at: stream.lengthAt, end: stream.lengthEnd, text: String(data.length) },
          { at: stream.dataAt, end: stream.dataEnd, text: data },
        ];
      },
    };
  });
}

/** A stream object's data, inflated, and where its /Length value and raw data are in the file. */
function readStream(reader: RawPdf, num: number): StreamAt & { data: Buffer } {
  const stream = streamAt(reader, num);
  if (!stream) throw new PdfLayoutError(`stream ${num} has no direct /Length`);
  if (!stream.data) throw new UnreadableContent(`stream ${num} is not plain Flate`);
  return { ...stream, data: stream.data };
}

interface Font {
  /** Bytes per character code: 2 for a Type0 (Identity-H) font, 1 otherwise. */
  codeBytes: number;
  /** Character code (as hex, lower case) → text, from /ToUnicode. */
  text: Map<string, string>;
}

/** Fonts by object number, each read once per file. */
class FontCache {
  private readonly fonts = new Map<number, Font>();
  constructor(private readonly reader: RawPdf) {}

  get(num: number | undefined): Font | undefined {
    if (num === undefined) return undefined;
    let font = this.fonts.get(num);
    if (!font) {
      const entries = dictEntries(this.reader.dict(num));
      const toUnicode = refValue(entries.get("ToUnicode")?.value);
      const codeBytes = entries.get("Subtype")?.value === "/Type0" ? 2 : 1;
      const cmap = toUnicode === undefined ? "" : readStream(this.reader, toUnicode).data.toString("latin1");
      font = { codeBytes, text: toUnicodeMap(cmap) };
      this.fonts.set(num, font);
    }
    return font;
  }
}

/** A /ToUnicode CMap's bfchar and bfrange entries: code (hex, lower case) → text. */
export function toUnicodeMap(cmap: string): Map<string, string> {
  const out = new Map<string, string>();
  const utf16 = (hex: string) => Buffer.from(hexBytes(hex)).swap16().toString("utf16le");
  for (const block of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const m of (block[1] ?? "").matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>/g)) {
      out.set((m[1] ?? "").toLowerCase(), utf16(m[2] ?? ""));
    }
  }
  for (const block of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const m of (block[1] ?? "").matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])/g)) {
      const [lo, hi, dst] = [m[1] ?? "", m[2] ?? "", m[3] ?? ""];
      const first = Number.parseInt(lo, 16);
      const count = Number.parseInt(hi, 16) - first + 1;
      if (count < 1 || count > 0x10000) continue;
      const targets = dst.startsWith("[") ? [...dst.matchAll(/<([0-9A-Fa-f]*)>/g)].map((t) => t[1] ?? "") : undefined;
      for (let k = 0; k < count; k++) {
        const code = (first + k).toString(16).padStart(lo.length, "0");
        if (targets) {
          if (targets[k] !== undefined) out.set(code, utf16(targets[k] as string));
        } else {
          const base = hexBytes(dst.slice(1, -1));
          base.writeUInt16BE((base.readUInt16BE(base.length - 2) + k) & 0xffff, base.length - 2);
          out.set(code, Buffer.from(base).swap16().toString("utf16le"));
        }
      }
    }
  }
  return out;
}

interface Placeholder {
  index: number;
  /** The glyphs of 0–9, in order (removed; their codes write the numbers). */
  digitSet: ShownString[];
  /** The reference's digits (rewritten). */
  slot: ShownString[];
}

/**
 * The ten digits' size ÷ the reference's own, at most: page-refs.ts draws them at 0.2em, and
 * Chromium may raise small text to its minimum font size (6px).
 */
const DIGIT_SET_SCALE = 0.6;

/**
 * Runs of one-glyph strings in one font reading "0123456789" then `room` digits, the ten smaller
 * than the `room` (page-refs.ts draws them at a fifth of its size). Text that merely reads like one is not
 * taken for one: its sizes differ. Runs that overlap (text ending in "0123456789" just before a
 * placeholder) are ambiguous: none of them is returned, so the placeholder is missed and the render
 * prints the numbers as text instead.
 */
function findPlaceholders(stream: string, room: number, fontOf: (name: string) => Font | undefined): Placeholder[] {
  const shows = textShows(stream);
  const length = DIGITS.length + room;
  const glyph = (i: number, font: string): string | undefined => {
    const show = shows[i];
    if (show?.kind !== "string" || show.font !== font || show.hex === undefined) return undefined;
    const f = fontOf(font);
    const hex = show.hex.replace(/[\0\t\n\f\r ]+/g, "").toLowerCase();
    if (!f || hex.length !== f.codeBytes * 2) return undefined;
    return f.text.get(hex);
  };
  const candidates: { at: number; index: number }[] = [];
  for (let i = 0; i + length <= shows.length; i++) {
    const first = shows[i];
    if (first?.kind !== "string") continue;
    let text = "";
    for (let k = 0; k < length; k++) text += glyph(i + k, first.font) ?? "x";
    if (!text.startsWith(DIGITS) || !/^\d+$/.test(text)) continue;
    const run = shows.slice(i, i + length) as ShownString[];
    const setSize = run[0]?.size ?? 0;
    const slotSize = run[DIGITS.length]?.size ?? 0;
    const sameSizes = run.every((s, k) => s.size === (k < DIGITS.length ? setSize : slotSize));
    if (!sameSizes || setSize > slotSize * DIGIT_SET_SCALE) continue;
    candidates.push({ at: i, index: Number(text.slice(DIGITS.length)) });
  }
  const out: Placeholder[] = [];
  for (const [n, c] of candidates.entries()) {
    const overlaps = [candidates[n - 1], candidates[n + 1]].some((o) => o && Math.abs(o.at - c.at) < length);
    if (overlaps) continue;
    const run = shows.slice(c.at, c.at + length) as ShownString[];
    out.push({ index: c.index, digitSet: run.slice(0, DIGITS.length), slot: run.slice(DIGITS.length) });
  }
  return out;
}

function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.at - b.at);
  let out = "";
  let from = 0;
  for (const e of sorted) {
    out += text.slice(from, e.at) + e.text;
    from = e.end;
  }
  return out + text.slice(from);
}
