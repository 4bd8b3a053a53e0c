/**
 * Ways to read a PDF that share no code with functions/core: pdf.js (what browsers use), pdf-lib,
 * and a qpdf-style structure check written here on its own terms.
 */
import { PDFDocument } from "pdf-lib";
import { getDocument, type PDFDocumentProxy } from "pdfjs-dist/legacy/build/pdf.mjs";

/**
 * Opens `pdf` in pdf.js, runs `read`, and returns what it read with every warning pdf.js printed
 * ("Indexing all PDF objects" is how pdf.js says it had to rebuild a broken xref).
 */
export async function withPdfjs<T>(pdf: Uint8Array, read: (doc: PDFDocumentProxy) => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
  };
  try {
    const doc = await getDocument({ data: new Uint8Array(pdf), verbosity: 1, isEvalSupported: false, useSystemFonts: false }).promise;
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
      if (!header || Number(header[1]) !== num || Number(header[2]) !== Number(gen) || (before !== undefined && /[0-9]/.test(before))) {
        problems.push(`object ${num}: offset ${at} holds ${JSON.stringify(text.slice(at, at + 12))}`);
      }
    }
    num++;
  }
  if (entries === 0) problems.push("no objects in the xref");
  return problems;
}
