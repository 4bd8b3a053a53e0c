/**
 * Artifacts of a tagged PDF: what Chromium draws for no element of the accessibility tree — the
 * `@page` margin boxes (running headers and footers, page numbers), the watermark (aria-hidden) —
 * it writes outside every marked-content sequence. No structure element owns that content, but
 * PDF/UA (ISO 14289-1, 7.1) wants it marked as an artifact, or assistive technology may read it
 * as text of unknown place. Skia has artifact node ids; Chromium never uses them.
 *
 * So each page's content stream is read (inflated), every run of painting outside marked content
 * is enclosed in `/Artifact BMC … EMC`, and the stream is deflated again. Runs never cross `q`/`Q`,
 * marked content or a text object's bounds, so every sequence nests as PDF requires. A stream laid
 * out otherwise (marked content inside a text object, an inline image, unbalanced operators, a
 * filter other than Flate) is left as it is: that page's artifacts stay unmarked, never broken.
 * An untagged PDF (no /StructTreeRoot) gets no edits.
 */
import pLimit from "p-limit";
import { pageTree } from "../pdf/index.ts";
import { type Edit, type RawPdf, arrayItems, deflated, dictEntries, ref, refValue, streamAt } from "../pdf/index.ts";

/** Edits that mark every page's unmarked content as /Artifact (see the module's comment). */
export async function artifactEdits(reader: RawPdf): Promise<Edit[]> {
  const catalog = reader.dict(reader.rootRef());
  if (ref(catalog, "StructTreeRoot") === undefined) return [];
  const streams = new Set<number>(); // a stream shared by two pages is marked once
  for (const page of pageTree(reader, catalog).keys()) {
    const contents = dictEntries(reader.dict(page)).get("Contents")?.value ?? "";
    const refs = contents.startsWith("[") ? arrayItems(contents, 0).map((i) => i.value) : [contents];
    for (const value of refs) {
      const num = refValue(value);
      if (num !== undefined) streams.add(num);
    }
  }
  // A few streams at a time, each compressed on the thread pool while the next is marked; no more
  // than a few inflated pages are held at once, however long the report.
  const limit = pLimit(STREAMS_AT_ONCE);
  const edits = await Promise.all([...streams].map((num) => limit(() => markedStream(reader, num))));
  return edits.flat();
}

const STREAMS_AT_ONCE = 4;

/** Edits that replace content stream `num` with its marked copy (none if there is nothing to mark). */
async function markedStream(reader: RawPdf, num: number): Promise<Edit[]> {
  const stream = streamAt(reader, num);
  if (!stream?.data) return [];
  const marked = markArtifacts(stream.data.toString("latin1"));
  if (marked === undefined) return [];
  const data = await deflated(marked);
  return [
    { at: stream.lengthAt, end: stream.lengthEnd, text: String(data.length) },
    { at: stream.dataAt, end: stream.dataEnd, text: data },
  ];
}

const OPEN = "/Artifact BMC\n";
const CLOSE = "\nEMC";

enum Op {
  Other,
  /** BDC, BMC */
  Begin,
  /** EMC */
  End,
  /** q, Q */
  State,
  TextBegin,
  TextEnd,
  /** BI, ID, EI */
  InlineImage,
  /** Text shown, paths filled or stroked, XObjects, shadings. */
  Paint,
}

