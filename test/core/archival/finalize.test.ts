/**
 * finalizePdf: Chromium's /Info replaced by the input's metadata, a trailer /ID from the input's
 * hash, structure IDs renumbered, pages counted, the catalog of an accessible PDF; with
 * options.pdf.standard a PDF/A-2b or -3b file (one test per clause of ISO 19005-2/-3 touched), with
 * attachSource the request embedded; the same input always gives the same bytes.
 */
import { createHash } from "node:crypto";
import { bookmarks as readBookmarks } from "../../helpers/pdf.ts";
import { describe, expect, it } from "vitest";
import { canonicalJson, sourceJson, withoutPasswords } from "../../../functions/core/archival/attachment.ts";
import { finalizePdf, type FinalMetadata } from "../../../functions/core/archival/finalize.ts";
import {
  PDFArray,
  PDFDict,
  type PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFRawStream,
  type PDFRef,
  PDFString,
} from "pdf-lib";
import { PdfLayoutError } from "../../../functions/core/pdf/pdf-bytes.ts";
import type { Envelope } from "../../../functions/core/types.ts";
import { pdfLib, stringKey, structureIdTree, withPdfjs, xrefProblems } from "../../helpers/independent-pdf.ts";
import { literal, skiaReport, text, type PdfObject, type ReportSpec } from "../../helpers/skia-pdf.ts";

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
    const { pdf, pages } = await finalizePdf(print([31, 45]), meta, headings);
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
    const { pdf } = await finalizePdf(print([]), { title: "Only a title", producer: "p", documentId, author: "" }, []);
    const { value } = await withPdfjs(pdf, async (doc) => (await doc.getMetadata()).info as Record<string, unknown>);
    expect(value).toMatchObject({ Title: "Only a title", Producer: "p" });
    expect(value).not.toHaveProperty("CreationDate");
    expect(value).not.toHaveProperty("Author");
    expect(value).not.toHaveProperty("Keywords");
  });

  it("mends bookmark titles given the headings", async () => {
    const { pdf } = await finalizePdf(print([]), meta, headings);
    expect(await readBookmarks(pdf)).toEqual([
      { title: "One line in the table", level: 1, page: 1 },
      { title: "Two", level: 2, page: 11 },
    ]);
  });

  it("renumbers structure IDs 1, 2, 3… in the order the elements are written, 8 digits", async () => {
    const raw = print([45, 31, 120]);
    const { pdf } = await finalizePdf(raw, meta, headings);
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
    const { pdf } = await finalizePdf(print([99_999_999, 100_000_001, 5]), meta, headings);
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

  it("leaves text that only looks like an id alone: a title, an escaped string", async () => {
    const raw = print([45], undefined, {
      bookmarks: [
        { title: "(node00000777)", page: 1 },
        { title: literal("(node00000045)"), page: 2 },
      ],
    });
    const { pdf } = await finalizePdf(raw, meta, []);
    expect((await readBookmarks(pdf)).map((e) => e.title)).toEqual(["node00000777", "(node00000045)"]);
  });

  it("gives byte-identical output for identical input, whatever the render's node ids and clock", async () => {
    const first = (await finalizePdf(print([31, 45]), meta, headings)).pdf;
    expect(Buffer.from((await finalizePdf(print([31, 45]), meta, headings)).pdf).equals(Buffer.from(first))).toBe(true);
    // Another render of the same document: other DOM node ids (even 9 digits), another time.
    const later = (await finalizePdf(print([1031, 1045], "20270101000000"), meta, headings)).pdf;
    const muchLater = (await finalizePdf(print([123_456_031, 123_456_045], "20270101000001"), meta, headings)).pdf;
    expect(Buffer.from(later).equals(Buffer.from(first))).toBe(true);
    expect(Buffer.from(muchLater).equals(Buffer.from(first))).toBe(true);
    // ...and a different input gives a different /ID.
    const other = (await finalizePdf(print([31, 45]), { ...meta, documentId: "f".repeat(64) }, headings)).pdf;
    expect(Buffer.from(other).equals(Buffer.from(first))).toBe(false);
  });

  it("counts the pages from the page tree", async () => {
    for (const pages of [1, 8, 9, 100]) {
      expect((await finalizePdf(skiaReport({ pages }).bytes, meta, [])).pages).toBe(pages);
    }
  });

  it("refuses a documentId that is not hex (it would make an invalid /ID)", async () => {
    await expect(finalizePdf(print([]), { ...meta, documentId: "not-a-hash" }, [])).rejects.toThrow(/documentId/);
  });

  it("keeps a long report fast: 1000 pages, 1000 bookmarks, 10000 structure ids", async () => {
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
    const { pdf, pages } = await finalizePdf(
      raw,
      meta,
      bookmarks.map((_, i) => `Heading ${i} linewrapped`),
    );
    const ms = performance.now() - started;
    expect(pages).toBe(1000);
    expect((await readBookmarks(pdf))[999]?.title).toBe("Heading 999 linewrapped");
    expect(xrefProblems(pdf)).toEqual([]);
    expect(ms).toBeLessThan(5_000); // a runaway guard against quadratic work, not a benchmark
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

  it("gives the same bytes as on a warm browser", async () => {
    const fromWarm = (await finalizePdf(table(warm), meta, headings)).pdf;
    expect(text(table(cold))).not.toBe(text(table(warm)));
    for (const ids of [
      cold,
      [...warm].reverse(),
      [3, 1_000_000_000, 2, 99_999_999, 7, 5, 6, 4],
      [20, 19, 18, 1, 2, 3, 17, 16],
    ]) {
      expect(
        Buffer.from((await finalizePdf(table(ids), meta, headings)).pdf).equals(Buffer.from(fromWarm)),
        String(ids),
      ).toBe(true);
    }
  });

  it("keeps the IDTree sorted, its /Limits right and every /Headers pointing at its cells (read with pdf-lib)", async () => {
    const raw = table(cold);
    const before = await structure(raw);
    expect(before.tree.problems).toEqual([]);
    expect(before.tree.leaves[0]?.limits).toEqual(["node00000004", "node00000094"]);
    expect(before.dataCells).toEqual(dataCells);

    const { pdf } = await finalizePdf(raw, meta, headings);
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

    const { pdf } = await finalizePdf(raw, meta, headings);
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
    const ascending = (
      await finalizePdf(
        print(
          Array.from({ length: 20 }, (_, i) => 1000 + i),
          undefined,
          spec,
        ),
        meta,
        headings,
      )
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
    const expected = (await finalizePdf(table(warm, { patch: rootLeaf(false) }), meta, headings)).pdf;
    for (const inline of [false, true]) {
      const { pdf } = await finalizePdf(table(cold, { patch: rootLeaf(inline) }), meta, headings);
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

  it("refuses an IDTree that is not a name tree, rather than guess", async () => {
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
      await expect(finalizePdf(table(cold, { patch }), meta, headings), what).rejects.toThrow(PdfLayoutError);
      await expect(finalizePdf(table(cold, { patch }), meta, headings), what).rejects.toThrow(message);
    }
  });

  it("stays fast for a long table: 2000 rows, 12000 data cells, 22000 ids, cold-ordered", async () => {
    const raw = skiaReport({ pages: 81, nodeIds: cold, dataCells: twoHeaderRows(2000) }).bytes;
    expect(text(raw).match(/\(node\d+\)/g)?.length).toBeGreaterThan(22_000);
    await finalizePdf(raw, meta, []); // once to compile
    const started = performance.now();
    const { pdf } = await finalizePdf(raw, meta, []);
    const ms = performance.now() - started;
    expect(text(pdf)).toContain("/Limits [(node00000001) (node00000008)]");
    expect(ms).toBeLessThan(1_000); // a runaway guard, not a benchmark (about 10 ms here)
  });
});

/** A stream object as pdf-lib parsed it (its bytes as written). */
function rawStream(value: unknown): PDFRawStream {
  if (!(value instanceof PDFRawStream)) throw new Error(`not a stream: ${String(value)}`);
  return value;
}

/** Where a dictionary entry's value is a name, a number or a boolean: its text. */
const entry = (dict: PDFDict, key: string) => dict.get(PDFName.of(key))?.toString();
const textOf = (dict: PDFDict, key: string) => {
  const value = dict.lookup(PDFName.of(key));
  return value instanceof PDFString || value instanceof PDFHexString ? value.decodeText() : undefined;
};
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("the catalog of every PDF", () => {
  const catalogOf = (spec: Partial<ReportSpec>) => skiaReport({ pages: 2, nodeIds: [31, 45], ...spec }).bytes;
  const patchCatalog = (edit: (body: string, objects: PdfObject[]) => string) => (objects: PdfObject[]) => {
    const catalog = objects.find((o) => o.body.startsWith("<</Type /Catalog")) as PdfObject;
    catalog.body = edit(catalog.body, objects);
  };

  it("keeps what Chromium writes as it is: /ViewerPreferences, /MarkInfo and /Lang, no PDF/A objects", async () => {
    const raw = catalogOf({});
    const catalog = (t: string) => /<<\/Type \/Catalog[\s\S]*?\nendobj/.exec(t)?.[0];
    const { pdf } = await finalizePdf(raw, { ...meta, lang: "zh-CN" }, []);
    expect(catalog(text(pdf))).toBe(catalog(text(raw)));
    expect(text(pdf).startsWith("%PDF-1.4\n")).toBe(true);
    expect(text(pdf)).not.toMatch(/\/Metadata|\/OutputIntents|\/EmbeddedFiles/);
  });

  it("writes them where Chromium left them out or said otherwise, as pdf-lib and pdf.js read them", async () => {
    const variants: [string, (body: string, objects: PdfObject[]) => string][] = [
      [
        "missing",
        (b) =>
          b.replace(/\/MarkInfo <<[^>]*>>\n|\/ViewerPreferences <<[^>]*>>\n|\/Lang \(en\)/g, "").replace(/\n>>$/, ">>"),
      ],
      [
        "false, and /Lang empty",
        (b) =>
          b
            .replace("/Marked true", "/Marked false")
            .replace("/DisplayDocTitle true", "/DisplayDocTitle false")
            .replace("/Lang (en)", "/Lang ()"),
      ],
      [
        "in objects of their own",
        (b, objects) => {
          objects.push({ num: 900, body: "<</Type /ViewerPreferences\n/HideToolbar false>>" });
          objects.push({ num: 901, body: "<</Marked false\n/Suspects false>>" });
          return b
            .replace(/\/ViewerPreferences <<[^>]*>>/, "/ViewerPreferences 900 0 R")
            .replace(/\/MarkInfo <<[^>]*>>/, "/MarkInfo 901 0 R")
            .replace("/Lang (en)", "/Lang (de-CH)");
        },
      ],
    ];
    for (const [what, edit] of variants) {
      const raw = catalogOf({ patch: patchCatalog(edit) });
      const { pdf } = await finalizePdf(raw, { ...meta, lang: "zh-CN" }, []);
      expect(xrefProblems(pdf), what).toEqual([]);
      const lib = await pdfLib(pdf);
      const catalog = lib.catalog;
      expect(entry(catalog.lookup(PDFName.of("ViewerPreferences"), PDFDict), "DisplayDocTitle"), what).toBe("true");
      expect(entry(catalog.lookup(PDFName.of("MarkInfo"), PDFDict), "Marked"), what).toBe("true");
      // Chromium's /Lang is the document's (<html lang>): kept when it says one.
      const lang = what === "in objects of their own" ? "de-CH" : "zh-CN";
      expect(textOf(catalog, "Lang"), what).toBe(lang);
      const { value, warnings } = await withPdfjs(pdf, async (doc) => (await doc.getMetadata()).info);
      expect(warnings, what).toEqual([]);
      expect((value as { Language?: string }).Language, what).toBe(lang);
    }
    const kept = await pdfLib((await finalizePdf(catalogOf({ patch: patchCatalog(variants[2]![1]) }), meta, [])).pdf);
    expect(entry(kept.catalog.lookup(PDFName.of("ViewerPreferences"), PDFDict), "HideToolbar")).toBe("false");
    expect(entry(kept.catalog.lookup(PDFName.of("MarkInfo"), PDFDict), "Suspects")).toBe("false");
  });

  it("claims no tagging for a file without a structure tree", async () => {
    const raw = skiaReport({ pages: 1, patch: patchCatalog((b) => b.replace(/\/MarkInfo <<[^>]*>>\n/, "")) }).bytes;
    const lib = await pdfLib((await finalizePdf(raw, meta, [])).pdf);
    expect(lib.catalog.get(PDFName.of("MarkInfo"))).toBeUndefined();
  });
});

/**
 * Annotations on the first two pages: Chromium's links (/F 4), and what it does not write — no /F,
 * Hidden, Invisible and NoView, ToggleNoView, a Popup, one written inside the /Annots array — the
 * second page's /Annots an object of its own.
 */
function withAnnotations(objects: PdfObject[]): void {
  const pages = objects.filter((o) => o.body.startsWith("<</Type /Page\n"));
  const link = (flags: string) =>
    `<</Type /Annot\n/Subtype /Link\n${flags}/Border [0 0 0]\n/Rect [10 10 50 20]\n/A <</S /URI\n/URI (https://example.org/)>>>>`;
  const annotations = [
    link("/F 4\n"),
    link(""),
    link("/F 6\n"),
    "<</Type /Annot\n/Subtype /Text\n/F 33\n/Rect [0 0 10 10]\n/Contents (note)>>",
    "<</Type /Annot\n/Subtype /Popup\n/Rect [0 0 10 10]>>",
    link("/F 260\n"),
  ];
  for (const [i, body] of annotations.entries()) objects.push({ num: 800 + i, body });
  objects.push({ num: 810, body: "[803 0 R 804 0 R 805 0 R]" });
  const [first, second] = pages as [PdfObject, PdfObject];
  first.body = first.body.replace(
    "/Tabs /S",
    "/Tabs /S\n/Annots [800 0 R 801 0 R 802 0 R <</Type /Annot\n/Subtype /Link\n/Rect [1 1 2 2]>>]",
  );
  second.body = second.body.replace("/Tabs /S", "/Tabs /S\n/Annots 810 0 R");
  // The third page shares the second's /Annots array (each annotation is edited once).
  (pages[2] as PdfObject).body = (pages[2] as PdfObject).body.replace("/Tabs /S", "/Tabs /S\n/Annots 810 0 R");
}

/** The annotations of each page as pdf-lib reads them: subtype and flags. */
function annotationFlags(lib: PDFDocument): [string, string | undefined][][] {
  return lib.getPages().map((page) => {
    const annots = page.node.Annots();
    const out: [string, string | undefined][] = [];
    for (let i = 0; annots && i < annots.size(); i++) {
      const annot = annots.lookup(i, PDFDict);
      out.push([entry(annot, "Subtype") ?? "", entry(annot, "F")]);
    }
    return out;
  });
}

describe("PDF/A-2b and PDF/A-3b (ISO 19005-2/-3), clause by clause", () => {
  const raw = skiaReport({ pages: 3, nodeIds: [31, 45], patch: withAnnotations }).bytes;
  const archival = async (standard: "PDF/A-2b" | "PDF/A-3b", m: FinalMetadata = meta, source?: Uint8Array) =>
    (await finalizePdf(raw, { ...m, lang: "zh-CN" }, headings, { standard, source })).pdf;
  const metadataOf = async (pdf: Uint8Array) => {
    const { value, warnings } = await withPdfjs(pdf, async (doc) => {
      const { info, metadata } = await doc.getMetadata();
      return {
        info: info as Record<string, unknown>,
        xmp: metadata ? Object.fromEntries(metadata) : {},
        raw: metadata?.getRaw(),
      };
    });
    expect(warnings).toEqual([]);
    return value;
  };

  it("6.1.2: the header is %PDF-1.7 followed by a comment of four bytes above 127", async () => {
    for (const standard of ["PDF/A-2b", "PDF/A-3b"] as const) {
      expect(text(await archival(standard)).slice(0, 15)).toBe("%PDF-1.7\n%\xd3\xeb\xe9\xe1\n");
    }
    // A file without the comment gets one (the objects after it shift, and the xref with them).
    const ascii = text(raw).replace("%\xd3\xeb\xe9\xe1\n", "%PDFA\n");
    const { pdf } = await finalizePdf(new Uint8Array(Buffer.from(ascii, "latin1")), meta, [], { standard: "PDF/A-2b" });
    expect(text(pdf).slice(0, 21)).toBe("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n%PDFA\n");
    expect(xrefProblems(pdf)).toEqual([]);
    const two = new Uint8Array(Buffer.from(text(raw).replace("%PDF-1.4", "%PDF-2.0"), "latin1"));
    await expect(finalizePdf(two, meta, [], { standard: "PDF/A-2b" })).rejects.toThrow(PdfLayoutError);
  });

  it("6.1.3: a trailer /ID, no /Encrypt; 6.1.4: the xref (new objects in a subsection of their own) reads", async () => {
    const pdf = await archival("PDF/A-3b", meta, new Uint8Array(Buffer.from('{"a":1}')));
    expect(xrefProblems(pdf)).toEqual([]);
    const trailer = text(pdf).slice(text(pdf).lastIndexOf("trailer"));
    expect(trailer).toContain(
      `/ID [<${documentId.slice(0, 32).toUpperCase()}> <${documentId.slice(0, 32).toUpperCase()}>]`,
    );
    expect(trailer).not.toContain("/Encrypt");
    const lib = await pdfLib(pdf);
    expect(lib.getPageCount()).toBe(3);
  });

  it("6.6.2.1: a metadata stream in the catalog, /Type /Metadata /Subtype /XML, not filtered, UTF-8 XMP, no bytes or encoding attribute", async () => {
    for (const standard of ["PDF/A-2b", "PDF/A-3b"] as const) {
      const pdf = await archival(standard);
      const lib = await pdfLib(pdf);
      const stream = rawStream(lib.catalog.lookup(PDFName.of("Metadata")));
      expect(entry(stream.dict, "Type")).toBe("/Metadata");
      expect(entry(stream.dict, "Subtype")).toBe("/XML");
      expect(stream.dict.get(PDFName.of("Filter"))).toBeUndefined();
      const xmp = new TextDecoder("utf-8", { fatal: true }).decode(stream.contents);
      expect(xmp).toBe((await metadataOf(pdf)).raw);
      expect(xmp).toMatch(/^<\?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"\?>\n/);
      expect(xmp.slice(0, xmp.indexOf("?>"))).not.toMatch(/bytes=|encoding=/);
      expect(xmp).toMatch(/<\?xpacket end="r"\?>$/);
    }
  });

  it("6.6.4: pdfaid:part 2 or 3 and pdfaid:conformance B, as pdf.js reads the XMP", async () => {
    expect((await metadataOf(await archival("PDF/A-2b"))).xmp).toMatchObject({
      "pdfaid:part": "2",
      "pdfaid:conformance": "B",
    });
    expect((await metadataOf(await archival("PDF/A-3b"))).xmp).toMatchObject({
      "pdfaid:part": "3",
      "pdfaid:conformance": "B",
    });
  });

  it("6.6.2.3.1: only schemas the XMP specification predefines and pdfaid: no extension schema needed", async () => {
    const { raw: xmp } = await metadataOf(await archival("PDF/A-3b"));
    const namespaces = Object.fromEntries([...(xmp ?? "").matchAll(/xmlns:(\w+)="([^"]+)"/g)].map((m) => [m[1], m[2]]));
    expect(namespaces).toEqual({
      x: "adobe:ns:meta/",
      rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
      pdfaid: "http://www.aiim.org/pdfa/ns/id/",
      dc: "http://purl.org/dc/elements/1.1/",
      pdf: "http://ns.adobe.com/pdf/1.3/",
      xmp: "http://ns.adobe.com/xap/1.0/",
    });
    const properties = new Set([...(xmp ?? "").matchAll(/<(\w+:\w+)[ >]/g)].map((m) => m[1]));
    expect([...properties].sort()).toEqual(
      [
        "x:xmpmeta",
        "rdf:RDF",
        "rdf:Description",
        "rdf:Alt",
        "rdf:Seq",
        "rdf:Bag",
        "rdf:li",
        "pdfaid:part",
        "pdfaid:conformance",
        "dc:format",
        "dc:title",
        "dc:creator",
        "dc:description",
        "dc:language",
        "pdf:Producer",
        "pdf:Keywords",
        "xmp:CreatorTool",
        "xmp:CreateDate",
        "xmp:ModifyDate",
        "xmp:MetadataDate",
      ].sort(),
    );
  });

  it("6.6.3 (Info ↔ XMP): the information dictionary and the XMP say the same, hostile text included", async () => {
    const hostile: FinalMetadata = {
      ...meta,
      title: ' A <b>&amp; "q" ]]> </x:xmpmeta> <?xpacket end="w"?>\r\nline\ttab \u0001\u001f\uFFFE 😀 ',
      author: "  星河市 & <政务>  ",
      subject: "Subject\rwith a carriage return",
      keywords: ["<a>", "b&c"],
    };
    for (const m of [meta, hostile]) {
      const { info, xmp } = await metadataOf(await archival("PDF/A-2b", m));
      expect(xmp["dc:title"]).toBe(info.Title);
      expect(xmp["dc:creator"]).toEqual([info.Author]);
      expect(xmp["dc:description"]).toBe(info.Subject);
      expect(xmp["pdf:keywords"]).toBe(info.Keywords);
      expect(xmp["xmp:creatortool"]).toBe(info.Creator);
      expect(xmp["pdf:producer"]).toBe(info.Producer);
      const pdfDate = (d: unknown) =>
        String(d).replace(/^D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z");
      expect(xmp["xmp:createdate"]).toBe(pdfDate(info.CreationDate));
      expect(xmp["xmp:modifydate"]).toBe(pdfDate(info.ModDate));
      expect(xmp["xmp:metadatadate"]).toBe(pdfDate(info.ModDate));
      expect(xmp["dc:language"]).toBe("en"); // Chromium's /Lang of the fixture: the document's own
    }
    const { info } = await metadataOf(await archival("PDF/A-2b", hostile));
    expect(info.Title).toBe('A <b>&amp; "q" ]]> </x:xmpmeta> <?xpacket end="w"?>\r\nline\ttab  😀');
    expect(info.Author).toBe("星河市 & <政务>");
    // Without a date in the input, neither says one.
    const undated = await metadataOf(await archival("PDF/A-2b", { ...meta, date: undefined }));
    expect(undated.info.CreationDate).toBeUndefined();
    expect(Object.keys(undated.xmp).filter((k) => k.endsWith("date"))).toEqual([]);
  });

  it("6.2.3: one sRGB output intent, /S /GTS_PDFA1, its profile an ICC stream /N 3 (v4 display RGB, MD5 ID right)", async () => {
    const lib = await pdfLib(await archival("PDF/A-2b"));
    const intents = lib.catalog.lookup(PDFName.of("OutputIntents"), PDFArray);
    expect(intents.size()).toBe(1);
    const intent = intents.lookup(0, PDFDict);
    expect(entry(intent, "Type")).toBe("/OutputIntent");
    expect(entry(intent, "S")).toBe("/GTS_PDFA1");
    expect(textOf(intent, "OutputConditionIdentifier")).toBe("sRGB IEC61966-2.1");
    const profile = rawStream(intent.lookup(PDFName.of("DestOutputProfile")));
    expect(entry(profile.dict, "N")).toBe("3");
    const icc = Buffer.from(profile.contents);
    expect(icc.readUInt32BE(0)).toBe(icc.length); // its size
    expect(icc.subarray(8, 10).toString("hex")).toBe("0420"); // version 4.2 (ICC.1:2004-10), below 5
    expect(icc.toString("latin1", 12, 24)).toBe("mntrRGB XYZ "); // display class, RGB data, XYZ connection space
    expect(icc.toString("latin1", 36, 40)).toBe("acsp");
    const zeroed = Buffer.from(icc);
    zeroed.fill(0, 44, 48).fill(0, 64, 68).fill(0, 84, 100);
    expect(createHash("md5").update(zeroed).digest("hex")).toBe(icc.subarray(84, 100).toString("hex"));
  });

  it("6.3.2: every annotation but a Popup has /F with Print set and Hidden, Invisible, NoView, ToggleNoView clear", async () => {
    const before = annotationFlags(await pdfLib(raw));
    expect(before.slice(0, 2)).toEqual([
      [
        ["/Link", "4"],
        ["/Link", undefined],
        ["/Link", "6"],
        ["/Link", undefined],
      ],
      [
        ["/Text", "33"],
        ["/Popup", undefined],
        ["/Link", "260"],
      ],
    ]);
    for (const standard of ["PDF/A-2b", "PDF/A-3b"] as const) {
      const pdf = await archival(standard);
      expect(xrefProblems(pdf)).toEqual([]);
      expect(annotationFlags(await pdfLib(pdf)).slice(0, 2)).toEqual([
        [
          ["/Link", "4"],
          ["/Link", "4"],
          ["/Link", "4"],
          ["/Link", "4"],
        ],
        [
          ["/Text", "4"],
          ["/Popup", undefined],
          ["/Link", "4"],
        ],
      ]);
    }
    // Without a standard, annotations are left as Chromium wrote them.
    expect(annotationFlags(await pdfLib((await finalizePdf(raw, meta, headings)).pdf))).toEqual(before);
  });

  it("keeps identical input byte-identical: no clock, no randomness", async () => {
    const source = new Uint8Array(Buffer.from('{"template":"report"}'));
    const first = await archival("PDF/A-3b", meta, source);
    expect(sameBytes(await archival("PDF/A-3b", meta, source), first)).toBe(true);
    const other = skiaReport({ pages: 3, nodeIds: [1031, 1045], patch: withAnnotations }, {}).bytes;
    const later = (await finalizePdf(other, { ...meta, lang: "zh-CN" }, headings, { standard: "PDF/A-3b", source }))
      .pdf;
    expect(sameBytes(later, first)).toBe(true);
  });
});

describe("the attached source (attachSource)", () => {
  const raw = skiaReport({ pages: 2, nodeIds: [31, 45] }).bytes;
  const envelope: Envelope = {
    template: "report",
    data: { title: "星河市 </x:xmpmeta> endstream %%EOF", z: [1, 2.5, 1e21], a: { "\u20ac": 1, "\r": 2, "1": 3 } },
    options: {
      pdf: {
        attachSource: true,
        encrypt: { userPassword: "s3cret", ownerPassword: "0wner", permissions: { print: false } },
      },
      metadata: { title: "T" },
    },
  };
  const source = sourceJson(envelope);
  const filespecOf = (lib: PDFDocument) => {
    const names = lib.catalog.lookup(PDFName.of("Names"), PDFDict).lookup(PDFName.of("EmbeddedFiles"), PDFDict);
    const pairs = names.lookup(PDFName.of("Names"), PDFArray);
    expect(pairs.size()).toBe(2);
    const key = pairs.lookup(0);
    expect(key instanceof PDFString || key instanceof PDFHexString ? key.decodeText() : undefined).toBe("report.json");
    return pairs.lookup(1, PDFDict);
  };

  it("is the envelope as canonical JSON (RFC 8785), its passwords and all of options.pdf.encrypt left out", () => {
    const json = Buffer.from(source).toString("utf8");
    expect(json).not.toMatch(/s3cret|0wner|encrypt/);
    expect(JSON.parse(json)).toEqual({
      template: "report",
      data: envelope.data,
      options: { pdf: { attachSource: true }, metadata: { title: "T" } },
    });
    // Members sorted by UTF-16 code units at every level, numbers as ECMAScript writes them.
    expect(json).toBe(
      '{"data":{"a":{"\\r":2,"1":3,"€":1},"title":"星河市 </x:xmpmeta> endstream %%EOF","z":[1,2.5,1e+21]},"options":{"metadata":{"title":"T"},"pdf":{"attachSource":true}},"template":"report"}',
    );
    // RFC 8785, 3.2.3: the sorting example.
    const sample = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    // (Read off the text: JSON.parse would put the key "1" first again.)
    expect([...canonicalJson(sample).matchAll(/":"([^"]*)"/g)].map((m) => m[1])).toEqual([
      "Carriage Return",
      "One",
      "Control",
      "Latin Small Letter O With Diaeresis",
      "Euro Sign",
      "Emoji: Grinning Face",
      "Hebrew Letter Dalet With Dagesh",
    ]);
    // The /ID's input keeps the permissions, not the passwords.
    expect(withoutPasswords(envelope).options.pdf?.encrypt).toEqual({ permissions: { print: false } });
    expect(JSON.stringify(withoutPasswords(envelope))).not.toMatch(/s3cret|0wner/);
    const plain = { ...envelope, options: {} };
    expect(withoutPasswords(plain)).toBe(plain);
  });

  it("travels as report.json under /Names /EmbeddedFiles: pdf.js gives back its bytes", async () => {
    const { pdf } = await finalizePdf(raw, meta, [], { source });
    expect(xrefProblems(pdf)).toEqual([]);
    const { value, warnings } = await withPdfjs(pdf, async (doc) => doc.getAttachments());
    expect(warnings).toEqual([]);
    const attached = (value as Record<string, { filename: string; content: Uint8Array; description: string }>)[
      "report.json"
    ];
    expect(attached?.filename).toBe("report.json");
    expect(sameBytes(attached?.content ?? new Uint8Array(), source)).toBe(true);
    expect(attached?.description).toMatch(/passwords removed/);
    const lib = await pdfLib(pdf);
    expect(lib.catalog.get(PDFName.of("AF"))).toBeUndefined(); // an associated file only in PDF/A-3
    expect(lib.catalog.get(PDFName.of("Metadata"))).toBeUndefined();
  });

  it("6.8 (PDF/A-3): the document's associated file, /AFRelationship /Source, /F and /UF, its MIME type, size, checksum and date", async () => {
    const { pdf } = await finalizePdf(raw, meta, [], { standard: "PDF/A-3b", source });
    const lib = await pdfLib(pdf);
    const spec = filespecOf(lib);
    const af = lib.catalog.lookup(PDFName.of("AF"), PDFArray);
    expect(af.size()).toBe(1);
    expect(af.lookup(0, PDFDict)).toBe(spec);
    expect(entry(spec, "Type")).toBe("/Filespec");
    expect(entry(spec, "AFRelationship")).toBe("/Source");
    expect(textOf(spec, "F")).toBe("report.json");
    expect(textOf(spec, "UF")).toBe("report.json");
    expect(textOf(spec, "Desc")).toMatch(/^The request this PDF was rendered from/);
    const ef = spec.lookup(PDFName.of("EF"), PDFDict);
    const file = rawStream(ef.lookup(PDFName.of("F")));
    expect(rawStream(ef.lookup(PDFName.of("UF")))).toBe(file);
    expect(entry(file.dict, "Type")).toBe("/EmbeddedFile");
    expect(file.dict.lookup(PDFName.of("Subtype"), PDFName).decodeText()).toBe("application/json");
    const params = file.dict.lookup(PDFName.of("Params"), PDFDict);
    expect(params.lookup(PDFName.of("Size"), PDFNumber).asNumber()).toBe(source.byteLength);
    expect(Buffer.from(params.lookup(PDFName.of("CheckSum"), PDFHexString).asBytes()).toString("hex")).toBe(
      createHash("md5").update(source).digest("hex"),
    );
    expect(textOf(params, "ModDate")).toBe("D:20261015000000Z"); // the input's date, never the clock
    const { pdf: undated } = await finalizePdf(raw, { ...meta, date: undefined }, [], { standard: "PDF/A-3b", source });
    expect(text(undated)).not.toContain("/ModDate");
  });

  it("is refused with PDF/A-2b, which may embed only PDF/A files", async () => {
    await expect(finalizePdf(raw, meta, [], { standard: "PDF/A-2b", source })).rejects.toThrow(/PDF\/A-2b/);
  });

  it("keeps a name tree Chromium wrote in /Names, and refuses to overwrite embedded files", async () => {
    const withNames = (names: string) =>
      skiaReport({
        pages: 1,
        patch: (objects) => {
          const catalog = objects.find((o) => o.body.startsWith("<</Type /Catalog")) as PdfObject;
          catalog.body = catalog.body.replace("/Lang (en)", `/Lang (en)\n/Names ${names}`);
          objects.push({ num: 700, body: "<</Names [(x) [1 0 R /Fit]]>>" });
        },
      }).bytes;
    const { pdf } = await finalizePdf(withNames("<</Dests 700 0 R>>"), meta, [], { source });
    const names = (await pdfLib(pdf)).catalog.lookup(PDFName.of("Names"), PDFDict);
    expect(names.has(PDFName.of("Dests"))).toBe(true);
    expect(names.has(PDFName.of("EmbeddedFiles"))).toBe(true);
    await expect(finalizePdf(withNames("<</EmbeddedFiles 700 0 R>>"), meta, [], { source })).rejects.toThrow(
      PdfLayoutError,
    );
  });
});
