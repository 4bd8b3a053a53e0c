/**
 * The outline as Chromium writes it: its titles read from the bytes in every encoding (pdf.js reads
 * what is written back); heading texts from HTML; bookmark titles Chromium garbled are mended,
 * titles it changed on purpose are not.
 */
import { describe, expect, it } from "vitest";
import { headingTexts } from "../../../functions/core/html/headings.ts";
import { countPages, outlineTitleEdits } from "../../../functions/core/pdf/outline.ts";
import { RawPdf } from "../../../functions/core/pdf/pdf-bytes.ts";
import { pdfjsBookmarks, withPdfjs, xrefProblems } from "../../helpers/independent-pdf.ts";
import { latin1, literal, skiaReport, utf16, type Bookmark } from "../../helpers/skia-pdf.ts";

/** Three levels of bookmarks over 70 pages (three levels of /Pages nodes), titles in every encoding. */
const nested: Bookmark[] = [
  {
    title: literal("Report (draft) \\ v1"),
    page: 1,
    kids: [
      { title: "(Escapes: \\(x\\) \\\\ caf\\351 \\101\\102C \\0531 con\\\ntinued)", page: 2 },
      {
        title: utf16("二、数据 & more"),
        page: 9,
        kids: [
          { title: "<feff 0041 00e9\n0042>", page: 17 },
          { title: "(\\376\\377\\116\\214\\060\\001)", page: 64 }, // UTF-16BE with BOM inside a literal
        ],
      },
      { title: "(balanced (parens) stay)", page: 65 },
    ],
  },
  { title: utf16("😀 emoji"), page: 70 },
  { title: "(PDFDocEncoding \\200 \\223)", page: 70 },
];

const expected = [
  { title: "Report (draft) \\ v1", level: 1, page: 1 },
  { title: "Escapes: (x) \\ café ABC +1 continued", level: 2, page: 2 },
  { title: "二、数据 & more", level: 2, page: 9 },
  { title: "AéB", level: 3, page: 17 },
  { title: "二、", level: 3, page: 64 },
  { title: "balanced (parens) stay", level: 2, page: 65 },
  { title: "😀 emoji", level: 1, page: 70 },
  { title: "PDFDocEncoding • ﬁ", level: 1, page: 70 },
];

/** Each title with a space put in after its first character: what a heading Chromium lost a space of reads. */
const spaced = (titles: string[]) => titles.map((t) => `${[...t][0]} ${[...t].slice(1).join("")}`);

describe("the outline's titles, read from the bytes", () => {
  it("are decoded in every encoding through a nested page tree: each is mended to its heading, pdf.js reads the result", async () => {
    const pdf = skiaReport({ pages: 70, bookmarks: nested });
    const reader = new RawPdf(pdf.bytes);
    const headings = spaced(expected.map((e) => e.title));
    // A title is mended only when its decoded text is its heading's but for spaces.
    const edits = outlineTitleEdits(reader, headings);
    expect(edits).toHaveLength(expected.length);
    const out = latin1(reader.splice(edits));
    const { value, warnings } = await withPdfjs(out, pdfjsBookmarks);
    expect(warnings).toEqual([]);
    expect(value).toEqual(expected.map((e, i) => ({ ...e, title: headings[i] })));
  });

  it("the same with CRLF line ends and a sparse, sectioned xref", () => {
    const pdf = skiaReport(
      { pages: 70, bookmarks: nested, sparse: true },
      { eol: "\r\n", xrefEol: "\r\n", entryEnd: "\r\n", subsections: "runs+free" },
    );
    const reader = new RawPdf(pdf.bytes);
    expect(countPages(reader)).toBe(70);
    expect(outlineTitleEdits(reader, spaced(expected.map((e) => e.title)))).toHaveLength(expected.length);
  });

  it("counts pages from the leaves: a nested tree's first /Count is not the total", () => {
    for (const pages of [1, 8, 9, 64, 65, 200]) {
      const pdf = skiaReport({ pages });
      expect(pdf.text).toMatch(pages > 8 ? /\/Count 8\b/ : /\/Count \d/);
      expect(countPages(new RawPdf(pdf.bytes))).toBe(pages);
    }
  });

  it("is not misled by titles that look like PDF syntax", () => {
    const titles = ["Syntax: /Next 2 0 R endobj >> (", "/First 3 0 R", "/Dest [2 0 R] <</Type /Pages>>"];
    const pdf = skiaReport({
      pages: 3,
      bookmarks: [
        { title: literal(titles[0] as string), page: 1, kids: [{ title: literal(titles[1] as string), page: 2 }] },
        { title: literal(titles[2] as string), page: 3 },
      ],
    });
    expect(outlineTitleEdits(new RawPdf(pdf.bytes), spaced(titles))).toHaveLength(3);
  });

  it("stops at a bookmark cycle instead of looping", () => {
    const pdf = skiaReport({
      pages: 1,
      bookmarks: [
        { title: "(ab)", page: 1 },
        { title: "(cd)", page: 1 },
      ],
    });
    // Point the last item's /Parent-less tail back at the first: "/Prev" becomes "/Next".
    const looped = pdf.text.replace(/(\/Title \(cd\)[\s\S]*?)\/Prev/, "$1/Next");
    expect(outlineTitleEdits(new RawPdf(latin1(looped)), ["a b", "c d"])).toHaveLength(2);
  });
});

