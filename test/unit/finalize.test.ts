/**
 * finalizePdf: Chromium's /Info replaced by the input's metadata, a trailer /ID from the input's
 * hash, structure IDs renumbered, pages counted; the same input always gives the same bytes.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { finalizePdf, type FinalMetadata } from "../../functions/core/finalize.ts";
import { readOutline } from "../../functions/core/outline.ts";
import { PDFArray, PDFDict, PDFName, type PDFRef } from "pdf-lib";
import { PdfLayoutError } from "../../functions/core/pdf-bytes.ts";
import { pdfLib, stringKey, structureIdTree, withPdfjs, xrefProblems } from "../helpers/independent-pdf.ts";
import { literal, skiaReport, text, type PdfObject, type ReportSpec } from "../helpers/skia-pdf.ts";

const documentId = createHash("sha256").update("the envelope").digest("hex");
const meta: FinalMetadata = {
  title: "星河市 2026 年第三季度运营报告 (draft) \\",
  author: "星河市政务服务管理办公室",
  subject: "Operations Report, Q3 2026",
  keywords: ["政务服务", "季度报告"],
  producer: "report-render 0.1.0",
  date: new Date("2026-10-15T00:00:00Z"),
  documentId,
};

/** A raw print as Chromium would give it for the same document on another occasion. */
function print(nodeIds: number[], when = "20261127203132", spec: Partial<ReportSpec> = {}) {
  return skiaReport({
    pages: 12,
    bookmarks: [{ title: literal("One linein the table"), page: 1, kids: [{ title: literal("Two"), page: 11 }] }],
    nodeIds,
    info: `<</Title (Report)\n/Creator (Chromium)\n/Producer (Skia/PDF m147)\n/CreationDate (D:${when}+00'00')\n/ModDate (D:${when}+00'00')>>`,
    ...spec,
  }).bytes;
}
const headings = ["One line in the table", "Two"];

