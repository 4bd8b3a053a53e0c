import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { textShows, UnreadableContent } from "../../../functions/core/pdf/content-stream.ts";
import { fillPageNumbers, pageRefTargets, toUnicodeMap } from "../../../functions/core/page-refs/page-numbers.ts";
import { numberPageRefs, pageRefIds, reservePageRefs } from "../../../functions/core/page-refs/page-refs.ts";
import { pageTexts } from "../../helpers/pdf.ts";
import { writePdf } from "../../helpers/skia-pdf.ts";

// Glyph codes of the test font: "0"–"9" are 0x11–0x1a (as in the Noto fonts' latin subsets), "A" 0x22.
const code = (ch: string) => (ch === "A" ? "0022" : (0x11 + Number(ch)).toString(16).padStart(4, "0"));
const TO_UNICODE =
  "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n" +
  "1 begincodespacerange <0000> <FFFF> endcodespacerange\n" +
  "1 beginbfrange <0011> <001a> <0030> endbfrange\n" +
  "1 beginbfchar <0022> <0041> endbfchar\n" +
  "endcmap CMapName currentdict /CMap defineresource pop end end";

/** Each glyph placed by Skia's pattern: `x 0 Td <gid> Tj`. */
function glyphs(text: string, size = 14, font = "F1"): string {
  return `BT\n/${font} ${size} Tf\n1 0 0 -1 100 200 Tm\n${[...text].map((ch, i) => `${i ? "7.98 0 Td " : ""}<${code(ch)}> Tj`).join("\n")}\nET\n`;
}

/** A placeholder as the one print leaves it: 0–9 at a fifth of the size, then the reference's index. */
const placeholder = (index: number, room = 3) => glyphs("0123456789", 2.8) + glyphs(String(index).padStart(room, "0"));

interface Spec {
  /** Content of each page (page 1 first). */
  contents: string[];
  /** Named destinations: id → 1-based page. */
  dests: Record<string, number>;
  /** The page links to these ids (a reference is a link). */
  links?: Record<number, string[]>;
}

/** A Skia-shaped PDF: catalog with /Dests, pages with a Type0 font and link annotations. */
function pdfWith(spec: Spec): Uint8Array {
  const n = spec.contents.length;
  const page = (i: number) => 10 + i * 2; // page i's object; its content stream is page + 1
  const objects = [
    { num: 1, body: `<</Type /Catalog /Pages 2 0 R /Dests 3 0 R>>` },
    { num: 2, body: `<</Type /Pages /Count ${n} /Kids [${spec.contents.map((_, i) => `${page(i)} 0 R`).join(" ")}]>>` },
    {
      num: 3,
      body: `<<${Object.entries(spec.dests)
        .map(([id, p]) => `/${id} [${page(p - 1)} 0 R /XYZ 0 800 0]`)
        .join("\n")}>>`,
    },
    {
      num: 4,
      body: "<</Type /Font /Subtype /Type0 /BaseFont /AAAAAA+Test /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 5 0 R>>",
    },
    {
      num: 7,
      body: "<</Type /Font /Subtype /CIDFontType2 /BaseFont /AAAAAA+Test /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /FontDescriptor 8 0 R /DW 570>>",
    },
    {
      num: 8,
      body: "<</Type /FontDescriptor /FontName /AAAAAA+Test /Flags 4 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 900 /Descent -200 /CapHeight 700 /StemV 80>>",
    },
    { num: 5, body: `<</Length ${TO_UNICODE.length}>> stream\n${TO_UNICODE}\nendstream` },
    { num: 6, body: "<</Producer (Skia/PDF m147)>>" },
  ];
  let annot = 1000;
  spec.contents.forEach((content, i) => {
    const links = (spec.links?.[i + 1] ?? []).map((id) => {
      objects.push({ num: annot, body: `<</Type /Annot /Subtype /Link /Rect [0 0 10 10] /Dest /${id}>>` });
      return `${annot++} 0 R`;
    });
    const annots = links.length ? `/Annots [${links.join(" ")}]` : "";
    objects.push({
      num: page(i),
      body: `<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 4 0 R>>>> /Contents ${page(i) + 1} 0 R ${annots}>>`,
    });
    const data = deflateSync(Buffer.from(content, "latin1")).toString("latin1");
    objects.push({
      num: page(i) + 1,
      body: `<</Filter /FlateDecode\n/Length ${data.length}>> stream\n${data}\nendstream`,
    });
  });
  return writePdf(objects, "/Root 1 0 R /Info 6 0 R").bytes;
}

