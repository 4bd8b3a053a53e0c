import { afterAll, describe, expect, it } from "vitest";
import { renderReport, closeRenderer } from "../../helpers/render.ts";
import { chartSvg } from "../../../templates/report/charts.ts";
import type { ChartBlock } from "../../../templates/report/data.ts";
import { bookmarks, openPdf, pageTexts, squash } from "../../helpers/pdf.ts";

afterAll(closeRenderer);

const SCRIPT = `<script>document.title="pwned"</script>`;
const hostile = [
  SCRIPT,
  `<img src="http://127.0.0.1:9/x.png" onerror="alert(1)">`,
  `"onload="alert(1)" x='y' & &amp; {{title}} {{{title}}}`,
  `</svg></figure><iframe src="file:///etc/passwd"></iframe>`,
];

describe("charts are drawn on the server as SVG that escapes every text", () => {
  const chart: ChartBlock = {
    type: "chart",
    kind: "bar",
    title: hostile.join(" "),
    unit: SCRIPT,
    categories: [SCRIPT, hostile[1] ?? "", "一月"],
    series: [
      { name: hostile[2] ?? "", data: [1, 2, 3] },
      { name: hostile[3] ?? "", data: [3, null, 1] },
    ],
  };

  it("contains no markup of the input, only escaped text in bundled fonts", async () => {
    for (const kind of ["bar", "line", "pie"] as const) {
      const svg = await chartSvg(
        { ...chart, kind, series: kind === "pie" ? chart.series.slice(0, 1) : chart.series },
        { width: 600, height: 320 },
        "zh-CN",
      );
      expect(svg.startsWith("<svg ")).toBe(true);
      expect(svg.match(/<svg\b/g)).toHaveLength(1);
      expect(svg.match(/<\/svg>/g)).toHaveLength(1);
      for (const tag of ["script", "img", "iframe", "style", "foreignObject"])
        expect(svg).not.toMatch(new RegExp(`<${tag}\\b`, "i"));
      expect(svg).not.toMatch(/<[^>]*\son[a-z]+=/i); // no event attribute inside any tag
      expect(svg).toContain("&lt;script&gt;");
      // Every text is set in the bundled families, quoted so that the style attribute stays whole.
      for (const style of svg.match(/style="[^"]*"/g) ?? [])
        expect(style).toMatch(/font-family:'Noto Sans SC', 'Noto Serif SC', HanaMin;/);
      expect(svg).not.toMatch(/font-weight:(bold|[6-9]00)/);
    }
  });
});

describe("hostile text in every block", () => {
  it("is printed as literal text: nothing runs, nothing is fetched, the header stays the title", async () => {
    const title = `Title ${hostile[2]} ${hostile[3]}"; } @page { margin: 0 } x { content: "`;
    const envelope = {
      template: "report",
      data: {
        title,
        subtitle: SCRIPT,
        author: hostile[1],
        lang: "en",
        toc: true,
        blocks: [
          { type: "heading", level: 1, text: `H1 ${SCRIPT}` },
          { type: "paragraph", text: hostile.join("\n") },
          { type: "list", items: hostile, ordered: true },
          { type: "keyValue", items: hostile.map((h, i) => ({ key: `k${i}${h}`, value: h })) },
          {
            type: "table",
            caption: SCRIPT,
            note: hostile[3],
            header: [hostile],
            rows: [hostile, hostile.map((_, i) => i)],
          },
          {
            type: "image",
            src: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
            alt: SCRIPT,
            caption: hostile[1],
          },
          {
            type: "chart",
            kind: "line",
            title: SCRIPT,
            categories: hostile,
            series: [{ name: SCRIPT, data: [1, 2, 3, 4] }],
          },
          { type: "pageBreak" },
          { type: "heading", level: 2, text: `H2 ${hostile[1]}` },
        ],
      },
    };
    const result = await renderReport(envelope);
    expect(result.refusedRequests).toEqual([]);
    expect(result.html).not.toMatch(/<script\b/i);
    expect(result.html).not.toMatch(/<iframe\b/i);
    expect(result.html).not.toMatch(/<img\b(?![^>]*src="data:image\/png)/i);

    const texts = await pageTexts(result.pdf);
    const all = squash(texts.join(""));
    for (const h of hostile) expect(all).toContain(squash(h));
    // The running header is the title, character for character (shortened with "…" past 60 characters,
    // as a margin box is one line), on every page after the first.
    const chars = [...title.replace(/\s+/g, " ")];
    const running = chars.length <= 60 ? title : `${chars.slice(0, 59).join("").trimEnd()}…`;
    for (const text of texts.slice(1)) expect(squash(text).startsWith(squash(running))).toBe(true);

    expect((await bookmarks(result.pdf)).map((e) => e.title)).toEqual([`H1 ${SCRIPT}`, `H2 ${hostile[1]}`]);
    const doc = await openPdf(result.pdf);
    const { info } = (await doc.getMetadata()) as unknown as { info: Record<string, string> };
    await doc.destroy();
    expect(info.Title).toBe(title);
  });

  it("with validation warn, renders and returns the problems, and still fetches nothing", async () => {
    const result = await renderReport({
      template: "report",
      data: {
        title: "Warn",
        blocks: [
          { type: "image", src: "http://127.0.0.1:9/logo.png", alt: "the logo" },
          { type: "chart", kind: "bar", categories: ["a", "b"], series: [{ name: "s", data: [1] }] },
          { type: "table", header: [["a", "b"]], rows: [["1", "2", "3"]] },
        ],
      },
      options: { validation: "warn" },
    });
    expect(result.warnings.map((w) => w.path)).toEqual([
      "/blocks/0/src",
      "/blocks/1/series/0/data",
      "/blocks/2/rows/0/2",
    ]);
    expect(result.refusedRequests).toEqual([]);
    expect(result.html).not.toContain("127.0.0.1");
    expect(squash((await pageTexts(result.pdf)).join(""))).toContain("thelogo");
  });
});
