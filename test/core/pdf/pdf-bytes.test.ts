/**
 * RawPdf: objects found through every shape of classic xref table Chromium (or the PDF spec)
 * allows, and splice() keeping the file consistent — proven with readers that share no code with it.
 */
import { readFileSync } from "node:fs";
import { PDFDict, PDFName, PDFNumber, PDFRawStream, PDFRef } from "pdf-lib";
import { describe, expect, it } from "vitest";
import {
  PdfLayoutError,
  RawPdf,
  dictEdits,
  dictEntries,
  literalString,
  pdfTextString,
  ref,
  skipValue,
  streamObject,
  textString,
  type Edit,
} from "../../../functions/core/pdf/pdf-bytes.ts";
import { pdfLib, withPdfjs, xrefProblems } from "../../helpers/independent-pdf.ts";
import { latin1, literal, skiaReport, text, type Layout } from "../../helpers/skia-pdf.ts";

const chromium = new Uint8Array(readFileSync(new URL("../../fixtures/chromium/chromium.pdf", import.meta.url)));

const layouts: [string, Layout][] = [
  ["Skia's own: LF, entries ending ' \\n'", {}],
  ["entries ending '\\r\\n', CRLF after xref and subsection headers", { entryEnd: "\r\n", xrefEol: "\r\n" }],
  ["entries ending ' \\r', CR line ends everywhere", { entryEnd: " \r", xrefEol: "\r", eol: "\r" }],
  ["CRLF line ends everywhere", { eol: "\r\n", xrefEol: "\r\n", entryEnd: "\r\n" }],
  ["a subsection per run of objects, gaps left out", { subsections: "runs" }],
  ["several subsections with free entries, CRLF", { subsections: "runs+free", xrefEol: "\r\n", entryEnd: "\r\n" }],
];

const utf16Title = pdfTextString("二、数据");

/** A report with gaps in its object numbers (free entries), nested pages, bookmarks and tags. */
function report(layout: Layout) {
  return skiaReport(
    {
      pages: 10,
      sparse: true,
      bookmarks: [
        { title: literal("One (first)"), page: 1, kids: [{ title: literal("One.1"), page: 2 }] },
        { title: utf16Title, page: 10 },
      ],
      nodeIds: [31, 45],
    },
    layout,
  );
}

describe("RawPdf reads objects through the xref", () => {
  it.each(layouts)("%s", (_, layout) => {
    const pdf = report(layout);
    // The fixture has the shape it claims.
    const table = pdf.text.slice(pdf.xrefAt, pdf.text.indexOf("trailer", pdf.xrefAt));
    expect(table.startsWith(`xref${layout.xrefEol ?? "\n"}0 `)).toBe(true);
    expect(table.match(/\d{10} \d{5} [nf][\s\S]{2}/g)?.every((e) => e.endsWith(layout.entryEnd ?? " \n"))).toBe(true);
    const size = Math.max(...pdf.offsets.keys()) + 1;
    const gaps = Array.from({ length: size - 1 }, (_, i) => i + 1).filter((n) => !pdf.offsets.has(n)).length;
    expect(gaps).toBeGreaterThan(5); // sparse: every fifth number unused, a gap between runs
    const headers = (table.match(/(?:^|[\r\n])\d+ \d+(?=\r\n|\r|\n)/g) ?? []).length;
    const free = (table.match(/ f(?: \n| \r|\r\n)/g) ?? []).length;
    const sections = layout.subsections;
    expect(headers).toBe(sections === undefined ? 1 : sections === "runs" ? 1 + gaps + 1 : 1 + 2 * gaps + 1);
    expect(free).toBe(sections === "runs" ? 1 : 1 + gaps);
    const reader = new RawPdf(pdf.bytes);
    for (const [num, at] of pdf.offsets) {
      const header = `${num} 0 obj`;
      expect(reader.bodyOffset(num)).toBe(at + header.length);
      expect(pdf.text.slice(at, at + header.length)).toBe(header);
    }
    expect(xrefProblems(pdf.bytes)).toEqual([]);
    const root = reader.rootRef();
    expect(dictEntries(reader.dict(root)).get("Type")?.value).toBe("/Catalog");
    expect(ref(reader.trailer, "Info")).toBe(1);
  });

  it("finds no object behind a free entry or past the table, loudly", () => {
    const pdf = report({ subsections: "runs+free" });
    expect(pdf.offsets.has(5)).toBe(false);
    const reader = new RawPdf(pdf.bytes);
    for (const n of [0, 5, 10, 999]) expect(() => reader.bodyOffset(n)).toThrow(`object ${n} missing`);
  });

  it("returns a dictionary whole, whatever strings inside it hold", () => {
    const tricky = "<</Title (a >> b endobj \\) stream /Next 9 0 R)\n/Nested <</A [1 2 <</B (>>)>>]>>\n/Next 3 0 R>>";
    const pdf = skiaReport({ pages: 1, info: tricky });
    const reader = new RawPdf(pdf.bytes);
    expect(reader.dict(1).trim()).toBe(tricky);
    expect(ref(reader.dict(1), "Next")).toBe(3);
    expect(textString(dictEntries(reader.dict(1)).get("Title")?.value ?? "")).toBe(
      "a >> b endobj ) stream /Next 9 0 R",
    );
  });

  it("reads Chromium's own output", () => {
    const reader = new RawPdf(chromium);
    expect(dictEntries(reader.dict(reader.rootRef())).get("Type")?.value).toBe("/Catalog");
    expect(xrefProblems(chromium)).toEqual([]);
  });
});

