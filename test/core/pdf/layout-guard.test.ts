/**
 * The layout guard: a PDF that is not shaped the way Chromium 147 writes it (one classic xref table
 * and trailer, plain dictionaries) makes outlineTitleEdits and finalizePdf fail loudly, with
 * "unexpected PDF layout from Chromium: …", and never return a file. Each fixture here is a valid
 * PDF (pdf.js or pdf-lib opens it) that the byte code would otherwise mis-edit or mis-read.
 */
import { PDFDocument } from "pdf-lib";
import { describe, expect, it } from "vitest";
import { finalizePdf, type FinalMetadata } from "../../../functions/core/archival/finalize.ts";
import { countPages, outlineTitleEdits } from "../../../functions/core/pdf/outline.ts";
import { PdfLayoutError, RawPdf } from "../../../functions/core/pdf/pdf-bytes.ts";
import { withPdfjs } from "../../helpers/independent-pdf.ts";
import { latin1, literal, skiaReport, type WrittenPdf } from "../../helpers/skia-pdf.ts";

const meta: FinalMetadata = { title: "T", producer: "report-render test", documentId: "0".repeat(64) };
const base = () =>
  skiaReport({
    pages: 3,
    bookmarks: [
      { title: literal("A"), page: 1 },
      { title: literal("B"), page: 3 },
    ],
  });

/** What the render reads of a PDF besides finalizing it: its page count and its outline's titles. */
function readStructure(pdf: Uint8Array) {
  const reader = new RawPdf(pdf);
  return { pages: countPages(reader), edits: outlineTitleEdits(reader, ["A", "B"]) };
}

/** finalizePdf and readStructure both throw PdfLayoutError matching `detail`, and leave the input as it was. */
async function expectRefused(
  pdf: Uint8Array,
  detail: RegExp,
  which: ("finalize" | "outline")[] = ["finalize", "outline"],
) {
  const before = Buffer.from(pdf);
  const calls = {
    finalize: () => finalizePdf(pdf, meta, ["A", "B"]),
    outline: () => readStructure(pdf),
  };
  for (const name of which) {
    let result: unknown;
    let error: unknown;
    try {
      result = await calls[name]();
    } catch (e) {
      error = e;
    }
    expect(result, `${name} returned instead of throwing`).toBeUndefined();
    expect(error).toBeInstanceOf(PdfLayoutError);
    expect((error as Error).message).toMatch(/^unexpected PDF layout from Chromium: /);
    expect((error as Error).message).toMatch(detail);
  }
  expect(Buffer.from(pdf).equals(before)).toBe(true);
}

/** An incremental update appended to `pdf`: a new /Info object, its own xref section, /Prev. */
function withUpdate(pdf: WrittenPdf): Uint8Array {
  const root = /\/Root (\d+) 0 R/.exec(pdf.text)?.[1];
  const size = /\/Size (\d+)/.exec(pdf.text)?.[1];
  const at = pdf.text.length;
  const object = "1 0 obj\n<</Title (Updated)>>\nendobj\n";
  const xrefAt = at + object.length;
  return latin1(
    `${pdf.text}${object}xref\n0 1\n0000000000 65535 f \n1 1\n${String(at).padStart(10, "0")} 00000 n \n` +
      `trailer\n<</Size ${size}\n/Root ${root} 0 R\n/Info 1 0 R\n/Prev ${pdf.xrefAt}>>\nstartxref\n${xrefAt}\n%%EOF\n`,
  );
}

