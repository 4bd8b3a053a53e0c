/**
 * Ways to read a PDF that share no code with functions/core: pdf.js (what browsers use), pdf-lib,
 * and a qpdf-style structure check written here on its own terms.
 */
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFRef, PDFString, type PDFObject } from "pdf-lib";
import { getDocument, type PDFDocumentProxy } from "pdfjs-dist/legacy/build/pdf.mjs";

/**
 * Opens `pdf` in pdf.js, runs `read`, and returns what it read with every warning pdf.js printed
 * ("Indexing all PDF objects" is how pdf.js says it had to rebuild a broken xref).
 */
export async function withPdfjs<T>(
  pdf: Uint8Array,
  read: (doc: PDFDocumentProxy) => Promise<T>,
): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  };
  try {
    const doc = await getDocument({
      data: new Uint8Array(pdf),
      verbosity: 1,
      isEvalSupported: false,
      useSystemFonts: false,
    }).promise;
    try {
      return { value: await read(doc), warnings };
    } finally {
      await doc.destroy();
    }
  } finally {
    console.warn = original;
  }
}

export interface PdfjsBookmark {
  title: string;
  level: number;
  page: number;
}

/** The bookmarks as pdf.js reads them, depth first, with the 1-based page each points to. */
export async function pdfjsBookmarks(doc: PDFDocumentProxy): Promise<PdfjsBookmark[]> {
  type Item = { title: string; dest: unknown; items: Item[] };
  const out: PdfjsBookmark[] = [];
  const walk = async (items: Item[] | null, level: number) => {
    for (const item of items ?? []) {
      const dest = item.dest as [{ num: number; gen: number }] | null;
      out.push({ title: item.title, level, page: dest ? (await doc.getPageIndex(dest[0])) + 1 : 0 });
      await walk(item.items, level + 1);
    }
  };
  await walk((await doc.getOutline()) as Item[] | null, 1);
  return out;
}

/** pdf-lib's reading of the file (it parses every object; throwOnInvalidObject makes it strict). */
export async function pdfLib(pdf: Uint8Array): Promise<PDFDocument> {
  return PDFDocument.load(pdf, { updateMetadata: false, throwOnInvalidObject: true });
}

/**
 * What qpdf --check would say about the cross-reference: startxref points at "xref", the table
 * parses, and every in-use entry points at "N G obj" of that number and generation (at a token
 * start). Empty when all is well.
 */