/** The glyphs a page shows, read back through the font's /ToUnicode by pdf.js. */
async function shownText(pdf: Uint8Array): Promise<string[]> {
  return (await pageTexts(pdf)).map((t) => t.replace(/\s+/g, ""));
}

describe("page references: the HTML side", () => {
  it("lists the ids in order, and refuses ids that cannot be PDF names as they are", () => {
    const body = '<p><page-ref for="s1"></page-ref> and <page-ref for="intro-2"></page-ref></p>';
    expect(pageRefIds(body)).toEqual(["s1", "intro-2"]);
    expect(() => pageRefIds('<page-ref for="a b"></page-ref>')).toThrow(/<page-ref for="a b">/);
    expect(() => pageRefIds('<page-ref for="9x"></page-ref>')).toThrow(/an id is a letter/);
    expect(() => pageRefIds('<page-ref for="#s1"></page-ref>')).toThrow();
  });

  it("reserves three digits that name the reference, after the ten digits; or writes the numbers as text", () => {
    const body = '<page-ref for="a"></page-ref><page-ref for="b"></page-ref>';
    const reserved = reservePageRefs(body);
    expect(reserved).toContain('href="#a"><span class="page-ref-digits" aria-hidden="true">0123456789</span>000</a>');
    expect(reserved).toContain('href="#b"><span class="page-ref-digits" aria-hidden="true">0123456789</span>001</a>');
    const pages = new Map([
      ["a", 7],
      ["b", 1234],
    ]);
    // In the same room of three digits (unseen zeros before), or wider when the number is.
    expect(numberPageRefs(body, pages)).toBe(
      '<a class="page-ref" href="#a"><span class="page-ref-room" aria-hidden="true">00</span>7</a>' +
        '<a class="page-ref" href="#b">1234</a>',
    );
  });
});