describe("finalizePdf", () => {
  it("replaces /Info with the input's metadata, as pdf.js and pdf-lib read it", async () => {
    const { pdf, pages } = finalizePdf(print([31, 45]), meta, headings);
    expect(pages).toBe(12);
    expect(xrefProblems(pdf)).toEqual([]);
    const { value, warnings } = await withPdfjs(pdf, async (doc) => ({
      info: (await doc.getMetadata()).info as Record<string, unknown>,
      pages: doc.numPages,
      fingerprints: doc.fingerprints,
    }));
    expect(warnings).toEqual([]);
    expect(value.pages).toBe(12);
    expect(value.info).toMatchObject({
      Title: meta.title,
      Author: meta.author,
      Subject: meta.subject,
      Keywords: "政务服务, 季度报告",
      Creator: meta.producer,
      Producer: meta.producer,
      CreationDate: "D:20261015000000Z",
      ModDate: "D:20261015000000Z",
    });
    expect(value.fingerprints).toEqual([documentId.slice(0, 32), null]);

    const lib = await pdfLib(pdf);
    expect(lib.getTitle()).toBe(meta.title);
    expect(lib.getAuthor()).toBe(meta.author);
    expect(lib.getKeywords()).toBe("政务服务, 季度报告");
    expect(lib.getCreationDate()?.toISOString()).toBe("2026-10-15T00:00:00.000Z");
    expect(lib.getModificationDate()?.toISOString()).toBe("2026-10-15T00:00:00.000Z");
    expect(lib.getPageCount()).toBe(12);
    // Nothing of Chromium's information dictionary is left.
    expect(text(pdf)).not.toMatch(/Skia\/PDF|D:20261127|\(Chromium\)/);
  });

  it("writes no dates the input does not state, and no empty entries", async () => {
    const { pdf } = finalizePdf(print([]), { title: "Only a title", producer: "p", documentId, author: "" }, []);
    const { value } = await withPdfjs(pdf, async (doc) => (await doc.getMetadata()).info as Record<string, unknown>);
    expect(value).toMatchObject({ Title: "Only a title", Producer: "p" });
    expect(value).not.toHaveProperty("CreationDate");
    expect(value).not.toHaveProperty("Author");
    expect(value).not.toHaveProperty("Keywords");
  });

  it("mends bookmark titles given the headings", () => {
    const { pdf } = finalizePdf(print([]), meta, headings);
    expect(readOutline(pdf).entries).toEqual([
      { title: "One line in the table", level: 1, page: 1 },
      { title: "Two", level: 2, page: 11 },
    ]);
  });

  it("renumbers structure IDs 1, 2, 3… in the order the elements are written, 8 digits", () => {
    const raw = print([45, 31, 120]);
    const { pdf } = finalizePdf(raw, meta, headings);
    const ids = (t: string) => t.match(/\(node\d+\)/g);
    expect(ids(text(raw))).toEqual([
      "(node00000045)",
      "(node00000031)",
      "(node00000120)", // /ID of each header cell
      "(node00000045)",
      "(node00000031)",
      "(node00000120)", // /Headers of the data cell
      "(node00000031)",
      "(node00000120)", // /Limits of the IDTree
      "(node00000031)",
      "(node00000045)",
      "(node00000120)", // /Names of the IDTree
    ]);
    expect(ids(text(pdf))).toEqual([
      "(node00000001)",
      "(node00000002)",
      "(node00000003)",
      "(node00000001)",
      "(node00000002)",
      "(node00000003)",
      "(node00000001)",
      "(node00000003)",
      "(node00000001)",
      "(node00000002)",
      "(node00000003)",
    ]);
    // The IDTree's pairs follow their keys: (node…31) named the second cell, now (node…02) does.
    const cell = (id: string) =>
      new RegExp(`(\\d+) 0 obj\\n<</Type /StructElem\\n/S /TH[^>]*>>\\]\\n/ID \\(node${id}\\)`).exec(text(raw))?.[1];
    expect(text(pdf)).toContain(
      `/Names [(node00000001) ${cell("00000045")} 0 R (node00000002) ${cell("00000031")} 0 R (node00000003) ${cell("00000120")} 0 R]`,
    );
    expect(xrefProblems(pdf)).toEqual([]);
  });

  it("renumbers ids past 99999999 (9 digits) to 8 digits, shifting the xref to match", async () => {
    const { pdf } = finalizePdf(print([99_999_999, 100_000_001, 5]), meta, headings);
    expect(
      text(pdf)
        .match(/\(node\d+\)/g)
        ?.slice(0, 3),
    ).toEqual(["(node00000001)", "(node00000002)", "(node00000003)"]);
    expect(text(pdf)).toContain("/Limits [(node00000001) (node00000003)]\n/Names [(node00000001) ");
    expect(xrefProblems(pdf)).toEqual([]);
    const { warnings } = await withPdfjs(pdf, async (doc) => doc.getMetadata());
    expect(warnings).toEqual([]);
    const read = await structure(pdf);
    expect(read.tree.problems).toEqual([]);
    expect(read.idsResolve).toEqual([true, true, true]);
  });

  it("leaves text that only looks like an id alone: a title, an escaped string", () => {
    const raw = print([45], undefined, {
      bookmarks: [
        { title: "(node00000777)", page: 1 },
        { title: literal("(node00000045)"), page: 2 },
      ],
    });
    const { pdf } = finalizePdf(raw, meta, []);
    expect(readOutline(pdf).entries.map((e) => e.title)).toEqual(["node00000777", "(node00000045)"]);
  });

  it("gives byte-identical output for identical input, whatever the render's node ids and clock", () => {
    const first = finalizePdf(print([31, 45]), meta, headings).pdf;
    expect(Buffer.from(finalizePdf(print([31, 45]), meta, headings).pdf).equals(Buffer.from(first))).toBe(true);
    // Another render of the same document: other DOM node ids (even 9 digits), another time.
    const later = finalizePdf(print([1031, 1045], "20270101000000"), meta, headings).pdf;
    const muchLater = finalizePdf(print([123_456_031, 123_456_045], "20270101000001"), meta, headings).pdf;
    expect(Buffer.from(later).equals(Buffer.from(first))).toBe(true);
    expect(Buffer.from(muchLater).equals(Buffer.from(first))).toBe(true);
    // ...and a different input gives a different /ID.
    const other = finalizePdf(print([31, 45]), { ...meta, documentId: "f".repeat(64) }, headings).pdf;
    expect(Buffer.from(other).equals(Buffer.from(first))).toBe(false);
  });

  it("counts the pages from the page tree", () => {
    for (const pages of [1, 8, 9, 100]) {
      expect(finalizePdf(skiaReport({ pages }).bytes, meta, []).pages).toBe(pages);
    }
  });

  it("refuses a documentId that is not hex (it would make an invalid /ID)", () => {
    expect(() => finalizePdf(print([]), { ...meta, documentId: "not-a-hash" }, [])).toThrow(/documentId/);
  });

  it("keeps a long report fast: 1000 pages, 1000 bookmarks, 10000 structure ids", () => {
    const bookmarks = Array.from({ length: 1000 }, (_, i) => ({
      title: literal(`Heading ${i}linewrapped`),
      page: i + 1,
    }));
    const raw = skiaReport({
      pages: 1000,
      bookmarks,
      nodeIds: Array.from({ length: 10000 }, (_, i) => 50_000 + i * 7),
    }).bytes;
    const started = performance.now();
    const { pdf, pages } = finalizePdf(
      raw,
      meta,
      bookmarks.map((_, i) => `Heading ${i} linewrapped`),
    );
    const ms = performance.now() - started;
    expect(pages).toBe(1000);
    expect(readOutline(pdf).entries[999]?.title).toBe("Heading 999 linewrapped");
    expect(xrefProblems(pdf)).toEqual([]);
    expect(ms).toBeLessThan(1000); // a regression guard against quadratic work, not a benchmark
  });
});