describe("PDF syntax", () => {
  it("skips every kind of value", () => {
    const values = [
      "<</A 1>>",
      "<48656C6C6F>",
      "(a (nested) \\) string)",
      "[1 2 0 R /N (x)]",
      "/Name#20x",
      "-12.5",
      ".5",
      "12 0 R",
      "true",
      "null",
    ];
    for (const v of values) expect(skipValue(`${v} /Next`, 0)).toBe(v.length);
    expect(skipValue("12 0 Rx", 0)).toBe(2); // "Rx" is not the R of a reference
    expect(() => skipValue("<</A (open", 0)).toThrow(/unterminated/);
    expect(() => skipValue("}", 0)).toThrow(/unexpected/);
  });

  it("decodes literal strings: escapes, octal, line continuation, balanced parentheses, end of line", () => {
    const cases: [string, string][] = [
      ["(a\\(b\\)c \\\\ d)", "a(b)c \\ d"],
      ["(caf\\351)", "caf\xe9"],
      ["(\\101\\102C)", "ABC"],
      ["(\\0531)", "+1"], // three octal digits at most
      ["(\\7)", "\x07"],
      ["(line\\\ncontinued \\\r\nand \\\rmore)", "linecontinued and more"],
      ["(tab\\there\\n\\r\\b\\f)", "tab\there\n\r\b\f"],
      ["(unknown \\q escape)", "unknown q escape"],
      ["(raw\r\nend of line\rtoo)", "raw\nend of line\ntoo"],
      ["(a (b (c)) d)", "a (b (c)) d"],
    ];
    for (const [token, bytes] of cases) expect(literalString(token, 1)).toEqual({ value: bytes, end: token.length });
  });

  it("decodes text strings: UTF-16BE and UTF-8 with a BOM, PDFDocEncoding, hex with spaces and an odd digit", () => {
    expect(textString("<FEFF4E8C30016570636E>")).toBe("二、数据");
    expect(textString("<feff 4e8c 3001\n6570 636e>")).toBe("二、数据");
    expect(textString("<FEFFD83DDE00>")).toBe("😀");
    expect(textString("(\\376\\377\\000A\\000B)")).toBe("AB");
    expect(textString("<EFBBBFE4BA8C>")).toBe("二");
    expect(textString("(\\200 \\223 \\240)")).toBe("• ﬁ €");
    expect(textString("<41424>")).toBe("AB@");
    expect(textString("/Name")).toBeUndefined();
  });

  it("writes any text as a UTF-16BE hex string that reads back", () => {
    for (const s of ["", "ASCII", "二、数据 (x) \\ )", "😀 emoji"]) expect(textString(pdfTextString(s))).toBe(s);
  });
});

