import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PDFPageProxy } from "pdfjs-dist/legacy/build/pdf.mjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RenderResult } from "../../../functions/core/types.ts";
import { readPackageDir } from "../../../functions/packages/index.ts";
import { fence } from "../../helpers/fence.ts";
import { example, root } from "../../helpers/examples.ts";
import { fonts, openPdf, rasterize, squash } from "../../helpers/pdf.ts";
import { renderReport, closeRenderer } from "../../helpers/render.ts";

afterAll(closeRenderer);

// options.watermark read back with pdf.js: on every page, where the layout is untouched, outside the
// structure tree, in the bundled bold, behind the text.
const TEXT = "内部资料 注意保密";

interface Item {
  str: string;
  x: number;
  y: number;
  /** Drawn at an angle (the watermark is the only rotated text of these documents). */
  rotated: boolean;
  /** Inside /Artifact marked content only: no structure element can own it. */
  artifact: boolean;
  font: string;
}

/** Every text item of every page, in the order drawn, with the font's PostScript name. */
async function items(pdf: Uint8Array): Promise<Item[][]> {
  const doc = await openPdf(pdf);
  const pages: Item[][] = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const page = await doc.getPage(p);
    await page.getOperatorList(); // loads the fonts into commonObjs
    const content = await page.getTextContent({ includeMarkedContent: true });
    /** The tags of the marked-content sequences open around the item. */
    const open: string[] = [];
    const out: Item[] = [];
    for (const item of content.items) {
      if ("type" in item) {
        if (item.type === "beginMarkedContent" || item.type === "beginMarkedContentProps")
          open.push(item.type === "beginMarkedContent" ? String((item as { tag?: string }).tag) : "struct");
        if (item.type === "endMarkedContent") open.pop();
        continue;
      }
      if (item.str.trim() === "") continue;
      const [a, b, c, , x, y] = item.transform as number[];
      out.push({
        str: item.str,
        x: Math.round((x as number) * 100) / 100,
        y: Math.round((y as number) * 100) / 100,
        rotated: Math.abs(b as number) > 1e-6 || Math.abs(c as number) > 1e-6 || (a as number) < 0,
        artifact: open.length > 0 && open.every((tag) => tag === "Artifact"),
        font: fontName(page, item.fontName),
      });
    }
    pages.push(out);
  }
  await doc.destroy();
  return pages;
}

function fontName(page: PDFPageProxy, id: string): string {
  return page.commonObjs.has(id) ? String((page.commonObjs.get(id) as { name?: string }).name ?? "") : "";
}

async function structTrees(pdf: Uint8Array): Promise<unknown[]> {
  const doc = await openPdf(pdf);
  const trees: unknown[] = [];
  for (let p = 1; p <= doc.numPages; p++) trees.push(await (await doc.getPage(p)).getStructTree());
  await doc.destroy();
  // Ids name objects ("p32R_mc0": page 32's content 0; "26R": a link), which more objects before renumber.
  const json = JSON.stringify(trees)
    .replace(/"p\d+R_mc(\d+)"/g, '"mc$1"')
    .replace(/"\d+R"/g, '"ref"');
  return JSON.parse(json) as unknown[];
}

const withMark = (input: { options?: Record<string, unknown> }, watermark: Record<string, unknown>) => ({
  ...input,
  options: { ...input.options, watermark },
});

const cases: { name: string; input: () => Promise<{ envelope: object; run?: object }> }[] = [
  { name: "report (the example: table, list, image, charts, TOC)", input: async () => ({ envelope: reportExample() }) },
  { name: "gov-disclosure-annual-report", input: async () => ({ envelope: example("zhanhe-transport-2020.json") }) },
  {
    name: "a template package (payment-notice)",
    input: async () => {
      const dir = join(root, "examples/packages/payment-notice");
      const checked = await fence.check(await readPackageDir(dir));
      if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
      const data = JSON.parse(readFileSync(join(dir, "example.json"), "utf8")) as object;
      return { envelope: { template: "payment-notice", data }, run: { template: checked.package.source } };
    },
  },
];

function reportExample() {
  return JSON.parse(readFileSync(join(root, "templates/report/example.json"), "utf8")) as {
    template: string;
    data: object;
    options?: Record<string, unknown>;
  };
}

