import { artifactEdits } from "./artifacts.ts";
import { embeddedSource } from "./attachment.ts";
import { catalogEdits } from "./catalog.ts";
import { countPages, outlineTitleEdits } from "../pdf/index.ts";
import {
  type Edit,
  type NameTreeNode,
  PdfLayoutError,
  RawPdf,
  dictEntries,
  isWhite,
  pdfDate,
  pdfTextString,
  readNameTree,
  ref,
  stringBytes,
  textString,
} from "../pdf/index.ts";
import { annotationFlagEdits, headerEdits, metadataStream, outputIntent, type PdfaStandard, pdfaPart } from "./pdfa.ts";
import type { PdfMetadata } from "../types.ts";
import { metadataText } from "./xmp.ts";

export interface FinalMetadata extends PdfMetadata {
  title: string;
  producer: string;
  /** A date the input itself states (e.g. the report's date); absent means none is written. */
  date?: Date;
  /** The document's language (BCP 47): /Lang when Chromium wrote none, and the XMP's dc:language. */
  lang?: string;
  /** Stable identity of the input (hex, e.g. sha256 of the envelope): becomes the PDF's /ID. */
  documentId: string;
}

/** What `options.pdf` asks of the file (the combinations pdfOptionIssues refuses never reach here). */
export interface FinalOutput {
  /** An archival PDF: XMP identification, sRGB output intent, annotation flags, a PDF 1.7 header. */
  standard?: PdfaStandard;
  /** The attached source (attachment.ts's sourceJson): embedded as report.json, with PDF/A-3b an associated file. */
  source?: Uint8Array;
}

/**
 * Make Chromium's PDF ours and reproducible, in one pass over its bytes:
 * - replace the document information dictionary (Chromium writes the wall-clock time and its own
 *   producer) with one derived from the input alone;
 * - mend bookmark titles Chromium garbled (outline.ts), given the headings' real texts;
 * - renumber the tagged-PDF structure IDs (Chromium uses DOM node ids, which differ per render);
 * - make sure the catalog says what an accessible PDF's does (catalog.ts);
 * - for `output.standard`, make it PDF/A (pdfa.ts): XMP metadata saying what /Info says, an sRGB
 *   output intent, print flags on annotations, a PDF 1.7 header;
 * - for `output.source`, embed it (attachment.ts);
 * - add a trailer /ID from the input's hash.
 * New objects are appended after Chromium's and listed in an xref subsection of their own.
 * Also counts the pages, from the page tree.
 */
export async function finalizePdf(
  raw: Uint8Array,
  meta: FinalMetadata,
  headings: string[],
  output: FinalOutput = {},
): Promise<{ pdf: Uint8Array; pages: number }> {
  if (!/^[0-9A-Fa-f]{32,}$/.test(meta.documentId)) {
    throw new TypeError("documentId must be at least 32 hex digits (e.g. a sha256)");
  }
  if (output.source && output.standard === "PDF/A-2b") {
    throw new TypeError("PDF/A-2b embeds only PDF/A files: attach the source with PDF/A-3b");
  }
  const reader = new RawPdf(raw);
  const infoNumber = ref(reader.trailer, "Info");
  if (infoNumber === undefined) throw new PdfLayoutError("no /Info in the trailer");
  const infoAt = reader.bodyOffset(infoNumber);
  const infoEnd = infoAt + reader.dict(infoNumber).length;
  const info = infoEntries(meta);
  const edits: Edit[] = [
    { at: infoAt, end: infoEnd, text: `\n${infoDictionary(info, meta.date)}` },
    ...outlineTitleEdits(reader, headings),
    // Running headers, page numbers, the watermark: marked as artifacts (before structureIdEdits,
    // which never touches content streams).
    ...(await artifactEdits(reader)),
  ];

  // New objects, numbered on from Chromium's.
  const objects: string[] = [];
  const next = () => reader.nextObjectNumber() + objects.length;
  const { standard, source } = output;
  let metadata: number | undefined;
  let intents: string | undefined;
  if (standard) {
    const lang = textString(dictEntries(reader.dict(reader.rootRef())).get("Lang")?.value ?? "") || meta.lang;
    metadata = next();
    objects.push(metadataStream({ part: pdfaPart(standard), ...info, date: meta.date, lang }));
    const intent = outputIntent(next());
    objects.push(...intent.objects);
    intents = intent.entry;
    edits.push(...annotationFlagEdits(reader));
  }
  let attachment: { filespec: number; associated: boolean } | undefined;
  if (source) {
    const embedded = embeddedSource(source, next(), meta.date);
    objects.push(...embedded.objects);
    attachment = { filespec: embedded.filespec, associated: standard === "PDF/A-3b" };
  }
  if (standard || source) edits.push(...headerEdits(reader));
  edits.push(...catalogEdits(reader, { lang: meta.lang, metadata, outputIntents: intents, attachment }));
  edits.push(...structureIdEdits(reader, edits));
  const id = `<${meta.documentId.slice(0, 32).toUpperCase()}>`;
  const out = reader.splice(edits, `/ID [${id} ${id}]`, objects);
  return { pdf: new Uint8Array(Buffer.from(out, "latin1")), pages: countPages(reader) };
}