/**
 * What pdf-lib reads of a skiaReport's structure: the header cells' /IDs, whether each resolves
 * through the IDTree to its own cell, and each data cell's /Headers resolved through the IDTree to
 * header cells (their indices in the order they are written; -1: not found).
 */
async function structure(pdf: Uint8Array) {
  const doc = await pdfLib(pdf);
  const tree = structureIdTree(doc);
  if (!tree) throw new Error("no IDTree");
  const name = (n: string) => PDFName.of(n);
  const docElem = doc.catalog.lookup(name("StructTreeRoot"), PDFDict).lookup(name("K"), PDFDict);
  const kids = docElem.lookup(name("K"), PDFArray);
  const cells: number[] = [];
  const ids: string[] = [];
  const dataCells: number[][] = [];
  for (let i = 0; i < kids.size(); i++) {
    const elem = kids.lookup(i, PDFDict);
    if (elem.lookup(name("S"), PDFName).decodeText() === "TH") {
      cells.push((kids.get(i) as PDFRef).objectNumber);
      ids.push(stringKey(elem.lookup(name("ID"))) ?? "");
    } else {
      const headers = elem.lookup(name("A"), PDFArray).lookup(0, PDFDict).lookup(name("Headers"), PDFArray);
      const resolved: number[] = [];
      for (let j = 0; j < headers.size(); j++)
        resolved.push(cells.indexOf(tree.lookup(stringKey(headers.lookup(j)) ?? "") ?? -1));
      dataCells.push(resolved);
    }
  }
  return { tree, ids, idsResolve: ids.map((id, i) => tree.lookup(id) === cells[i]), dataCells };
}

/** A table as Chromium prints it: two header rows (3 and 5 cells), each data cell naming one or two of them. */
const twoHeaderRows = (rows: number) =>
  Array.from({ length: rows }, () => [[0], [1, 3], [1, 4], [2, 5], [2, 6], [2, 7]]).flat();

