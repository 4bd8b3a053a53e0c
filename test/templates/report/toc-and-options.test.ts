import { afterAll, describe, expect, it } from "vitest";
import { renderReport, closeRenderer } from "../../helpers/render.ts";
import { bookmarks, openPdf, pageTexts, squash, textLines } from "../../helpers/pdf.ts";
import { headingPage, tocFromPdf } from "../../helpers/report.ts";

afterAll(closeRenderer);

const words = "The quick brown fox jumps over the lazy dog while the committee reviews the quarterly figures.";

/** An English report with enough headings for a two-page table of contents. */
function longTocReport() {
  const blocks: unknown[] = [];
  for (let c = 1; c <= 12; c++) {
    blocks.push({
      type: "heading",
      level: 1,
      text: `Chapter ${c}: ${c % 3 === 0 ? "A rather long chapter title that needs more than one line in the table of contents, as long titles do" : "Findings"}`,
    });
    blocks.push({ type: "paragraph", text: `${words} `.repeat(4 + (c % 5) * 6) });
    for (let s = 1; s <= 3; s++) {
      blocks.push({ type: "heading", level: 2, text: `Section ${c}.${s} (part ${String.fromCharCode(64 + s)})` });
      blocks.push({ type: "paragraph", text: `${words} `.repeat(3 + ((c * s) % 7) * 4) });
      if (s === 2) blocks.push({ type: "heading", level: 3, text: `Detail ${c}.${s}.1` });
      if (c % 4 === 0 && s === 3) blocks.push({ type: "pageBreak" });
    }
  }
  blocks.push({ type: "pageBreak" }, { type: "pageBreak" }); // trailing breaks leave no empty page
  return {
    template: "report",
    data: { title: "Annual Review", subtitle: "Board edition", lang: "en-GB", toc: true, blocks },
  };
}

describe("a table of contents over two pages, in English", () => {
  it("states the page of every level-1 and level-2 heading, and the bookmarks agree", async () => {
    const envelope = longTocReport();
    const result = await renderReport(envelope);
    // One print: the numbers are written into the room the first print reserved.
    expect(result.prints).toBe(1);
    const texts = await pageTexts(result.pdf);
    const lines = await textLines(result.pdf);
    const headings = envelope.data.blocks.filter((b) => (b as { type: string }).type === "heading") as {
      level: number;
      text: string;
    }[];
    const entries = headings.filter((h) => h.level <= 2);
    expect(entries.length).toBe(48);

    const toc = await tocFromPdf(
      result.pdf,
      entries.map((h) => h.text),
    );
    expect([...toc.keys()]).toEqual(entries.map((h) => h.text));
    const tocPages = new Set([...toc.values()].map((e) => e.tocPage));
    expect([...tocPages]).toEqual([1, 2]);
    for (const h of entries) {
      expect(headingPage(lines, h.text, 2), h.text).toBe(toc.get(h.text)?.page);
    }

    // Bookmarks: exactly the level-1 and level-2 headings (not the title, the TOC or level 3).
    const marks = await bookmarks(result.pdf);
    expect(marks.map((e) => [e.level, e.title])).toEqual(entries.map((h) => [h.level, h.text]));
    expect(marks.map((e) => e.page)).toEqual(entries.map((h) => toc.get(h.text)?.page));
    expect(Math.max(...[...toc.values()].map((e) => e.page ?? 0))).toBeGreaterThanOrEqual(10);
    // The placeholders' digits are gone: only the numbers are left.
    expect(squash(texts.slice(0, 2).join(""))).not.toMatch(/0123456789|\d{4}/);

    // Running footer in English; no empty page at the end.
    texts.forEach((t, i) => {
      expect(squash(t)).toContain(`Page${i + 1}of${result.pages}`);
    });
    expect(squash(texts[0] ?? "")).toContain("Contents");
    expect(squash(texts.at(-1) ?? "")).toMatch(/quarterlyfigures\.$/);

    // The same input gives the same bytes (both passes are deterministic).
    const again = await renderReport(envelope);
    expect(again.sha256).toBe(result.sha256);
  });
});

describe("text that looks like a page-number placeholder", () => {
  it("is left as it is, and the table of contents states the right pages", async () => {
    const envelope = longTocReport();
    // On the TOC's first page: a title and subtitle that read like placeholders 0 and 1, and
    // headings whose text ends in the ten digits right before their entry's placeholder.
    Object.assign(envelope.data, { title: "0123456789000", subtitle: "0123456789001" });
    const blocks = envelope.data.blocks as { type: string; level?: number; text?: string }[];
    const tocHeadings = blocks.filter((b) => b.type === "heading" && (b.level ?? 3) <= 2);
    for (const h of tocHeadings.slice(10, 14)) h.text = `${h.text} 0123456789`;
    const result = await renderReport(envelope);
    const lines = await textLines(result.pdf);
    const entries = tocHeadings as { text: string }[];
    const toc = await tocFromPdf(
      result.pdf,
      entries.map((h) => h.text),
    );
    for (const h of entries) expect(headingPage(lines, h.text, 2), h.text).toBe(toc.get(h.text)?.page);
    const first = squash((await pageTexts(result.pdf))[0] ?? "");
    expect(first).toContain("0123456789000");
    expect(first).toContain("0123456789001");
  });
});

describe("page options take effect", () => {
  const doc = (options: object) => ({
    template: "report",
    data: {
      title: "Options",
      lang: "en",
      blocks: [
        { type: "heading", level: 1, text: "Introduction" },
        { type: "paragraph", text: words },
        { type: "chart", kind: "line", categories: ["a", "b", "c"], series: [{ name: "s", data: [1, 3, 2] }] },
      ],
    },
    options,
  });

  async function measure(options: object) {
    const result = await renderReport(doc(options));
    const pdf = await openPdf(result.pdf);
    const view = (await pdf.getPage(1)).getViewport({ scale: 1 });
    await pdf.destroy();
    const lines = await textLines(result.pdf);
    const heading = lines.find((l) => squash(l.text) === "Introduction");
    const svgWidth = Number(/<svg width="(\d+)"/.exec(result.html)?.[1]);
    return { width: view.width, height: view.height, left: heading?.items[0]?.x ?? Number.NaN, svgWidth };
  }
  const mm = 72 / 25.4;
  const px = 96 / 25.4;

  it("A4 portrait with 20 mm side margins by default", async () => {
    const m = await measure({});
    expect(m.width).toBeCloseTo(210 * mm, 0);
    expect(m.height).toBeCloseTo(297 * mm, 0);
    expect(m.left).toBeCloseTo(20 * mm, 0);
    expect(m.svgWidth).toBe(Math.floor(170 * px)); // charts are drawn for the type area
  });

  it("A5 landscape with 12 mm margins", async () => {
    const m = await measure({ page: { size: "A5", orientation: "landscape", margin: "12mm" } });
    expect(m.width).toBeCloseTo(210 * mm, 0);
    expect(m.height).toBeCloseTo(148 * mm, 0);
    expect(m.left).toBeCloseTo(12 * mm, 0);
    expect(m.svgWidth).toBe(Math.floor((210 - 24) * px));
  });

  it("Letter with a 30 mm left margin", async () => {
    const m = await measure({ page: { size: "Letter", margin: { left: "30mm" } } });
    expect(m.width).toBeCloseTo(612, 0);
    expect(m.height).toBeCloseTo(792, 0);
    expect(m.left).toBeCloseTo(30 * mm, 0);
    expect(m.svgWidth).toBe(Math.floor(215.9 * px - 50 * px));
  });
});
