/**
 * A real print from the bundled Chromium (fixtures/chromium.pdf, made by capture-chromium.ts),
 * read and finalised without starting Chromium. Its document title and one heading hold PDF syntax
 * ("endobj", ">>", "/Next 2 0 R"), one heading wraps (Chromium drops the space), one has
 * aria-hidden text, one is Chinese; a table gives structure /IDs.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { finalizePdf, type FinalMetadata } from "../../../functions/core/archival/finalize.ts";
import { headingTexts } from "../../../functions/core/html/headings.ts";
import { RawPdf } from "../../../functions/core/pdf/pdf-bytes.ts";
import { countPages } from "../../../functions/core/pdf/outline.ts";
import { pdfTextString } from "../../../functions/core/pdf/pdf-bytes.ts";
import { pdfLib, pdfjsBookmarks, withPdfjs, xrefProblems } from "../../helpers/independent-pdf.ts";
import { text } from "../../helpers/skia-pdf.ts";
import { tempDir } from "../../helpers/temp-dir.ts";

const raw = new Uint8Array(readFileSync(new URL("../../fixtures/chromium/chromium.pdf", import.meta.url)));
const html = readFileSync(new URL("../../fixtures/chromium/chromium.html", import.meta.url), "utf8");
const meta: FinalMetadata = {
  title: "Fixture",
  author: "Unit tests",
  producer: "report-render",
  documentId: "ab".repeat(32),
  date: new Date("2026-10-15T00:00:00Z"),
};

const asPrinted = [
  { title: "Report (draft) \\ v1", level: 1, page: 1 },
  { title: "one line inthe table", level: 2, page: 1 },
  { title: "二、数据 & more", level: 3, page: 1 },
  { title: "Hidden part", level: 2, page: 3 },
  { title: "Syntax: /Next 2 0 R endobj >> (", level: 2, page: 3 },
  { title: "Last", level: 1, page: 9 },
];

describe("Chromium's output, as the byte code expects it", () => {
  it("has the layout the byte code relies on (re-capture after a Chromium upgrade: this says what changed)", () => {
    const t = text(raw);
    expect(t.startsWith("%PDF-1.4\n")).toBe(true);
    expect(t.match(/\nxref\n/g)).toHaveLength(1);
    expect(t.match(/\ntrailer\n/g)).toHaveLength(1);
    expect(t.match(/startxref/g)).toHaveLength(1);
    expect(t).toMatch(/trailer\n<<\/Size \d+\n\/Root \d+ 0 R\n\/Info 1 0 R>>\nstartxref\n\d+\n%%EOF\n$/);
    expect(t).not.toMatch(/\/Type \/(ObjStm|XRef)\b/);
    expect(t).toMatch(/\/ID \(node\d{8}\)/);
    expect(xrefProblems(raw)).toEqual([]);
  });

  it("has the bookmarks and pages pdf.js reads, counted alike from the bytes", async () => {
    expect(countPages(new RawPdf(raw))).toBe(10);
    const { value, warnings } = await withPdfjs(raw, async (doc) => ({
      pages: doc.numPages,
      bookmarks: await pdfjsBookmarks(doc),
    }));
    expect(warnings).toEqual([]);
    expect(value).toEqual({ pages: 10, bookmarks: asPrinted });
  });

  it("headingTexts reads the headings of the HTML that was printed", () => {
    expect(headingTexts(html)).toEqual([
      "Report (draft) \\ v1",
      "one line in the table",
      "二、数据 & more",
      "Hidden iconpart",
      "Syntax: /Next 2 0 R endobj >> (",
      "Last",
    ]);
  });
});

const { pdf, pages } = await finalizePdf(raw, meta, headingTexts(html));

describe("finalizePdf on Chromium's output", () => {
  it("gives a file pdf.js and pdf-lib read without complaint, with every xref offset right", async () => {
    expect(pages).toBe(10);
    expect(xrefProblems(pdf)).toEqual([]);
    const { value, warnings } = await withPdfjs(pdf, async (doc) => ({
      pages: doc.numPages,
      bookmarks: await pdfjsBookmarks(doc),
      info: (await doc.getMetadata()).info as Record<string, unknown>,
    }));
    expect(warnings).toEqual([]);
    expect(value.pages).toBe(10);
    expect(value.bookmarks).toEqual(
      asPrinted.map((b) => (b.title === "one line inthe table" ? { ...b, title: "one line in the table" } : b)),
    );
    expect(value.info).toMatchObject({
      Title: "Fixture",
      Author: "Unit tests",
      Producer: "report-render",
      CreationDate: "D:20261015000000Z",
    });
    const lib = await pdfLib(pdf);
    expect(lib.getTitle()).toBe("Fixture");
    expect(lib.getPageCount()).toBe(10);
  });

  it('replaces the whole /Info, though Chromium\'s title held "endobj >>"', () => {
    expect(text(raw)).toContain("1 0 obj\n<</Title (Q3 \\(draft\\) \\\\ endobj >> notes)\n/Creator (Chromium)");
    const hex = (s: string) => pdfTextString(s);
    expect(text(pdf).slice(0, text(pdf).indexOf("\n3 0 obj\n"))).toBe(
      "%PDF-1.4\n%\xd3\xeb\xe9\xe1\n1 0 obj\n" +
        `<</Title ${hex("Fixture")}\n/Author ${hex("Unit tests")}\n/Creator ${hex("report-render")}\n/Producer ${hex("report-render")}\n` +
        "/CreationDate (D:20261015000000Z)\n/ModDate (D:20261015000000Z)>>\nendobj",
    );
  });

  it("renumbers the structure IDs and adds /ID", () => {
    const t = text(pdf);
    expect(new Set(t.match(/\(node\d+\)/g))).toEqual(new Set(["(node00000001)", "(node00000002)"]));
    expect(t).toContain(`/ID [<${"AB".repeat(16)}> <${"AB".repeat(16)}>]>>\nstartxref\n`);
  });

  it("is byte-identical every time", async () => {
    expect(Buffer.from((await finalizePdf(raw, meta, headingTexts(html))).pdf).equals(Buffer.from(pdf))).toBe(true);
  });

  const qpdf = spawnSync("qpdf", ["--version"]).status === 0;
  it.skipIf(!qpdf)("passes qpdf --check (where qpdf is installed)", () => {
    const file = join(tempDir("pdf-unit-"), "final.pdf");
    writeFileSync(file, pdf);
    const check = spawnSync("qpdf", ["--check", file], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toContain("No syntax or stream encoding errors");
    expect(check.stdout + check.stderr).not.toMatch(/WARNING/i);
    expect(check.status).toBe(0);
  });
});