describe("structure IDs on a cold browser", () => {
  // The same table printed twice: on a warm browser the header cells' DOM node ids ascend in the
  // order they are written; on a freshly launched one the first cell got its id last (as a real
  // 600-row table did: 94, then 4…10).
  const warm = [7855, 7856, 7857, 7859, 7860, 7861, 7862, 7863];
  const cold = [94, 4, 5, 6, 7, 8, 9, 10];
  const dataCells = twoHeaderRows(3);
  const table = (nodeIds: number[], spec: Partial<ReportSpec> = {}) =>
    print(nodeIds, undefined, { dataCells, ...spec });

  it("gives the same bytes as on a warm browser", () => {
    const fromWarm = finalizePdf(table(warm), meta, headings).pdf;
    expect(text(table(cold))).not.toBe(text(table(warm)));
    for (const ids of [
      cold,
      [...warm].reverse(),
      [3, 1_000_000_000, 2, 99_999_999, 7, 5, 6, 4],
      [20, 19, 18, 1, 2, 3, 17, 16],
    ]) {
      expect(Buffer.from(finalizePdf(table(ids), meta, headings).pdf).equals(Buffer.from(fromWarm)), String(ids)).toBe(
        true,
      );
    }
  });

  it("keeps the IDTree sorted, its /Limits right and every /Headers pointing at its cells (read with pdf-lib)", async () => {
    const raw = table(cold);
    const before = await structure(raw);
    expect(before.tree.problems).toEqual([]);
    expect(before.tree.leaves[0]?.limits).toEqual(["node00000004", "node00000094"]);
    expect(before.dataCells).toEqual(dataCells);

    const { pdf } = finalizePdf(raw, meta, headings);
    expect(xrefProblems(pdf)).toEqual([]);
    const after = await structure(pdf);
    expect(after.tree.problems).toEqual([]);
    expect(after.ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `node0000000${n}`));
    expect(after.tree.leaves).toHaveLength(1);
    expect(after.tree.leaves[0]?.limits).toEqual(["node00000001", "node00000008"]);
    expect(after.tree.leaves[0]?.names.map(([key]) => key)).toEqual(after.ids);
    expect(after.idsResolve).toEqual(Array(8).fill(true));
    expect(after.dataCells).toEqual(dataCells);
    const { warnings } = await withPdfjs(pdf, async (doc) => (await doc.getPage(1)).getStructTree());
    expect(warnings).toEqual([]);
  });

  it("rewrites an IDTree of several leaves and levels: each leaf keeps its count, every /Limits spans its keys", async () => {
    // 20 header cells, ids out of order; leaves of at most 3 pairs under nodes of at most 3 kids.
    const ids = Array.from({ length: 20 }, (_, i) => ((i * 7) % 20) * 13 + 5);
    const cells = Array.from({ length: 20 }, (_, i) => [i, (i * 3) % 20]);
    const spec = { dataCells: cells, idTreeFanout: 3 };
    const raw = print(ids, undefined, spec);
    const before = await structure(raw);
    expect(before.tree.problems).toEqual([]);
    expect(before.tree.leaves.map((l) => l.names.length)).toEqual([3, 3, 3, 3, 3, 3, 2]);
    expect(text(raw).match(/\/Limits \[[^\]]*\]\n\/Kids \[/g)).toHaveLength(3); // 3 nodes over the 7 leaves, the root over them

    const { pdf } = finalizePdf(raw, meta, headings);
    const after = await structure(pdf);
    expect(after.tree.problems).toEqual([]);
    expect(after.tree.leaves.map((l) => l.names.length)).toEqual([3, 3, 3, 3, 3, 3, 2]);
    expect(after.tree.leaves.map((l) => l.limits)).toEqual(
      [
        [1, 3],
        [4, 6],
        [7, 9],
        [10, 12],
        [13, 15],
        [16, 18],
        [19, 20],
      ].map((l) => l.map((n) => `node${String(n).padStart(8, "0")}`)),
    );
    expect(after.idsResolve).toEqual(Array(20).fill(true));
    expect(after.dataCells).toEqual(cells);
    // ...and the same bytes as the same table with ascending ids.
    const ascending = finalizePdf(
      print(
        Array.from({ length: 20 }, (_, i) => 1000 + i),
        undefined,
        spec,
      ),
      meta,
      headings,
    ).pdf;
    expect(Buffer.from(pdf).equals(Buffer.from(ascending))).toBe(true);
    expect(xrefProblems(pdf)).toEqual([]);
  });

  it("rewrites an IDTree whose root is its only leaf (no /Kids, no /Limits), an object or inside /StructTreeRoot", async () => {
    const rootLeaf = (inline: boolean) => (objects: PdfObject[]) => {
      const leaf = objects.find((o) => o.body.startsWith("<</Limits [") && o.body.includes("/Names ["));
      const root = objects.find((o) => /^<<\/Kids \[\d+ 0 R\]>>$/.test(o.body));
      const structRoot = objects.find((o) => o.body.startsWith("<</Type /StructTreeRoot"));
      if (!leaf || !root || !structRoot) throw new Error("no IDTree");
      root.body = leaf.body.replace(/^<<\/Limits \[[^\]]*\]\n/, "<<");
      objects.splice(objects.indexOf(leaf), 1);
      if (inline) structRoot.body = structRoot.body.replace(`/IDTree ${root.num} 0 R`, `/IDTree ${root.body}`);
    };
    const expected = finalizePdf(table(warm, { patch: rootLeaf(false) }), meta, headings).pdf;
    for (const inline of [false, true]) {
      const { pdf } = finalizePdf(table(cold, { patch: rootLeaf(inline) }), meta, headings);
      if (inline) expect(text(pdf)).toMatch(/\/IDTree <<\/Names \[\(node00000001\) /);
      else expect(Buffer.from(pdf).equals(Buffer.from(expected))).toBe(true);
      const after = await structure(pdf);
      expect(after.tree.problems).toEqual([]);
      expect(after.tree.leaves).toEqual([
        { limits: undefined, names: after.ids.map((id) => [id, expect.any(Number)]) },
      ]);
      expect(after.idsResolve).toEqual(Array(8).fill(true));
      expect(after.dataCells).toEqual(dataCells);
      expect(xrefProblems(pdf)).toEqual([]);
    }
  });

  it("refuses an IDTree that is not a name tree, rather than guess", () => {
    const idTreeRoot = (objects: PdfObject[]) =>
      objects.find((o) => /^<<\/Kids \[\d+ 0 R\]>>$/.test(o.body)) as PdfObject;
    const leaf = (objects: PdfObject[]) =>
      objects.find((o) => o.body.startsWith("<</Limits [") && o.body.includes("/Names [")) as PdfObject;
    /** A patch that rewrites the body of the object `pick` finds. */
    const change =
      (pick: (objects: PdfObject[]) => PdfObject, edit: (body: string, objects: PdfObject[]) => string) =>
      (objects: PdfObject[]) => {
        const o = pick(objects);
        o.body = edit(o.body, objects);
      };
    const cases: [string, (objects: PdfObject[]) => void, RegExp][] = [
      [
        "both /Kids and /Names",
        change(idTreeRoot, (b) => b.replace(">>", "\n/Names []>>")),
        /has both \/Kids and \/Names/,
      ],
      ["an odd number of /Names", change(leaf, (b) => b.replace(/ \d+ 0 R\]>>$/, "]>>")), /odd number of \/Names/],
      [
        "a key that is not a string",
        change(leaf, (b) => b.replace(/\/Names \[\((node\d+)\)/, "/Names [/$1")),
        /key that is not a string/,
      ],
      [
        "a cycle",
        change(leaf, (b, o) => b.replace("/Names [", `/Kids [${idTreeRoot(o).body.match(/\d+/)?.[0]} 0 R]\n/Namez [`)),
        /reached twice/,
      ],
    ];
    for (const [what, patch, message] of cases) {
      expect(() => finalizePdf(table(cold, { patch }), meta, headings), what).toThrow(PdfLayoutError);
      expect(() => finalizePdf(table(cold, { patch }), meta, headings), what).toThrow(message);
    }
  });

  it("stays fast for a long table: 2000 rows, 12000 data cells, 22000 ids, cold-ordered", () => {
    const raw = skiaReport({ pages: 81, nodeIds: cold, dataCells: twoHeaderRows(2000) }).bytes;
    expect(text(raw).match(/\(node\d+\)/g)?.length).toBeGreaterThan(22_000);
    finalizePdf(raw, meta, []); // once to compile
    const started = performance.now();
    const { pdf } = finalizePdf(raw, meta, []);
    const ms = performance.now() - started;
    expect(text(pdf)).toContain("/Limits [(node00000001) (node00000008)]");
    expect(ms).toBeLessThan(250); // a regression guard, not a benchmark (about 10 ms here)
  });
});
