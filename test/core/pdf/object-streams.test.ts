/**
 * packStructure (functions/core/object-streams.ts) on a real Chromium print (fixtures/chromium.pdf,
 * finalised) and on hand-written Skia-shaped files: the structure tree moves into object streams,
 * everything a reader sees stays the same. Read back with pdf.js, pdf-lib, and poppler's pdfinfo and
 * qpdf where they are installed (apt-get install poppler-utils qpdf).
 */
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { PDFDict, PDFName, PDFRef, type PDFString } from "pdf-lib";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { describe, expect, it } from "vitest";
import { encryptPdf } from "../../../functions/core/secure/encrypt.ts";
import { finalizePdf } from "../../../functions/core/archival/finalize.ts";
import { headingTexts } from "../../../functions/core/html/headings.ts";
import { packStructure } from "../../../functions/core/pdf/object-streams.ts";
import { dictEntries, PdfLayoutError, RawPdf } from "../../../functions/core/pdf/pdf-bytes.ts";
import { pdfLib, pdfjsBookmarks, withPdfjs } from "../../helpers/independent-pdf.ts";
import { latin1, type PdfObject, skiaReport, text, writePdf } from "../../helpers/skia-pdf.ts";
import { hasTool, runTool } from "../../helpers/pdf-tools.ts";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/chromium/${name}`, import.meta.url)));
const finalised = (
  await finalizePdf(
    fixture("chromium.pdf"),
    {
      title: "Fixture",
      producer: "report-render",
      documentId: "ab".repeat(32),
    },
    headingTexts(readFileSync(new URL("../../fixtures/chromium/chromium.html", import.meta.url), "utf8")),
  )
).pdf;

const poppler = hasTool("pdfinfo");
const qpdf = hasTool("qpdf");
const tool = runTool;

/** What a reader sees: pages, bookmarks, and every page's structure tree (pdf.js). */
async function seen(pdf: Uint8Array, password?: string) {
  const doc = await getDocument({ data: new Uint8Array(pdf), password, verbosity: 0, isEvalSupported: false }).promise;
  try {
    const trees: unknown[] = [];
    for (let p = 1; p <= doc.numPages; p++) trees.push(await (await doc.getPage(p)).getStructTree());
    return { pages: doc.numPages, bookmarks: await pdfjsBookmarks(doc), trees };
  } finally {
    await doc.destroy();
  }
}

/** The numbers of the objects pdf-lib finds with /Type /StructElem (in object streams or not). */
async function structElems(pdf: Uint8Array): Promise<number[]> {
  const doc = await pdfLib(pdf);
  return doc.context
    .enumerateIndirectObjects()
    .filter(([, o]) => o instanceof PDFDict && o.get(PDFName.of("Type"))?.toString() === "/StructElem")
    .map(([r]) => r.objectNumber)
    .sort((a, b) => a - b);
}

const packed = await packStructure(finalised);

describe("packStructure on Chromium's output", () => {
  it("reads the same in pdf.js: pages, bookmarks, every page's structure tree", async () => {
    const before = await seen(finalised);
    expect(before.trees.some((t) => t !== null)).toBe(true);
    expect(await seen(packed)).toEqual(before);
    const { warnings } = await withPdfjs(packed, async (doc) => doc.getPage(1));
    expect(warnings).toEqual([]);
  });

  it("keeps every structure element (pdf-lib) and puts each in an object stream, out of the classic table", async () => {
    const elems = await structElems(finalised);
    expect(elems.length).toBeGreaterThan(20);
    expect(await structElems(packed)).toEqual(elems);
    expect(text(packed).match(/\/Type \/ObjStm\b/g)?.length).toBeGreaterThan(0);
    const table = text(packed).slice(text(packed).lastIndexOf("\nxref\n"));
    const listed = tableNumbers(table);
    for (const num of elems) expect(listed.has(num)).toBe(false);
    expect(text(packed)).not.toMatch(/\/Type \/StructElem/); // no element left as plain text
  });

  it("is a hybrid file: header 1.5, the trailer's /XRefStm at an unencrypted /Type /XRef stream of type 2 entries", () => {
    const t = text(packed);
    expect(t.startsWith("%PDF-1.5\n")).toBe(true);
    const trailer = t.slice(t.lastIndexOf("trailer"));
    const at = Number(/\/XRefStm (\d+)/.exec(trailer)?.[1]);
    const stream = /^\d+ 0 obj\n<<\/Type \/XRef\n[\s\S]*?\/Length (\d+)>> stream\n/.exec(t.slice(at));
    expect(stream).not.toBeNull();
    const columns = Number(/\/Columns (\d+)/.exec(stream?.[0] ?? "")?.[1]);
    const rows = inflateSync(
      Buffer.from(t.slice(at + (stream?.[0].length ?? 0)).slice(0, Number(stream?.[1])), "latin1"),
    );
    expect(rows.length % (columns + 1)).toBe(0);
    // PNG Up rows: undo the differences, every entry's type is 2.
    const row = Buffer.alloc(columns);
    for (let i = 0; i < rows.length; i += columns + 1) {
      expect(rows[i]).toBe(2);
      for (let b = 0; b < columns; b++) row[b] = ((row[b] as number) + (rows[i + 1 + b] as number)) & 0xff;
      expect(row[0]).toBe(2);
    }
  });

  it.runIf(poppler)("pdfinfo -struct prints the same tree, IDs and attributes included", () => {
    const before = tool("pdfinfo", ["-struct"], finalised);
    expect(before.status).toBe(0);
    expect(before.out).toMatch(/TH <node\d{8}>/);
    expect(tool("pdfinfo", ["-struct"], packed)).toEqual(before);
  });

  it.runIf(qpdf)("qpdf --check finds nothing wrong", () => {
    const check = tool("qpdf", ["--check"], packed);
    expect(check.out).toMatch(/No syntax or stream encoding errors/);
    expect(check.out).not.toMatch(/WARNING/i);
    expect(check.status).toBe(0);
  });

  it("gives the same bytes for the same file, and leaves an untagged file as it was", async () => {
    expect(Buffer.from(await packStructure(finalised)).equals(Buffer.from(packed))).toBe(true);
    const untagged = skiaReport({ pages: 2 }).bytes;
    expect(await packStructure(untagged)).toBe(untagged);
  });

  it("keeps a %PDF-1.7 header (PDF/A, encryption) as it is", async () => {
    const pdfa = (
      await finalizePdf(fixture("chromium.pdf"), { title: "T", producer: "p", documentId: "cd".repeat(32) }, [], {
        standard: "PDF/A-2b",
      })
    ).pdf;
    expect(text(await packStructure(pdfa)).startsWith("%PDF-1.7\n")).toBe(true);
  });
});

describe("RawPdf on a packed file", () => {
  it("refuses it unless told (the guard on Chromium's output), reads its top-level objects when told", () => {
    expect(() => new RawPdf(packed)).toThrow(/hybrid/);
    const raw = new RawPdf(packed, { allowHybrid: true });
    expect(raw.dict(raw.rootRef())).toMatch(/\/StructTreeRoot/);
  });

  it("splice moves /XRefStm with the cross-reference stream: pdf.js still reads the structure", async () => {
    const raw = new RawPdf(packed, { allowHybrid: true });
    const info = Number(/\/Info (\d+) 0 R/.exec(raw.trailer)?.[1]);
    const title = dictEntries(raw.dict(info)).get("Title");
    if (!title) throw new Error("no /Title");
    const at = raw.bodyOffset(info) + title.at;
    const edited = latin1(
      raw.splice([{ at, end: at + title.value.length, text: "(A much longer title, to move every later byte)" }], "", [
        "<</Note (new)>>",
      ]),
    );
    const t = text(edited);
    const xrefStm = Number(/\/XRefStm (\d+)/.exec(t.slice(t.lastIndexOf("trailer")))?.[1]);
    expect(xrefStm).not.toBe(Number(/\/XRefStm (\d+)/.exec(raw.trailer)?.[1]));
    expect(t.slice(xrefStm)).toMatch(/^\d+ 0 obj\n<<\/Type \/XRef\b/);
    const { trees, pages } = await seen(edited);
    const before = await seen(packed);
    expect({ trees, pages }).toEqual({ trees: before.trees, pages: before.pages });
  });

  it("refuses an /XRefStm that points at no object", () => {
    const t = text(packed);
    const broken = t.replace(/\/XRefStm (\d+)/, (_, n) => `/XRefStm ${Number(n) + 3}`);
    expect(() => new RawPdf(latin1(broken), { allowHybrid: true })).toThrow(/XRefStm/);
  });
});

describe("encryptPdf on a packed file", () => {
  const encrypted = encryptPdf(packed, { userPassword: "u", ownerPassword: "o" }).pdf;

  it("pdf.js opens it with the password and reads the same structure tree", async () => {
    expect(await seen(encrypted, "u")).toEqual(await seen(packed));
  });

  it("leaves the cross-reference stream clear and encrypts the object streams", async () => {
    const t = text(encrypted);
    const at = Number(/\/XRefStm (\d+)/.exec(t.slice(t.lastIndexOf("trailer")))?.[1]);
    const head = /^\d+ 0 obj\n<<\/Type \/XRef\n[\s\S]*?\/Length (\d+)>> stream\n/.exec(t.slice(at));
    expect(head).not.toBeNull();
    expect(() =>
      inflateSync(Buffer.from(t.slice(at + (head?.[0].length ?? 0)).slice(0, Number(head?.[1])), "latin1")),
    ).not.toThrow();
    // The structure's strings (the /ID of each header cell) are nowhere in clear text or clear deflate.
    expect(t).not.toMatch(/node\d{8}/);
    const objStms = [...t.matchAll(/\/Type \/ObjStm\b[^>]*\/Length (\d+)>> stream\n/g)];
    expect(objStms.length).toBeGreaterThan(0);
    for (const m of objStms) {
      const data = Buffer.from(t.slice((m.index ?? 0) + m[0].length).slice(0, Number(m[1])), "latin1");
      expect(() => inflateSync(data)).toThrow();
    }
  });

  it.runIf(qpdf)("qpdf --check with the password finds nothing wrong", () => {
    const check = tool("qpdf", ["--check", "--password=u"], encrypted);
    expect(check.out).toMatch(/No syntax or stream encoding errors/);
    expect(check.out).not.toMatch(/WARNING/i);
  });
});

describe("hostile structure trees", () => {
  /** A one-page tagged file whose structure tree is `elems` (numbered from 10) under a Document element 9. */
  function tagged(elems: string[], extra: PdfObject[] = [], parentTree = "<</Nums [0 7 0 R]>>"): Uint8Array {
    const kids = elems.map((_, i) => `${10 + i} 0 R`).join(" ");
    const objects: PdfObject[] = [
      { num: 1, body: "<</Title (T)>>" },
      { num: 2, body: "<</Type /Catalog\n/Pages 3 0 R\n/StructTreeRoot 8 0 R\n/MarkInfo <</Marked true>>>>" },
      { num: 3, body: "<</Type /Pages\n/Count 1\n/Kids [4 0 R]>>" },
      { num: 4, body: "<</Type /Page\n/Parent 3 0 R\n/MediaBox [0 0 200 200]\n/Contents 5 0 R\n/StructParents 0>>" },
      { num: 5, body: "<</Length 0>> stream\n\nendstream" },
      { num: 6, body: parentTree },
      { num: 7, body: "[9 0 R]" },
      { num: 8, body: "<</Type /StructTreeRoot\n/K 9 0 R\n/ParentTree 6 0 R>>" },
      { num: 9, body: `<</Type /StructElem\n/S /Document\n/P 8 0 R\n/K [${kids}]>>` },
      ...elems.map((body, i) => ({ num: 10 + i, body })),
      ...extra,
    ];
    return writePdf(objects, "/Root 2 0 R\n/Info 1 0 R").bytes;
  }

  it("a string holding PDF syntax (endobj, >>, 9 0 R) is packed as the string it is", async () => {
    const alt = "endobj >> 9 0 R stream (";
    const pdf = tagged([`<</Type /StructElem\n/S /Figure\n/P 9 0 R\n/Alt (${alt.replace("(", "\\(")})>>`]);
    const packed = await packStructure(pdf);
    expect(await structElems(packed)).toEqual([9, 10]);
    const doc = await pdfLib(packed);
    const figure = doc.context.lookup(PDFRef.of(10), PDFDict);
    expect((figure.get(PDFName.of("Alt")) as PDFString).decodeText()).toBe(alt);
  });

  it("an element that is its own kid, or a cycle through two: packed once, no endless walk", async () => {
    const pdf = tagged([
      "<</Type /StructElem\n/S /P\n/P 9 0 R\n/K [10 0 R 11 0 R]>>",
      "<</Type /StructElem\n/S /Span\n/P 10 0 R\n/K [10 0 R 9 0 R]>>",
    ]);
    expect(await structElems(await packStructure(pdf))).toEqual([9, 10, 11]);
  });

  it("a tree 20,000 levels deep: no stack overflow", async () => {
    const depth = 20_000;
    const elems = Array.from({ length: depth }, (_, i) =>
      i + 1 < depth
        ? `<</Type /StructElem\n/S /Div\n/K 1${String(i + 1).padStart(5, "0")} 0 R>>`
        : "<</Type /StructElem\n/S /P>>",
    );
    // Numbered 100000… so each refers to the next; only the first hangs under the Document.
    const objects = elems.map((body, i) => ({ num: 100_000 + i, body }));
    const pdf = tagged(["<</Type /StructElem\n/S /Sect\n/K 100000 0 R>>"], objects);
    const packed = await packStructure(pdf);
    expect((await structElems(packed)).length).toBe(depth + 2);
  });

  it("a structure element written as a stream, or an /MCR object, stays a top-level object", async () => {
    const pdf = tagged([
      "<</Type /StructElem\n/S /P\n/Length 0>> stream\n\nendstream",
      "<</Type /MCR\n/Pg 4 0 R\n/MCID 0>>",
    ]);
    const packed = await packStructure(pdf);
    const listed = tableNumbers(text(packed).slice(text(packed).lastIndexOf("\nxref\n")));
    expect(listed.has(10)).toBe(true);
    expect(listed.has(11)).toBe(true);
    expect(listed.has(9)).toBe(false);
  });

  it("something after an element's value (which packing would drop): refused", async () => {
    const pdf = tagged(["<</Type /StructElem\n/S /P>>\n(stray)"]);
    await expect(packStructure(pdf)).rejects.toThrow(PdfLayoutError);
  });

  it("a /ParentTree node reached twice: refused", async () => {
    const pdf = tagged(["<</Type /StructElem\n/S /P>>"], [], "<</Kids [6 0 R]>>");
    await expect(packStructure(pdf)).rejects.toThrow(/reached twice/);
  });
});

/** The object numbers a classic xref table (its text from "xref") lists as in use. */
function tableNumbers(table: string): Set<number> {
  const out = new Set<number>();
  let num = 0;
  for (const line of table.split("\n").slice(1)) {
    if (line.startsWith("trailer")) break;
    const head = /^(\d+) (\d+)$/.exec(line.trim());
    if (head) num = Number(head[1]);
    else if (/^\d{10} \d{5} [nf]/.test(line)) {
      if (line[17] === "n") out.add(num);
      num++;
    }
  }
  return out;
}