describe("splice", () => {
  it("reproduces Chromium's file byte for byte when nothing is edited", () => {
    expect(Buffer.from(new RawPdf(chromium).splice([]), "latin1").equals(Buffer.from(chromium))).toBe(true);
  });

  it.each(layouts)("shifts every xref offset and startxref (%s)", async (_, layout) => {
    const pdf = report(layout);
    const reader = new RawPdf(pdf.bytes);
    const info = reader.bodyOffset(1);
    const infoEnd = info + reader.dict(1).length;
    // Grow the first object, shrink the catalog's /Lang, insert a comment before another object.
    const edits: Edit[] = [
      {
        at: info,
        end: infoEnd,
        text: `\n<</Title ${pdfTextString("A much longer title, 中文 included")}\n/Author (Me)>>`,
      },
    ];
    const catalog = reader.rootRef();
    const catalogDict = reader.dict(catalog);
    const lang = dictEntries(catalogDict).get("Lang");
    if (!lang) throw new Error("fixture has no /Lang");
    edits.push({
      at: reader.bodyOffset(catalog) + lang.at,
      end: reader.bodyOffset(catalog) + lang.end,
      text: "(zh-CN)",
    });
    const second = pdf.offsets.get(2) as number; // insert a comment before "2 0 obj"
    edits.push({ at: second, end: second, text: "% inserted\n" });

    const out = latin1(
      reader.splice(edits, "/ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>]"),
    );
    expect(xrefProblems(out)).toEqual([]);
    const again = new RawPdf(out);
    expect(textString(dictEntries(again.dict(1)).get("Title")?.value ?? "")).toBe("A much longer title, 中文 included");

    const { value, warnings } = await withPdfjs(out, async (doc) => ({
      pages: doc.numPages,
      info: (await doc.getMetadata()).info as { Title?: string; Author?: string },
      fingerprints: doc.fingerprints,
    }));
    expect(warnings).toEqual([]);
    expect(value.pages).toBe(10);
    expect(value.info.Title).toBe("A much longer title, 中文 included");
    expect(value.info.Author).toBe("Me");
    expect(value.fingerprints[0]).toBe("00112233445566778899aabbccddeeff");

    const lib = await pdfLib(out);
    expect(lib.getTitle()).toBe("A much longer title, 中文 included");
    expect(lib.getPageCount()).toBe(10);
    expect(String(lib.catalog.get(PDFName.of("Lang")))).toBe("(zh-CN)");
  });

  it("replaces a trailer entry it is given rather than writing the key twice", () => {
    const pdf = skiaReport({ pages: 1, trailer: "/ID [<AAAA> <BBBB>]" });
    const out = new RawPdf(pdf.bytes).splice([], "/ID [<CCCC> <CCCC>]");
    const trailer = out.slice(out.lastIndexOf("trailer"));
    expect(trailer.match(/\/ID/g)).toHaveLength(1);
    expect(trailer).toContain("/ID [<CCCC> <CCCC>]");
    expect(trailer).toContain("/Root");
  });

  it("refuses edits that would corrupt the file", () => {
    const pdf = skiaReport({ pages: 2 });
    const reader = new RawPdf(pdf.bytes);
    const at = reader.bodyOffset(1);
    const obj3 = pdf.offsets.get(3) as number;
    expect(() =>
      reader.splice([
        { at, end: at + 5, text: "x" },
        { at: at + 4, end: at + 6, text: "y" },
      ]),
    ).toThrow(/overlap/);
    expect(() => reader.splice([{ at: obj3 - 1, end: obj3 + 1, text: "" }])).toThrow(/covers the start of an object/);
    expect(() => reader.splice([{ at: pdf.xrefAt, end: pdf.xrefAt + 4, text: "" }])).toThrow(
      /not inside the file's objects/,
    );
    expect(() => reader.splice([{ at, end: at, text: "中" }])).toThrow(/latin1/);
  });

  it("returns latin1 text: bytes above 0x7F survive the round trip", () => {
    const out = new RawPdf(chromium).splice([]);
    expect(text(latin1(out))).toBe(out);
    expect(out.slice(0, 22)).toBe("%PDF-1.4\n%\xd3\xeb\xe9\xe1\n1 0 obj");
  });

  it("(the independent checks do catch an xref that no longer matches its objects)", async () => {
    const pdf = report({});
    const reader = new RawPdf(pdf.bytes);
    const at = reader.bodyOffset(1);
    // What a splice that forgot to shift would leave: a longer object 1, the old xref.
    const stale = pdf.text.slice(0, at) + " ".repeat(7) + pdf.text.slice(at);
    const broken = latin1(stale.replace(/startxref\n(\d+)/, (_, n: string) => `startxref\n${Number(n) + 7}`));
    expect(xrefProblems(broken).length).toBeGreaterThan(5);
    const { warnings } = await withPdfjs(broken, async (doc) => doc.getMetadata());
    expect(warnings.join("\n")).toMatch(/Indexing all PDF objects|xref/i);
  });
});