/** Operator → kind, keyed by its (up to three) character codes, low byte first. */
const KINDS = new Map<number, Op>();
const kinds: [Op, string[]][] = [
  [Op.Begin, ["BDC", "BMC"]],
  [Op.End, ["EMC"]],
  [Op.State, ["q", "Q"]],
  [Op.TextBegin, ["BT"]],
  [Op.TextEnd, ["ET"]],
  [Op.InlineImage, ["BI", "ID", "EI"]],
  [Op.Paint, ["Tj", "TJ", "'", '"', "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "Do", "sh"]],
];
for (const [kind, names] of kinds) {
  for (const name of names)
    KINDS.set(
      [...name].reduce((key, ch, k) => key | (ch.charCodeAt(0) << (8 * k)), 0),
      kind,
    );
}

/**
 * The content stream with each run of painting outside marked content enclosed in
 * `/Artifact BMC … EMC`; undefined when there is none, or the stream is not laid out as expected.
 */
export function markArtifacts(stream: string): string | undefined {
  /** Marked-content depth; whether a text object is open, and whether it painted outside marked content. */
  let depth = 0;
  let inText = false;
  let textPainted = false;
  /** The open run: where its first operator's operands start, where its last painting ends (-1: none yet). */
  let runAt = -1;
  let paintEnd = -1;
  const inserts: [number, string][] = [];
  const close = (): void => {
    if (runAt >= 0 && paintEnd >= 0) inserts.push([runAt, OPEN], [paintEnd, CLOSE]);
    runAt = -1;
    paintEnd = -1;
  };
  let operandAt = -1;
  const n = stream.length;
  let i = 0;
  // One pass, character by character: only the operators matter, and where each one's operands begin.
  while (i < n) {
    const c = stream.charCodeAt(i);
    if (TOKEN_END[c] === 1 && c !== 0x25 && c !== 0x28 && c !== 0x3c && c !== 0x5b && c !== 0x2f) {
      i++; // white space, and the ends of arrays and dictionaries
      continue;
    }
    const start = i;
    if (c === 0x25 /* % */) {
      while (i < n && stream.charCodeAt(i) !== 0x0a && stream.charCodeAt(i) !== 0x0d) i++;
      continue;
    }
    if (c === 0x28 /* ( */) {
      i = literalEnd(stream, i + 1);
      if (i < 0) return undefined;
    } else if (c === 0x3c /* < */) {
      if (stream.charCodeAt(i + 1) === 0x3c) i += 2;
      else {
        i = stream.indexOf(">", i) + 1;
        if (i === 0) return undefined;
      }
    } else if (c === 0x5b /* [ */) i++;
    else {
      i++;
      while (i < n && TOKEN_END[stream.charCodeAt(i)] === 0) i++;
    }
    // Operands (strings, dictionaries, arrays, names, numbers): only where the first one starts.
    const number = (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e;
    if (c === 0x28 || c === 0x3c || c === 0x5b || c === 0x2f || number) {
      if (operandAt < 0) operandAt = start;
      continue;
    }
    // Operators are at most three characters; longer words (true, false, null) are operands.
    const length = i - start;
    if (length > 3) {
      if (operandAt < 0) operandAt = start;
      continue;
    }
    const kind =
      KINDS.get(
        c |
          (length > 1 ? stream.charCodeAt(start + 1) << 8 : 0) |
          (length > 2 ? stream.charCodeAt(start + 2) << 16 : 0),
      ) ?? Op.Other;
    const opAt = operandAt < 0 ? start : operandAt;
    operandAt = -1;
    // Marked content and q/Q inside a text object are not Skia's way: leave such a stream alone.
    switch (kind) {
      case Op.Begin:
        if (inText) return undefined;
        if (depth === 0) close();
        depth++;
        continue;
      case Op.End:
        if (inText || depth === 0) return undefined;
        depth--;
        continue;
      case Op.State:
        if (inText) return undefined;
        if (depth === 0) close();
        continue;
      case Op.TextBegin:
        if (inText) return undefined;
        inText = true;
        textPainted = false;
        break;
      case Op.TextEnd:
        if (!inText) return undefined;
        inText = false;
        // A run that shows text ends after its text object, never inside it.
        if (depth === 0 && textPainted) paintEnd = i;
        continue;
      case Op.InlineImage:
        return undefined; // inline image data is not tokens (Skia writes none)
    }
    if (depth > 0) continue;
    if (runAt < 0) runAt = opAt;
    if (kind === Op.Paint) {
      if (inText) textPainted = true;
      else paintEnd = i;
    }
  }
  if (depth !== 0 || inText) return undefined;
  close();
  if (inserts.length === 0) return undefined;
  let out = "";
  let from = 0;
  for (const [at, text] of inserts) {
    out += stream.slice(from, at) + text;
    from = at;
  }
  return out + stream.slice(from);
}

/** 1 for white space and delimiters: what ends an operator or number (every code above 255 too: never in latin1). */
const TOKEN_END = new Uint8Array(65536);
for (const ch of "\0\t\n\f\r ()<>[]{}/%") TOKEN_END[ch.charCodeAt(0)] = 1;

/** Where a literal string whose "(" is before `from` ends (after its ")"); -1 if it does not. */
function literalEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \\ */) i++;
    else if (c === 0x28) depth++;
    else if (c === 0x29 && depth-- === 0) return i + 1;
  }
  return -1;
}
