/**
 * finalizePdf: Chromium's /Info replaced by the input's metadata, a trailer /ID from the input's
 * hash, structure IDs renumbered, pages counted; the same input always gives the same bytes.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { finalizePdf, type FinalMetadata } from "../../functions/core/finalize.ts";
import { readOutline } from "../../functions/core/outline.ts";
import { pdfLib, withPdfjs, xrefProblems } from "./independent.ts";
import { literal, skiaReport, text, type ReportSpec } from "./skia-pdf.ts";

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

  it("renumbers structure IDs 1, 2, 3… in the same order and length", () => {
    const raw = print([45, 31, 120]);
    const { pdf } = finalizePdf(raw, meta, headings);
    const ids = (t: string) => t.match(/\(node\d+\)/g);
    expect(ids(text(raw))).toEqual([
      "(node00000045)", "(node00000031)", "(node00000120)", // /ID of each header cell
      "(node00000045)", "(node00000031)", "(node00000120)", // /Headers of the data cell
      "(node00000031)", "(node00000120)", // /Limits of the IDTree
      "(node00000031)", "(node00000045)", "(node00000120)", // /Names of the IDTree
    ]);
    expect(ids(text(pdf))).toEqual([
      "(node00000002)", "(node00000001)", "(node00000003)",
      "(node00000002)", "(node00000001)", "(node00000003)",
      "(node00000001)", "(node00000003)",
      "(node00000001)", "(node00000002)", "(node00000003)",
    ]);
    expect(xrefProblems(pdf)).toEqual([]);
  });

  it("renumbers ids past 99999999 (9 digits) to 8 digits, shifting the xref to match", async () => {
    const { pdf } = finalizePdf(print([99_999_999, 100_000_001, 5]), meta, headings);
    expect(text(pdf).match(/\(node\d+\)/g)?.slice(0, 3)).toEqual(["(node00000002)", "(node00000003)", "(node00000001)"]);
    expect(text(pdf)).toContain("/Names [(node00000001) ");
    expect(xrefProblems(pdf)).toEqual([]);
    const { warnings } = await withPdfjs(pdf, async (doc) => doc.getMetadata());
    expect(warnings).toEqual([]);
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
    const bookmarks = Array.from({ length: 1000 }, (_, i) => ({ title: literal(`Heading ${i}linewrapped`), page: i + 1 }));
    const raw = skiaReport({ pages: 1000, bookmarks, nodeIds: Array.from({ length: 10000 }, (_, i) => 50_000 + i * 7) }).bytes;
    const started = performance.now();
    const { pdf, pages } = finalizePdf(raw, meta, bookmarks.map((_, i) => `Heading ${i} linewrapped`));
    const ms = performance.now() - started;
    expect(pages).toBe(1000);
    expect(readOutline(pdf).entries[999]?.title).toBe("Heading 999 linewrapped");
    expect(xrefProblems(pdf)).toEqual([]);
    expect(ms).toBeLessThan(1000); // a regression guard against quadratic work, not a benchmark
  });
});
