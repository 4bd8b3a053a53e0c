import { PDFDict, PDFDocument, PDFName, PDFRawStream } from "pdf-lib";
import { afterAll, expect, it } from "vitest";
import { renderReport, closeRenderer } from "../../helpers/render.ts";
import { fonts, pageTexts, squash } from "../../helpers/pdf.ts";

afterAll(closeRenderer);

async function rasterImages(pdf: Uint8Array): Promise<number> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  return doc.context
    .enumerateIndirectObjects()
    .filter(
      ([, obj]) =>
        (obj instanceof PDFRawStream ? obj.dict : obj instanceof PDFDict ? obj : undefined)?.get(
          PDFName.of("Subtype"),
        ) === PDFName.of("Image"),
    ).length;
}

const PNG_1PX =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

it("draws bar, line and pie charts as vector graphics with their labels as text in the bundled fonts", async () => {
  const chart = (kind: string, title: string) => ({
    type: "chart",
    kind,
    title,
    categories: ["七月", "八月", "九月"],
    series:
      kind === "pie"
        ? [{ name: "办件量", data: [12, 30, 18] }]
        : [
            { name: "线上办理", data: [12, 30, 18] },
            { name: "窗口办理", data: [7, 9, 11] },
          ],
  });
  const result = await renderReport({
    template: "report",
    data: {
      title: "图表",
      lang: "zh-CN",
      blocks: [chart("bar", "柱状图标题"), chart("line", "折线图标题"), chart("pie", "饼图标题")],
    },
  });
  // No raster image anywhere: what looks like a chart is paths and text.
  expect(await rasterImages(result.pdf)).toBe(0);
  // (The check does see a raster image when there is one.)
  const withImage = await renderReport({
    template: "report",
    data: { title: "图", blocks: [{ type: "image", src: PNG_1PX, alt: "一像素", width: "20mm" }] },
  });
  expect(await rasterImages(withImage.pdf)).toBeGreaterThan(0);
  const text = squash((await pageTexts(result.pdf)).join(""));
  for (const label of [
    "柱状图标题",
    "折线图标题",
    "饼图标题",
    "七月",
    "八月",
    "九月",
    "线上办理",
    "窗口办理",
    "办件量",
  ]) {
    expect(text, label).toContain(label);
  }
  for (const font of await fonts(result.pdf)) expect(font.descendant, font.name).toBe("/CIDFontType2");
});