/**
 * Chromium tags structure elements with "/ID (node00000123)" from DOM node ids (Skia's "node%08d"),
 * which differ per render and grow through a browser's life. Worse, their relative order differs
 * too: on a freshly launched browser some nodes get their ids in another order than on a warm one
 * (a long table's first header cell gets 94 where the others get 4…10). So they are numbered 1, 2,
 * 3… in the order the elements that declare them are written, always 8 digits. That order is the
 * structure tree's, not the ids': Skia writes every StructElem in one walk over the tree (children
 * before their parent, object numbers handed out parent first), so the same document gives the
 * same order, cold or warm.
 *
 * Renumbered are the ids some element declares with /ID, wherever they occur as a string (/ID,
 * /Headers); other text such as a bookmark titled "node12345678", an escaped "\(node…)" or anything
 * inside another edit (a title being replaced) is left alone. The IDTree (the name tree from each
 * id to its element) is rewritten whole: its keys must stay sorted, and the new numbers sort
 * differently from the old ones.
 */
function structureIdEdits(reader: RawPdf, taken: Edit[]): Edit[] {
  const text = reader.text;
  /** Each declared id's new number, in the order of the declarations. */
  const numbers = new Map<string, number>();
  const at: number[] = [];
  const digits: string[] = [];
  const busy = [...taken].sort((a, b) => a.at - b.at);
  let next = 0;
  // A plain search: a long table has tens of thousands of these, in /Headers.
  for (let i = text.indexOf("(node"); i >= 0 && i < reader.xrefAt; i = text.indexOf("(node", i + 5)) {
    let end = i + 5;
    while (isDigit(text.charCodeAt(end))) end++;
    if (end - i - 5 < 8 || text.charCodeAt(end) !== 0x29 /* ) */ || text.charCodeAt(i - 1) === 0x5c /* \ */) continue;
    while (next < busy.length && (busy[next] as Edit).end <= i) next++;
    if (next < busy.length && (busy[next] as Edit).at <= i) continue;
    const id = text.slice(i + 5, end);
    let before = i - 1;
    while (isWhite(text.charCodeAt(before))) before--;
    if (text.startsWith("/ID", before - 2) && !numbers.has(id)) numbers.set(id, numbers.size + 1);
    at.push(i);
    digits.push(id);
  }
  if (numbers.size > 99_999_999) throw new PdfLayoutError("more than 99999999 structure ids");
  /** The string token an id becomes, for the ids whose token changes. */
  const renumbered = new Map<string, string>();
  for (const [id, n] of numbers) {
    const replacement = String(n).padStart(8, "0");
    if (replacement !== id) renumbered.set(id, `(node${replacement})`);
  }
  const tree = idTreeEdits(reader, (key) => {
    const id = /^\(node(\d{8,})\)$/.exec(key)?.[1];
    return (id === undefined ? undefined : renumbered.get(id)) ?? key;
  });
  // Occurrences inside the rewritten IDTree are left to it (both lists are in file order).
  const edits: Edit[] = [...tree];
  let t = 0;
  for (let k = 0; k < digits.length; k++) {
    const id = digits[k] as string;
    const replacement = renumbered.get(id);
    const from = at[k] as number;
    while (t < tree.length && (tree[t] as Edit).end <= from) t++;
    if (t < tree.length && (tree[t] as Edit).at <= from) continue;
    if (replacement !== undefined) edits.push({ at: from, end: from + id.length + 6, text: replacement });
  }
  return edits;
}