describe.each(cases)("a watermark on $name", ({ input }) => {
  let plain: RenderResult;
  let marked: RenderResult;
  let plainItems: Item[][];
  let markedItems: Item[][];

  beforeAll(async () => {
    const { envelope, run } = await input();
    plain = await renderReport(envelope, undefined, run);
    marked = await renderReport(withMark(envelope, { text: TEXT }), undefined, run);
    plainItems = await items(plain.pdf);
    markedItems = await items(marked.pdf);
  });

  it("changes no page: the same page count, the same text at the same positions", () => {
    expect(marked.pages).toBe(plain.pages);
    const body = (page: Item[]) => page.filter((i) => !i.rotated).map(({ str, x, y }) => ({ str, x, y }));
    expect(markedItems.map(body)).toEqual(plainItems.map(body));
    expect(plainItems.flat().filter((i) => i.rotated)).toEqual([]);
  });

  it("is on every page, diagonal, as one run of text before the page's content, in no structure element", () => {
    for (const page of markedItems) {
      const mark = page.filter((i) => i.rotated);
      expect(squash(mark.map((i) => i.str).join(""))).toBe(squash(TEXT));
      expect(mark.every((i) => i.artifact)).toBe(true);
      // One run: nothing of the content between its first and last item.
      const first = page.indexOf(mark[0] as Item);
      expect(page.slice(first, first + mark.length)).toEqual(mark);
    }
  });

  it("leaves the structure tree exactly as it was", async () => {
    expect(await structTrees(marked.pdf)).toEqual(await structTrees(plain.pdf));
  });

  it("is set in the bundled Noto Serif SC bold, embedded as TrueType (no synthesised Type 3)", async () => {
    for (const page of markedItems) {
      for (const item of page.filter((i) => i.rotated)) expect(item.font).toMatch(/\+NotoSerifSC\w*-Bold$/);
    }
    expect((await fonts(marked.pdf)).filter((f) => f.subtype === "/Type3")).toEqual([]);
  });
});

describe("a watermark's pixels", () => {
  // The report example's page 2: a table, paragraphs and a key-value list under the diagonal.
  const envelope = reportExample();
  const scale = 2;

  it("lies behind the text: every dark glyph pixel stays dark under an opaque watermark", async () => {
    const plain = await rasterize((await renderReport(envelope)).pdf, 2, scale);
    const opaque = await rasterize((await renderReport(withMark(envelope, { text: TEXT, opacity: 1 }))).pdf, 2, scale);
    let glyph = 0;
    let covered = 0;
    let shown = 0;
    for (let i = 0; i < plain.data.length; i += 4) {
      const before = plain.data[i] as number;
      const after = opaque.data[i] as number;
      if (before < 50) {
        glyph++;
        // The watermark is grey (85): drawn over a glyph it would lighten it.
        if (after > 70) covered++;
      } else if (before > 250 && after < 100) shown++;
    }
    expect(glyph).toBeGreaterThan(10_000);
    expect(shown).toBeGreaterThan(20_000); // it is there, large
    expect(covered).toBe(0);
  });

  it("is 15 % opaque unless told otherwise (grey 85 over white: 229), and takes the opacity given", async () => {
    const lightest = async (watermark: Record<string, unknown>) => {
      const plain = await rasterize((await renderReport(envelope)).pdf, 1, scale);
      const marked = await rasterize((await renderReport(withMark(envelope, watermark))).pdf, 1, scale);
      // The commonest value among pixels white before and changed now: the watermark's solid fill.
      const counts = new Map<number, number>();
      for (let i = 0; i < plain.data.length; i += 4) {
        if ((plain.data[i] as number) === 255 && (marked.data[i] as number) < 250) {
          const v = marked.data[i] as number;
          counts.set(v, (counts.get(v) ?? 0) + 1);
        }
      }
      return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 255;
    };
    expect(Math.abs((await lightest({ text: TEXT })) - 229)).toBeLessThanOrEqual(2);
    expect(Math.abs((await lightest({ text: TEXT, opacity: 0.5 })) - 170)).toBeLessThanOrEqual(2);
  });
});
