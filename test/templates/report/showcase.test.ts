import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderer, renderReport, closeRenderer } from "../../helpers/render.ts";
import type { RenderResult } from "../../../functions/core/types.ts";
import { example, root } from "../../helpers/examples.ts";
import {
  bookmarks,
  fonts,
  openPdf,
  pageCount,
  pageTexts,
  squash,
  textLines,
  type TextLine,
} from "../../helpers/pdf.ts";
import { expectedTexts, headingPage, tocFromPdf, withoutRunningText, type ReportLike } from "../../helpers/report.ts";

const envelope = example<ReportLike & { date: string }>("report-showcase.json");
const data = envelope.data;
const headings = data.blocks.filter(
  (b): b is { type: "heading"; level: number; text: string } => (b as { type: string }).type === "heading",
);
const tocHeadings = headings.filter((h) => h.level <= 2);

let result: RenderResult;
let texts: string[];
let lines: TextLine[];
beforeAll(async () => {
  result = await renderReport(envelope);
  texts = await pageTexts(result.pdf);
  lines = await textLines(result.pdf);
});
afterAll(closeRenderer);

describe("the showcase (examples/report-showcase.json)", () => {
  it("is the template's own example and uses every block type", () => {
    const own = JSON.parse(readFileSync(join(root, "templates/report/example.json"), "utf8")) as unknown;
    expect(own).toEqual(envelope);
    expect(renderer.templates.get("report").example).toEqual(envelope);
    const types = new Set(data.blocks.map((b) => (b as { type: string }).type));
    expect([...types].sort()).toEqual([
      "chart",
      "heading",
      "image",
      "keyValue",
      "list",
      "pageBreak",
      "paragraph",
      "table",
    ]);
    const kinds = new Set(data.blocks.map((b) => (b as { kind?: string }).kind).filter(Boolean));
    expect([...kinds].sort()).toEqual(["bar", "line", "pie"]);
    expect(new Set(headings.map((h) => h.level))).toEqual(new Set([1, 2, 3]));
  });

  it("renders, and its text contains all of the input's text", async () => {
    expect(result.pages).toBe(await pageCount(result.pdf));
    expect(result.pages).toBeGreaterThanOrEqual(5);
    const body = texts.map((t) => withoutRunningText(t, data.title)).join("");
    const missing = expectedTexts(data).filter((s) => !body.includes(squash(s)));
    expect(missing).toEqual([]);
    expect(body).toContain("2026年10月15日"); // the date, in the report's language
    expect(result.refusedRequests).toEqual([]);
  });

  it("has the report title at the top of every page but the first, and 第 X 页 共 Y 页 on every page", () => {
    texts.forEach((text, i) => {
      const t = squash(text);
      expect(t).toContain(`第${i + 1}页共${result.pages}页`);
      if (i > 0) expect(t.startsWith(squash(data.title))).toBe(true);
    });
    // The header sits above the text, the footer below it.
    for (let page = 2; page <= result.pages; page++) {
      const onPage = lines.filter((l) => l.page === page);
      expect(squash(onPage[0]?.text ?? "")).toBe(squash(data.title));
      expect(squash(onPage.at(-1)?.text ?? "")).toBe(`第${page}页共${result.pages}页`);
    }
  });

  it("prints a table of contents whose page numbers are the pages the headings are on", async () => {
    const toc = await tocFromPdf(
      result.pdf,
      tocHeadings.map((h) => h.text),
    );
    expect([...toc.keys()]).toEqual(tocHeadings.map((h) => h.text));
    for (const h of tocHeadings) {
      const entry = toc.get(h.text);
      expect(entry?.tocPage).toBe(1);
      expect(headingPage(lines, h.text, 1), h.text).toBe(entry?.page);
    }
    // Level-3 headings are not in the table of contents.
    const level3 = headings.filter((h) => h.level === 3).map((h) => squash(h.text));
    const tocText = squash(texts[0] ?? "");
    for (const h of level3) expect(tocText).not.toContain(h);
  });

  it("has a PDF bookmark for each level-1 and level-2 heading, nested, on the heading's page", async () => {
    const marks = await bookmarks(result.pdf);
    expect(marks.map((e) => ({ title: e.title, level: e.level }))).toEqual(
      tocHeadings.map((h) => ({ title: h.text, level: h.level })),
    );
    for (const e of marks) expect(e.page).toBe(headingPage(lines, e.title, 1));
  });

  it("embeds only the bundled fonts, as TrueType: no Type 3 (synthesised) font", async () => {
    const list = await fonts(result.pdf);
    expect(list.length).toBeGreaterThan(0);
    expect(list.filter((f) => f.subtype === "/Type3")).toEqual([]);
    for (const f of list) {
      expect(f.embedded, f.name).toBe(true);
      expect(f.descendant, f.name).toBe("/CIDFontType2");
      expect(f.name).toMatch(/^\/[A-Z]{6}\+(NotoSerifSC|NotoSansSC|HanaMin)/);
    }
  });

  it("draws charts as vector graphics with text in the bundled fonts", () => {
    const svgs = result.html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(3);
    for (const svg of svgs) {
      const families = new Set([...svg.matchAll(/font-family:([^;"]+)/g)].map((m) => m[1]?.trim()));
      expect([...families]).toEqual(["'Noto Sans SC', 'Noto Serif SC', HanaMin"]);
      expect(svg).not.toMatch(/font-weight:(bold|[6-9]00)/);
    }
    // Chart labels are text in the PDF (vector), not pixels: legends, categories and values read back.
    const page = texts.find((t) => t.includes("图 1")) ?? "";
    for (const s of ["七月", "八月", "九月", "线上办理", "窗口办理", "12,415"]) expect(squash(page)).toContain(s);
    expect(result.html).not.toMatch(/<img[^>]+src="(?!data:)/);
  });

  it("writes the metadata: title, author, subject and keywords (options override), the date, the file name", async () => {
    const doc = await openPdf(result.pdf);
    const { info } = (await doc.getMetadata()) as unknown as { info: Record<string, string> };
    await doc.destroy();
    expect(info.Title).toBe(data.title);
    expect(info.Author).toBe(data.author);
    expect(info.Subject).toBe("2026 年第三季度政务服务运营情况");
    expect(info.Keywords).toBe("政务服务, 运营报告, 2026Q3");
    expect(info.CreationDate).toMatch(/^D:20261015/);
    expect(result.filename).toBe("星河市政务服务中心-2026Q3-运营报告.pdf");
    expect((await bookmarks(result.pdf)).length).toBe(tocHeadings.length);
  });

  it("is the same document, byte for byte, when rendered again", async () => {
    const again = await renderReport(example("report-showcase.json"));
    expect(again.sha256).toBe(result.sha256);
    expect(again.html).toBe(result.html);
  });
});
