import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport, closeRenderer } from "../../helpers/render.ts";
import { example } from "../../helpers/examples.ts";
import { openPdf, squash, textLines, type TextLine } from "../../helpers/pdf.ts";

type Data = Record<string, any>; // fixtures are edited freely

const mm = (v: number) => (v / 25.4) * 72;

interface Item {
  page: number;
  str: string;
  x: number;
  y: number;
  size: number;
}

async function items(pdf: Uint8Array): Promise<{ items: Item[]; width: number; height: number }> {
  const doc = await openPdf(pdf);
  const out: Item[] = [];
  let width = 0;
  let height = 0;
  for (let p = 1; p <= doc.numPages; p++) {
    const page = await doc.getPage(p);
    [, , width, height] = page.view as [number, number, number, number];
    for (const item of (await page.getTextContent()).items) {
      if (!("str" in item) || item.str.trim() === "") continue;
      const [a, , , , x, y] = item.transform as number[];
      out.push({ page: p, str: item.str, x: x ?? 0, y: y ?? 0, size: a ?? 0 });
    }
  }
  await doc.destroy();
  return { items: out, width, height };
}

const isBody = (i: Item) => Math.abs(i.size - 16) < 0.1;

afterAll(closeRenderer);

describe("typography after GB/T 9704-2012 (the 湛河区 example)", () => {
  let found: Awaited<ReturnType<typeof items>>;
  beforeAll(async () => {
    found = await items((await renderReport(example("zhanhe-transport-2020.json"))).pdf);
  });

  it("is A4", () => {
    expect(found.width).toBeCloseTo(595.28, 0);
    expect(found.height).toBeCloseTo(841.89, 0);
  });

  it("sets the title at 22 pt, section headings and body at 16 pt on a 28.95 pt line pitch", () => {
    const title = found.items.find((i) => i.str.includes("湛"));
    expect(title?.size).toBeCloseTo(22, 1);
    const heading = found.items.find((i) => i.str.includes("总")); // first in 一、总体情况
    expect(heading?.size).toBeCloseTo(16, 1);
    // Baselines of consecutive body lines on page 2 (prose only).
    const ys = [...new Set(found.items.filter((i) => i.page === 2 && isBody(i)).map((i) => i.y))].sort((a, b) => b - a);
    const pitches = ys.slice(1).map((y, k) => (ys[k] ?? 0) - y);
    expect(pitches.length).toBeGreaterThan(10);
    for (const pitch of pitches) expect(pitch).toBeCloseTo(28.95, 0);
  });

  it("keeps the margins: 37 mm top, 28 mm binding edge, 26 mm outer edge, 35 mm bottom", () => {
    for (const page of [2, 3]) {
      const body = found.items.filter((i) => i.page === page && isBody(i));
      const left = Math.min(...body.map((i) => i.x));
      // Odd pages bind on the left (28 mm), even pages on the right: their left margin is the outer 26 mm.
      expect(left).toBeCloseTo(mm(page % 2 === 1 ? 28 : 26), 0);
      const top = Math.max(...body.map((i) => i.y));
      expect(found.height - top).toBeGreaterThan(mm(37));
      expect(found.height - top).toBeLessThan(mm(37) + 28.95);
      expect(Math.min(...body.map((i) => i.y))).toBeGreaterThan(mm(35));
    }
  });

  it("prints page numbers as — n — in 14 pt at the outer corners, below the type area", () => {
    const numbers = found.items.filter((i) => /^—\s*\d+\s*—$/.test(i.str));
    expect(numbers.length).toBe(7);
    for (const n of numbers) {
      expect(n.size).toBeCloseTo(14, 1);
      expect(n.y).toBeLessThan(mm(35) - mm(7) + 1);
      if (n.page % 2 === 1) expect(n.x).toBeGreaterThan(found.width / 2);
      else expect(n.x).toBeLessThan(found.width / 2);
    }
  });
});

describe("page breaks", () => {
  // Lengthen section 一 step by step so that page breaks fall at every point of sections 二–四.
  it("never leaves a heading or a table caption alone at the foot of a page", async () => {
    const base = example<Data>("zhanhe-transport-2020.json");
    const lonely = new Set([
      ...[
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
      ],
      ...["五、存在的主要问题及改进情况", "六、其他需要报告的事项"],
      ...["（一）", "（五）", "（六）", "（八）", "（九）"].map((n) => `第二十条第${n}项`),
      ...base.data.overview.subsections.map((s: { heading: string }) => squash(s.heading)),
    ]);
    for (let extra = 0; extra < 8; extra++) {
      const envelope = example<Data>("zhanhe-transport-2020.json");
      envelope.data.overview.paragraphs.push(
        ...Array.from({ length: extra }, (_, i) => `补充说明第 ${i + 1} 段。`.repeat(3)),
      );
      const lines: TextLine[] = await textLines((await renderReport(envelope)).pdf);
      const pages = new Map<number, TextLine[]>();
      for (const line of lines)
        if (!/^—\d+—$/.test(squash(line.text))) pages.set(line.page, [...(pages.get(line.page) ?? []), line]);
      for (const [page, onPage] of pages) {
        const last = squash(onPage.at(-1)?.text ?? "");
        expect(lonely.has(last), `extra=${extra}, page ${page} ends with "${last}"`).toBe(false);
      }
    }
  });
});