export function xrefProblems(pdf: Uint8Array): string[] {
  const text = Buffer.from(pdf).toString("latin1");
  const tail = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(text.slice(-200));
  if (!tail) return ["no startxref at the end"];
  const xrefAt = Number(tail[1]);
  if (!text.startsWith("xref", xrefAt)) return [`startxref ${xrefAt} does not point at "xref"`];
  const end = text.indexOf("trailer", xrefAt);
  if (end < 0) return ["no trailer"];
  const problems: string[] = [];
  const lines = text
    .slice(xrefAt + 4, end)
    .split(/\r\n|\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  let num = -1;
  let entries = 0;
  for (const line of lines) {
    const fields = line.split(/ +/);
    if (fields.length === 2) {
      num = Number(fields[0]);
      continue;
    }
    const [offset, gen, kind] = fields;
    if (fields.length !== 3 || offset?.length !== 10 || gen?.length !== 5 || (kind !== "n" && kind !== "f")) {
      problems.push(`bad xref line ${JSON.stringify(line)}`);
      continue;
    }
    if (kind === "n") {
      entries++;
      const at = Number(offset);
      const header = /^(\d+)\s+(\d+)\s+obj/.exec(text.slice(at, at + 40));
      const before = at === 0 ? "" : text[at - 1];
      if (
        !header ||
        Number(header[1]) !== num ||
        Number(header[2]) !== Number(gen) ||
        (before !== undefined && /[0-9]/.test(before))
      ) {
        problems.push(`object ${num}: offset ${at} holds ${JSON.stringify(text.slice(at, at + 12))}`);
      }
    }
    num++;
  }
  if (entries === 0) problems.push("no objects in the xref");
  return problems;
}

/** A name tree as pdf-lib reads it, and what is wrong with it as one (PDF 32000-1, 7.9.6). */
export interface NameTreeReport {
  /** Each leaf, left to right: its /Limits and its pairs (key bytes as latin1, the object number the value refers to). */
  leaves: { limits?: [string, string]; names: [string, number][] }[];
  /** Keys out of order, /Limits that are not the first and last key below, nodes of the wrong shape. Empty when all is well. */
  problems: string[];
  /** A key looked up as a reader does (pdf.js's NameTree.getRaw): down by /Limits, then a binary search in the leaf. */
  lookup(key: string): number | undefined;
}

/** The structure tree's /IDTree, read with pdf-lib; undefined if there is none. */
export function structureIdTree(doc: PDFDocument): NameTreeReport | undefined {
  const structRoot = doc.catalog.lookupMaybe(PDFName.of("StructTreeRoot"), PDFDict);
  const root = structRoot?.lookupMaybe(PDFName.of("IDTree"), PDFDict);
  return root ? nameTree(root) : undefined;
}

/** The bytes of a string object as latin1 text (one char per byte: JS comparison is byte order). */
export function stringKey(value: PDFObject | undefined): string | undefined {
  return value instanceof PDFString || value instanceof PDFHexString
    ? Buffer.from(value.asBytes()).toString("latin1")
    : undefined;
}

function nameTree(root: PDFDict): NameTreeReport {
  const leaves: NameTreeReport["leaves"] = [];
  const problems: string[] = [];
  const Kids = PDFName.of("Kids");
  const Names = PDFName.of("Names");
  const Limits = PDFName.of("Limits");
  const limitsOf = (node: PDFDict): [string, string] | undefined => {
    const limits = node.lookupMaybe(Limits, PDFArray);
    if (!limits) return undefined;
    const [low, high] = [stringKey(limits.lookup(0)), stringKey(limits.lookup(1))];
    if (limits.size() !== 2 || low === undefined || high === undefined) {
      problems.push(`malformed /Limits ${limits.toString()}`);
      return undefined;
    }
    return [low, high];
  };
  /** The first and last key below `node`. */
  const walk = (node: PDFDict, isRoot: boolean): [string, string] | undefined => {
    const kids = node.lookupMaybe(Kids, PDFArray);
    const names = node.lookupMaybe(Names, PDFArray);
    const limits = limitsOf(node);
    if (isRoot && limits) problems.push("the root has /Limits");
    if (!isRoot && !limits) problems.push("a node other than the root has no /Limits");
    if (!!kids === !!names) problems.push("a node without exactly one of /Kids and /Names");
    let span: [string, string] | undefined;
    if (names) {
      const pairs: [string, number][] = [];
      for (let i = 0; i < names.size(); i += 2) {
        const key = stringKey(names.lookup(i));
        const value = names.get(i + 1);
        if (key === undefined || !(value instanceof PDFRef))
          problems.push(`pair ${i / 2}: not a string and a reference`);
        else pairs.push([key, value.objectNumber]);
      }
      leaves.push({ limits, names: pairs });
      if (pairs.length > 0) span = [(pairs[0] as [string, number])[0], (pairs.at(-1) as [string, number])[0]];
    }
    for (let i = 0; kids && i < kids.size(); i++) {
      const below = walk(kids.lookup(i, PDFDict), false);
      if (below) span = span ? [span[0], below[1]] : below;
    }
    if (limits && span && (limits[0] !== span[0] || limits[1] !== span[1])) {
      problems.push(`/Limits [${limits.join(" ")}] but the keys below run from ${span[0]} to ${span[1]}`);
    }
    return span;
  };
  walk(root, true);
  const keys = leaves.flatMap((l) => l.names.map(([k]) => k));
  for (let i = 1; i < keys.length; i++) {
    if (!((keys[i - 1] as string) < (keys[i] as string)))
      problems.push(`keys out of order: ${keys[i - 1]} before ${keys[i]}`);
  }
  const lookup = (key: string): number | undefined => {
    let node = root;
    for (let depth = 0; node.has(Kids); depth++) {
      const kids = node.lookup(Kids, PDFArray);
      let [l, r] = [0, kids.size() - 1];
      let found: PDFDict | undefined;
      while (l <= r && !found) {
        const m = (l + r) >> 1;
        const kid = kids.lookup(m, PDFDict);
        const [low, high] = limitsOf(kid) ?? ["", ""];
        if (key < low) r = m - 1;
        else if (key > high) l = m + 1;
        else found = kid;
      }
      if (!found || depth > 10) return undefined;
      node = found;
    }
    const names = node.lookupMaybe(Names, PDFArray);
    let [l, r] = [0, (names?.size() ?? 0) / 2 - 1];
    while (names && l <= r) {
      const m = (l + r) >> 1;
      const at = stringKey(names.lookup(m * 2)) ?? "";
      if (key < at) r = m - 1;
      else if (key > at) l = m + 1;
      else return (names.get(m * 2 + 1) as PDFRef).objectNumber;
    }
    return undefined;
  };
  return { leaves, problems, lookup };
}