describe("headingTexts", () => {
  it("decodes entities, drops tags (nested, with > in attributes), collapses white space", () => {
    const html = [
      `<h1 class="title">星河市 &amp; 政务 &lt;2026&gt;</h1>`,
      `<header><p>not a heading</p></header>`,
      `<h2 id="x" title="a > b">one <em>line <b>in</b></em>\n   the   table</h2>`,
      `<H3>&#x4E2D;&#20013;&nbsp;&quot;&apos;&unknown; &#x110000;</H3>`,
      `<h4>a<!-- note > here -->b</h4>`,
      `<h5 data-x='<h6>'>u3000　stays</h5>`,
      `<h6>\t trimmed \n</h6>`,
      `<!-- <h2>commented out</h2> -->`,
    ].join("\n");
    expect(headingTexts(html)).toEqual([
      "星河市 & 政务 <2026>",
      "one line in the table",
      "中中\u00a0\"'&unknown; &#x110000;",
      "ab",
      "u3000　stays",
      "trimmed",
    ]);
  });
});

describe("outlineTitleEdits", () => {
  const headings = ["One line in the table", "二、总体 情况", "Hidden icon part", "Annual results for 2026"];
  const garbled: Bookmark[] = [
    { title: literal("One linein the table"), page: 1 }, // the space at a line break lost
    { title: utf16("二、总体情况"), page: 1 }, // the same, in UTF-16
    { title: literal("Hidden part"), page: 2 }, // aria-hidden text left out on purpose
    { title: literal("Annual resultsAnnual results for 2026"), page: 2 }, // first line printed twice
  ];

  it("mends lost spaces and a repeated first line, leaves an intended difference, and pdf.js reads the result", async () => {
    const pdf = skiaReport({ pages: 2, bookmarks: garbled });
    const reader = new RawPdf(pdf.bytes);
    const edits = outlineTitleEdits(reader, headings);
    expect(edits).toHaveLength(3);
    const out = latin1(reader.splice(edits));
    expect(xrefProblems(out)).toEqual([]);
    const titles = ["One line in the table", "二、总体 情况", "Hidden part", "Annual results for 2026"];
    const { value, warnings } = await withPdfjs(out, pdfjsBookmarks);
    expect(warnings).toEqual([]);
    expect(value.map((b) => b.title)).toEqual(titles);
    expect(value.map((b) => b.page)).toEqual([1, 1, 2, 2]);
  });

  it("changes nothing when bookmarks and headings do not pair one to one", () => {
    const reader = new RawPdf(skiaReport({ pages: 2, bookmarks: garbled }).bytes);
    expect(outlineTitleEdits(reader, headings.slice(0, 3))).toEqual([]);
    expect(outlineTitleEdits(reader, [])).toEqual([]);
    expect(outlineTitleEdits(new RawPdf(skiaReport({ pages: 2 }).bytes), headings)).toEqual([]);
  });

  it("leaves a title alone that is the heading, or differs by more than spaces", () => {
    const reader = new RawPdf(
      skiaReport({
        pages: 1,
        bookmarks: [
          { title: literal("Same"), page: 1 },
          { title: literal("Other"), page: 1 },
        ],
      }).bytes,
    );
    expect(outlineTitleEdits(reader, ["Same", "Another"])).toEqual([]);
  });
});