describe("splice adding objects", () => {
  const id = "/ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>]";
  /** Bytes a stream may hold: every byte value, "endstream" and "%%EOF" included. */
  const binary = `${Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("")}endstream endobj %%EOF`;

  it.each(layouts)("numbers them from /Size, lists them in a subsection of their own (%s)", async (_, layout) => {
    const pdf = report(layout);
    const reader = new RawPdf(pdf.bytes);
    const first = reader.nextObjectNumber();
    expect(first).toBe(Math.max(...pdf.offsets.keys()) + 1);
    const catalog = reader.rootRef();
    const info = reader.bodyOffset(1);
    const edits: Edit[] = [
      { at: info, end: info + reader.dict(1).length, text: `\n<</Title ${pdfTextString("更长的标题 with more")}>>` },
      ...dictEdits(reader.dict(catalog), reader.bodyOffset(catalog), [
        ["PieceInfo", `${first} 0 R`],
        ["Lang", "(zh-CN)"],
      ]),
    ];
    const out = latin1(
      reader.splice(edits, id, [`<</Data ${first + 1} 0 R\n/Answer 42>>`, streamObject("/Kind /Test", binary)]),
    );
    expect(xrefProblems(out)).toEqual([]);
    const tail = text(out).slice(Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(text(out))?.[1]));
    expect(tail).toMatch(new RegExp(`[\\r\\n]${first} 2\\n\\d{10} 00000 n \\n\\d{10} 00000 n \\ntrailer\\n`));
    expect(tail.match(/\/Size (\d+)/g)).toEqual([`/Size ${first + 2}`]);

    const lib = await pdfLib(out);
    const added = lib.catalog.lookup(PDFName.of("PieceInfo"), PDFDict);
    expect(added.lookup(PDFName.of("Answer"), PDFNumber).asNumber()).toBe(42);
    const stream = lib.context.lookup(added.get(PDFName.of("Data")) as PDFRef);
    if (!(stream instanceof PDFRawStream)) throw new Error("the new stream is no stream");
    expect(Buffer.from(stream.contents).toString("latin1")).toBe(binary);
    expect(String(lib.catalog.get(PDFName.of("Lang")))).toBe("(zh-CN)");
    expect(lib.getTitle()).toBe("更长的标题 with more");
    const { value, warnings } = await withPdfjs(out, async (doc) => doc.numPages);
    expect(warnings).toEqual([]);
    expect(value).toBe(10);

    // The result reads as a file of the same shape, and takes more objects after its own.
    const again = new RawPdf(out);
    expect(again.nextObjectNumber()).toBe(first + 2);
    expect(dictEntries(again.dict(first)).get("Answer")?.value).toBe("42");
    const twice = latin1(again.splice([], id, ["<</Third true>>"]));
    expect(xrefProblems(twice)).toEqual([]);
    expect(dictEntries(new RawPdf(twice).dict(first + 2)).get("Third")?.value).toBe("true");
  });

  it("keeps Chromium's own file readable with objects added", async () => {
    const reader = new RawPdf(chromium);
    const first = reader.nextObjectNumber();
    const out = latin1(reader.splice([], id, ["<</A 1>>", "<</B 2>>"]));
    expect(xrefProblems(out)).toEqual([]);
    expect(
      (await pdfLib(out)).context
        .lookup(PDFRef.of(first + 1), PDFDict)
        .get(PDFName.of("B"))
        ?.toString(),
    ).toBe("2");
  });

  it("refuses to number new objects when /Size is missing or below the objects the xref lists", () => {
    const noSize = latin1(report({}).text.replace(/\/Size \d+/, "/Sise 3"));
    expect(() => new RawPdf(noSize).splice([], "", ["<<>>"])).toThrow(/no integer \/Size/);
    const small = latin1(report({}).text.replace(/\/Size \d+/, "/Size 7"));
    expect(() => new RawPdf(small).splice([], "", ["<<>>"])).toThrow(PdfLayoutError);
    expect(() => new RawPdf(small).splice([], "", ["<<>>"])).toThrow(/below the objects its xref lists/);
    // Without new objects nothing depends on /Size.
    expect(() => new RawPdf(small).splice([])).not.toThrow();
    expect(() => new RawPdf(report({}).bytes).splice([], "", ["<</T (中)>>"])).toThrow(/not latin1/);
  });

  it("sets dictionary entries: a value replaced where it is, new keys before >>, equal values untouched", () => {
    const dict = "<</Type /Catalog\n/Lang (en)\n/MarkInfo <</Marked true>>>>";
    const apply = (edits: Edit[]) =>
      edits.reduceRight((t, e) => t.slice(0, e.at - 100) + e.text + t.slice(e.end - 100), dict);
    const edits = dictEdits(dict, 100, [
      ["Lang", "(zh-CN)"],
      ["Type", "/Catalog"],
      ["Metadata", "9 0 R"],
    ]);
    expect(edits).toHaveLength(2);
    expect(apply(edits)).toBe("<</Type /Catalog\n/Lang (zh-CN)\n/MarkInfo <</Marked true>>\n/Metadata 9 0 R>>");
    expect(dictEdits(dict, 0, [["Type", "/Catalog"]])).toEqual([]);
  });
});
