import { afterAll, describe, expect, it } from "vitest";
import { marginBoxText } from "../../../functions/core/html/margin-text.ts";
import { fonts, pageTexts, squash } from "../../helpers/pdf.ts";
import { renderReport, closeRenderer } from "../../helpers/render.ts";

afterAll(closeRenderer);

describe("text only margin boxes show", () => {
  it("prints whole in the running header and footer, in the bundled fonts, though the body never uses it", async () => {
    // Characters no other test prints in the header's face (Noto Serif SC 400): their font slices are
    // fetched only because the core lays the margin boxes' text out unseen before printing.
    const title = "鬱龘靐齉 Qz 𠀀 — Ω";
    const result = await renderReport({
      template: "report",
      data: {
        title,
        lang: "zh-CN",
        blocks: [{ type: "paragraph", text: "正文。" }, { type: "pageBreak" }, { type: "paragraph", text: "第二页。" }],
      },
    });
    const [first, second] = (await pageTexts(result.pdf)).map(squash);
    expect(first).toContain("第1页共2页");
    expect(second).toContain(squash(title));
    expect(second).toContain("第2页共2页");
    expect((await fonts(result.pdf)).filter((f) => !f.embedded || f.subtype !== "/Type0")).toEqual([]);
  });
});

describe("marginBoxText", () => {
  it("collects the content strings of @page rules, CSS escapes decoded, with digits for counters", () => {
    const css = `body { content: "not this" }
@page { @top-center { content: "\\00987b  \\4e00 x"; font-family: "Not Me"; } }
@page :left { @bottom-left { content: '— ' counter(page) ' }'; } }`;
    const body = `<style>@page { @top-right { content: "页"; } }</style><p>content: "nor this"</p>`;
    expect(marginBoxText(css, body)).toBe([..."0123456789x}—一页须"].sort().join(""));
  });
});