/**
 * The IDTree (/StructTreeRoot's /IDTree) with its keys renamed by `rename`: every pair sorted by
 * its new key, the leaves keeping their number of pairs in their order (Skia writes one leaf), and
 * each /Limits set to the first and last key below it. Edits in file order; none if there is no IDTree.
 */
function idTreeEdits(reader: RawPdf, rename: (key: string) => string): Edit[] {
  const structRoot = ref(reader.dict(reader.rootRef()), "StructTreeRoot");
  if (structRoot === undefined) return [];
  const entry = dictEntries(reader.dict(structRoot)).get("IDTree");
  if (entry === undefined) return [];
  const root = readNameTree(reader, entry.value, reader.bodyOffset(structRoot) + entry.at);

  const leaves: NameTreeNode[] = [];
  const collect = (node: NameTreeNode): void => {
    if (node.names) leaves.push(node);
    for (const kid of node.kids) collect(kid);
  };
  collect(root);
  const pairs = leaves.flatMap((leaf) =>
    (leaf.names?.pairs ?? []).map((p) => {
      const key = rename(p.key);
      return { key, bytes: stringBytes(key) as string, value: p.value };
    }),
  );
  pairs.sort((a, b) => (a.bytes < b.bytes ? -1 : a.bytes > b.bytes ? 1 : 0));

  const edits: Edit[] = [];
  const replace = (range: { at: number; end: number }, value: string): void => {
    if (reader.text.slice(range.at, range.end) !== value) edits.push({ at: range.at, end: range.end, text: value });
  };
  let dealt = 0;
  /** Deals the sorted pairs to the leaves below `node`, sets /Limits, returns the first and last key below it. */
  const rewrite = (node: NameTreeNode): [string, string] | undefined => {
    let span: [string, string] | undefined;
    if (node.names) {
      const mine = pairs.slice(dealt, dealt + node.names.pairs.length);
      dealt += mine.length;
      replace(node.names, `[${mine.map((p) => `${p.key} ${p.value}`).join(" ")}]`);
      if (mine.length > 0)
        span = [(mine[0] as (typeof pairs)[number]).key, (mine.at(-1) as (typeof pairs)[number]).key];
    }
    for (const kid of node.kids) {
      const below = rewrite(kid);
      if (below) span = span ? [span[0], below[1]] : below;
    }
    if (node.limits && span) replace(node.limits, `[${span[0]} ${span[1]}]`);
    return span;
  };
  rewrite(root);
  return edits.sort((a, b) => a.at - b.at);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The text entries of /Info (and of the XMP, which must say the same): empty ones left out. */
interface InfoEntries {
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  producer: string;
}

function infoEntries(meta: FinalMetadata): InfoEntries {
  const text = (value: string | undefined) => (value ? metadataText(value) || undefined : undefined);
  return {
    title: text(meta.title),
    author: text(meta.author),
    subject: text(meta.subject),
    keywords: text(Array.isArray(meta.keywords) ? meta.keywords.join(", ") : meta.keywords),
    producer: metadataText(meta.producer),
  };
}

function infoDictionary(info: InfoEntries, date: Date | undefined): string {
  const entries: [string, string | undefined][] = [
    ["Title", info.title],
    ["Author", info.author],
    ["Subject", info.subject],
    ["Keywords", info.keywords],
    ["Creator", info.producer],
    ["Producer", info.producer],
  ];
  const lines = entries.filter(([, v]) => v).map(([k, v]) => `/${k} ${pdfTextString(v ?? "")}`);
  if (date) {
    const d = pdfDate(date);
    lines.push(`/CreationDate ${d}`, `/ModDate ${d}`);
  }
  return `<<${lines.join("\n")}>>`;
}