describe("page references: the PDF side", () => {
  it("writes each target's page into its placeholder, right-aligned, and removes the ten digits", async () => {
    const pdf = pdfWith({
      contents: [glyphs("A") + placeholder(0) + placeholder(1) + placeholder(2), glyphs("A"), glyphs("A")],
      dests: { intro: 2, body: 3, end: 3 },
      links: { 1: ["intro", "body", "end"] },
    });
    const result = fillPageNumbers(pdf, ["intro", "body", "end"], 3);
    expect(result.filled).toBe(true);
    if (!result.filled) return;
    expect(await shownText(result.pdf)).toEqual(["A233", "A", "A"]);
    expect([...result.pages]).toEqual([
      ["intro", 2],
      ["body", 3],
      ["end", 3],
    ]);
    // Positions are kept: every Td of the placeholders is still there, the right-most digit carries the number.
    const shows = (await import("node:zlib")).inflateSync(
      Buffer.from(
        /stream\n([\s\S]*?)\nendstream/.exec(
          Buffer.from(result.pdf).toString("latin1").split("11 0 obj")[1] ?? "",
        )?.[1] ?? "",
        "latin1",
      ),
    );
    expect((shows.toString("latin1").match(/Td/g) ?? []).length).toBe((placeholder(0).match(/Td/g) ?? []).length * 3);
  });

  it("leaves text alone that ends in 0–9 right before a placeholder (a heading such as “Codes 0123456789”)", async () => {
    const pdf = pdfWith({
      contents: [glyphs("A0123456789") + placeholder(0), glyphs("A"), glyphs("A")],
      dests: { a: 3 },
      links: { 1: ["a"] },
    });
    const result = fillPageNumbers(pdf, ["a"], 3);
    expect(result.filled && (await shownText(result.pdf))[0]).toBe("A01234567893");
  });

  it("fills two-digit pages and leaves the pages' other text alone", async () => {
    const contents = Array.from({ length: 12 }, () => glyphs("A"));
    contents[0] = glyphs("A") + placeholder(0) + glyphs("0123");
    const pdf = pdfWith({ contents, dests: { last: 12 }, links: { 1: ["last"] } });
    const result = fillPageNumbers(pdf, ["last"], 3);
    expect(result.filled && (await shownText(result.pdf))[0]).toBe("A120123");
  });

  it("says why it could not, and changes nothing, when", () => {
    const cases: { why: RegExp; spec: Spec; ids: string[]; room?: number }[] = [
      {
        why: /not one of a kind/, // text that reads like placeholder 0 on the same page
        spec: { contents: [placeholder(0) + placeholder(0), glyphs("A")], dests: { a: 2 }, links: { 1: ["a"] } },
        ids: ["a"],
      },
      {
        why: /not one of a kind/, // a placeholder index past the references
        spec: { contents: [placeholder(0) + placeholder(5), glyphs("A")], dests: { a: 2 }, links: { 1: ["a"] } },
        ids: ["a"],
      },
      {
        why: /1 placeholders were not found/, // text of one size that reads like a placeholder is none
        spec: { contents: [glyphs("0123456789000"), glyphs("A")], dests: { a: 2 }, links: { 1: ["a"] } },
        ids: ["a"],
      },
      {
        why: /1 placeholders were not found/, // the digits in one string: not Skia's one glyph a string
        spec: {
          contents: [`BT /F1 14 Tf <${[..."0123456789000"].map(code).join("")}> Tj ET`, glyphs("A")],
          dests: { a: 2 },
          links: { 1: ["a"] },
        },
        ids: ["a"],
      },
      {
        why: /1 placeholders were not found/, // the page does not link to the target
        spec: { contents: [placeholder(0), glyphs("A")], dests: { a: 2 } },
        ids: ["a"],
      },
      {
        why: /page 12 does not fit 1 digits/,
        spec: {
          contents: [placeholder(0, 1), ...Array.from({ length: 11 }, () => glyphs("A"))],
          dests: { a: 12 },
          links: { 1: ["a"] },
        },
        ids: ["a"],
        room: 1,
      },
      {
        why: /an inline image/,
        spec: {
          contents: [`${placeholder(0)}BI /W 1 /H 1 ID \x00 EI`, glyphs("A")],
          dests: { a: 2 },
          links: { 1: ["a"] },
        },
        ids: ["a"],
      },
    ];
    for (const c of cases) {
      const result = fillPageNumbers(pdfWith(c.spec), c.ids, c.room ?? 3);
      expect(result.filled, String(c.why)).toBe(false);
      if (!result.filled) {
        expect(result.reason).toMatch(c.why);
        // The pages are known all the same: the caller prints them as text.
        expect(result.pages.get("a")).toBe(c.spec.dests.a);
      }
    }
  });

  it("names a reference whose id no element has", () => {
    const pdf = pdfWith({ contents: [placeholder(0)], dests: {}, links: {} });
    expect(() => pageRefTargets(pdf, ["missing"])).toThrow(/no element with id "missing"/);
  });
});

describe("content streams", () => {
  it("follows the font of each one-glyph string, past marked content, strings and arrays", () => {
    const stream =
      "/P <</MCID 0 /Alt (a \\) b ( c)) >>BDC BT /F2 9 Tf 1 0 0 -1 0 0 Tm <0011> Tj (lit\\(eral) Tj [<0012> -20 <0013>] TJ ET EMC";
    const shows = textShows(stream);
    expect(shows.map((s) => (s.kind === "string" ? [s.font, s.hex ?? null] : "other"))).toEqual([
      ["F2", "0011"],
      ["F2", null],
      "other",
    ]);
    const first = shows[0];
    expect(first?.kind === "string" && stream.slice(first.at, first.end)).toBe("<0011> Tj");
  });

  it("does not read into inline image data", () => {
    expect(() => textShows("BI /W 1 /H 1 ID \xff EI")).toThrow(UnreadableContent);
  });

  it("reads /ToUnicode ranges, arrays and single codes", () => {
    const map = toUnicodeMap(
      "2 beginbfrange <0011> <0013> <0030> <0020> <0021> [<4E00> <D83DDE00>] endbfrange 1 beginbfchar <0005> <0041> endbfchar",
    );
    expect(Object.fromEntries(map)).toEqual({
      "0011": "0",
      "0012": "1",
      "0013": "2",
      "0020": "一",
      "0021": "😀",
      "0005": "A",
    });
  });
});