describe("a PDF 1.5 cross-reference stream (object streams, as a future Chromium might write)", () => {
  it("written by pdf-lib: refused, though pdf.js reads it", async () => {
    const doc = await PDFDocument.create();
    doc.addPage();
    doc.setTitle("object streams");
    const pdf = await doc.save({ useObjectStreams: true });
    const { value } = await withPdfjs(pdf, async (d) => d.numPages);
    expect(value).toBe(1);
    await expectRefused(pdf, /startxref \d+ points at an object \(a cross-reference stream/);
  });

  it("with a classic xref table and trailer inside a stream: refused, not read through the decoy", async () => {
    const pdf = xrefStreamWithDecoy();
    // A reader that searches back for "\ntrailer" and takes the startxref after it finds this decoy,
    // which lists the real objects' offsets: it reads them fine, then splices the file cut at the
    // decoy (522 of 1814 bytes, "Invalid Root reference" in pdf.js). Only the real end counts.
    expect(pdf.text.match(/\ntrailer\n/g)).toHaveLength(1);
    const { value, warnings } = await withPdfjs(pdf.bytes, async (d) => d.numPages);
    expect([value, warnings]).toEqual([3, []]);
    await expectRefused(pdf.bytes, /points at an object \(a cross-reference stream/);
  });
});

/**
 * A PDF 1.5 file (cross-reference stream) whose first content stream holds — as an image's or a
 * font's bytes may — a complete classic xref table listing the file's real objects, a trailer and
 * a startxref pointing at that table.
 */
function xrefStreamWithDecoy(): WrittenPdf {
  const spec = { pages: 3, bookmarks: [{ title: literal("A"), page: 1 }] };
  const shape = skiaReport(spec, { xref: "stream" });
  const size = Math.max(...shape.offsets.keys()); // the objects before the xref stream
  const root = /\/Root (\d+) 0 R/.exec(shape.text)?.[1];
  const decoy = (offsets: Map<number, number>, at: number) => {
    let table = `\nxref\n0 ${size}\n0000000000 65535 f \n`;
    for (let n = 1; n < size; n++)
      table += `${String(offsets.get(n) ?? 0).padStart(10, "0")} 00000 ${offsets.has(n) ? "n" : "f"} \n`;
    return `${table}trailer\n<</Size ${size} /Root ${root} 0 R /Info 1 0 R>>\nstartxref\n${String(at).padStart(10, "0")}\n%%EOF\n`;
  };
  // Offsets do not depend on what the placeholder holds, only on its length.
  const placeholder = skiaReport({ ...spec, content: `q Q %${decoy(shape.offsets, 0)}` }, { xref: "stream" });
  const at = placeholder.text.indexOf("\nxref\n") + 1;
  const pdf = skiaReport({ ...spec, content: `q Q %${decoy(placeholder.offsets, at)}` }, { xref: "stream" });
  expect(pdf.offsets).toEqual(placeholder.offsets);
  return pdf;
}

describe("other layouts the byte code cannot edit safely", () => {
  it("no /Info: finalizePdf refuses (it would have nothing to replace), the outline still reads", async () => {
    const pdf = skiaReport({ pages: 2, info: false, bookmarks: [{ title: literal("AB"), page: 2 }] });
    await expectRefused(pdf.bytes, /no \/Info/, ["finalize"]);
    expect(outlineTitleEdits(new RawPdf(pdf.bytes), ["A B"])).toHaveLength(1);
  });

  it("an incremental update (a second xref section, trailer /Prev): refused", async () => {
    const pdf = withUpdate(base());
    const { value } = await withPdfjs(pdf, async (d) => (await d.getMetadata()).info as { Title: string });
    expect(value.Title).toBe("Updated");
    await expectRefused(pdf, /incremental update/);
  });

  it("a hybrid file (trailer /XRefStm): refused", async () => {
    await expectRefused(skiaReport({ pages: 1, trailer: "/XRefStm 12345" }).bytes, /hybrid/);
  });

  it("an encrypted file (trailer /Encrypt): refused", async () => {
    await expectRefused(skiaReport({ pages: 1, trailer: "/Encrypt <</Filter /Standard>>" }).bytes, /encrypted/);
  });

  it("startxref that does not point at the table: refused", async () => {
    const pdf = base();
    await expectRefused(
      latin1(pdf.text.replace(/startxref\n\d+/, `startxref\n${pdf.xrefAt - 3}`)),
      /does not point at an xref table/,
    );
    await expectRefused(latin1(pdf.text.replace(/startxref\n\d+/, "startxref\n99999999")), /points past the end/);
  });

  it("an xref entry that points at the wrong object: refused when that object is read", async () => {
    const pdf = base();
    const catalog = Number(/\/Root (\d+)/.exec(pdf.text)?.[1]);
    // Give the catalog the offset of object 1 (entries follow "xref\n0 size\n", 20 bytes each).
    const catalogEntry = pdf.text.indexOf("\n", pdf.xrefAt + 5) + 1 + catalog * 20;
    const wrong =
      pdf.text.slice(0, catalogEntry) +
      String(pdf.offsets.get(1)).padStart(10, "0") +
      pdf.text.slice(catalogEntry + 10);
    await expectRefused(
      latin1(wrong),
      new RegExp(`offset \\d+ of object ${catalog} does not point at "${catalog} 0 obj"`),
    );
  });

  it("an offset one byte off (into the middle of an object number): refused", async () => {
    const pdf = skiaReport({ pages: 12 });
    const catalog = Number(/\/Root (\d+)/.exec(pdf.text)?.[1]);
    expect(catalog).toBeGreaterThan(9);
    const catalogEntry = pdf.text.indexOf("\n", pdf.xrefAt + 5) + 1 + catalog * 20;
    const offset = (pdf.offsets.get(catalog) as number) + 1; // "12 0 obj" read as "2 0 obj"
    const wrong =
      pdf.text.slice(0, catalogEntry) + String(offset).padStart(10, "0") + pdf.text.slice(catalogEntry + 10);
    await expectRefused(latin1(wrong), /does not point at/);
  });

  it("xref entries that are not 20 bytes: refused", async () => {
    const pdf = base();
    const short =
      pdf.text.slice(0, pdf.xrefAt) +
      pdf.text
        .slice(pdf.xrefAt)
        .replace(/ \n(?=\d{10} )/g, "\n")
        .replace(/ n \ntrailer/, " n\ntrailer");
    await expectRefused(latin1(short.replace(/startxref\n\d+/, `startxref\n${pdf.xrefAt}`)), /malformed xref entry/);
  });

  it("anything after %%EOF, or a file cut short: refused", async () => {
    const pdf = base();
    await expectRefused(latin1(`${pdf.text}junk`), /does not end with startxref/);
    await expectRefused(latin1(pdf.text.slice(0, pdf.text.length - 30)), /does not end with startxref/);
    await expectRefused(latin1(pdf.text.slice(0, pdf.text.length / 2)), /does not end with startxref/);
  });

  it("a page tree node that is neither /Pages nor /Page, or not a dictionary: refused", async () => {
    const pdf = base();
    await expectRefused(latin1(pdf.text.replace("/Type /Page\n", "/Type /Pagx\n")), /neither \/Page nor \/Pages/);
    const root = /\/Pages (\d+) 0 R/.exec(pdf.text)?.[1] ?? "";
    const notDict = pdf.text.replace(`\n${root} 0 obj\n<<`, `\n${root} 0 obj\n[ `);
    expect(notDict).not.toBe(pdf.text);
    await expectRefused(latin1(notDict), new RegExp(`object ${root} is not a dictionary`));
  });

  it("not a PDF at all: refused", async () => {
    await expectRefused(latin1("<html>Chromium error page</html>"), /no %PDF- header/);
  });
});
