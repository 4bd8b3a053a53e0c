import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport, closeRenderer } from "../../helpers/render.ts";
import { example } from "../../helpers/examples.ts";
import { startTrapServer, type TrapServer } from "../../helpers/trap-server.ts";
import { fonts, openPdf, pageTexts, rasterize, squash, textLines } from "../../helpers/pdf.ts";

type Data = Record<string, any>; // fixtures are edited freely

// A server on loopback that counts every request: the renderer must never call it.
let trap: TrapServer;
let base = "";
beforeAll(async () => {
  trap = await startTrapServer();
  base = trap.base;
});
afterAll(async () => {
  await trap.close();
  await closeRenderer();
});

describe("hostile text", () => {
  const longWord = "9".repeat(3000);
  const hostile = () => [
    `<script>document.title="pwned"</script>`,
    `<img src="${base}/img.png" onerror="fetch('${base}/onerror')">`,
    `<iframe src="file:///etc/passwd"></iframe><link rel="stylesheet" href="${base}/style.css">`,
    "{{agency}} {{{agency}}} {{#each this}}x{{/each}}",
    `第一行\n第二行\n\n第四行`,
    longWord,
  ];

  it("is printed as literal text, runs nothing, fetches nothing and stays on the page", async () => {
    const envelope = example<Data>("zhanhe-transport-2020.json");
    envelope.data.otherMatters = { paragraphs: hostile() };
    envelope.data.agency = `<b>${"湛河区"}</b>`;
    const result = await renderReport(envelope);

    const text = squash((await pageTexts(result.pdf)).join("")).replace(/—\d+—/g, "");
    for (const line of hostile()) expect(text).toContain(squash(line));
    expect(text).toContain("<b>湛河区</b>");
    expect(trap.hits()).toBe(0);
    expect(result.refusedRequests).toEqual([]); // escaped: there was no element to fetch anything

    const doc = await openPdf(result.pdf);
    const { info } = (await doc.getMetadata()) as unknown as { info: Record<string, string> };
    expect(info.Title).not.toContain("pwned");
    await doc.destroy();

    // Line breaks are kept: the three lines print as separate lines.
    const lines = await textLines(result.pdf);
    const at = ["第一行", "第二行", "第四行"].map((s) => lines.findIndex((l) => squash(l.text) === s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect(at[1]).toBe((at[0] ?? 0) + 1);

    // The 3,000-digit word wraps inside the type area: nothing passes the right margin (26 mm).
    const page = await (await openPdf(result.pdf)).getPage(1);
    const [, , width] = page.view as [number, number, number, number];
    const rightEdge = width - (26 / 25.4) * 72 + 1;
    const overflow = lines.flatMap((l) => l.items).filter((i) => i.x + i.width > rightEdge + (28 - 26) * 2.84);
    expect(overflow).toEqual([]);
  });
});

describe("fonts", () => {
  it("embeds every font as a TrueType subset: no Type 3, nothing unembedded", async () => {
    const result = await renderReport(example("gov-disclosure-2021-sample.json"));
    const list = await fonts(result.pdf);
    expect(list.length).toBeGreaterThan(3);
    for (const font of list) {
      expect(font.subtype, font.name).toBe("/Type0");
      expect(font.descendant, font.name).toBe("/CIDFontType2");
      expect(font.embedded, font.name).toBe(true);
      expect(font.name).toMatch(/^\/[A-Z]{6}\+/); // a subset
    }
  });

  it("draws the rare characters of real agency names, not missing-glyph boxes", async () => {
    const rare = ["䶮", "𠀀", "鿏"];
    const missing = "\u{10FFFD}"; // a private-use character no font has: how a box looks
    const envelope = example<Data>("gov-disclosure-2021-sample.json");
    envelope.data.agency = `示例${rare.join("")}局`;
    envelope.data.otherMatters = { paragraphs: [...rare, missing] };
    const result = await renderReport(envelope);
    const text = (await pageTexts(result.pdf)).join("");
    for (const c of rare) expect(text).toContain(c);
    expect((await fonts(result.pdf)).some((f) => f.name.includes("HanaMin"))).toBe(true);

    // Compare each character's pixels with the box drawn for the missing one.
    const lines = await textLines(result.pdf);
    const glyphs = rare.map((c) => lines.find((l) => l.text.trim() === c));
    // The missing character has no Unicode mapping in the PDF: it is the line right after the last.
    glyphs.push(lines[lines.findIndex((l) => l.text.trim() === rare[2]) + 1]);
    expect(glyphs.every(Boolean)).toBe(true);
    const scale = 2;
    const pageNumber = glyphs[0]?.page ?? 1;
    const png = await rasterize(result.pdf, pageNumber, scale);
    const pageHeight = png.height / scale;
    const crop = (x: number, y: number) => {
      const bits: number[] = [];
      for (let dy = 0; dy < 32; dy++)
        for (let dx = 0; dx < 32; dx++) {
          const px = Math.round(x * scale) + dx;
          const py = Math.round((pageHeight - y) * scale) - 26 + dy;
          bits.push((png.data[(py * png.width + px) * 4] ?? 255) < 128 ? 1 : 0);
        }
      return bits;
    };
    const shapes = glyphs.map((l) => crop(l?.items[0]?.x ?? 0, l?.y ?? 0));
    // With the fonts shipped, a character no font has prints as an empty .notdef (a box in some fonts).
    const box = shapes.pop() ?? [];
    const differs = (a: number[], b: number[]) => a.filter((bit, k) => bit !== b[k]).length;
    for (const [i, shape] of shapes.entries()) {
      expect(
        shape.reduce((a, b) => a + b, 0),
        rare[i],
      ).toBeGreaterThan(40); // real strokes
      expect(differs(shape, box), rare[i]).toBeGreaterThan(40);
      for (const other of shapes.slice(i + 1)) expect(differs(shape, other)).toBeGreaterThan(40); // not one shared box
    }
  });
});

describe("reproducibility", () => {
  it("gives byte-identical PDFs for identical input, with another report rendered in between", async () => {
    const a1 = await renderReport(example("zhanhe-transport-2020.json"));
    const b = await renderReport(example("gov-disclosure-2021-sample.json"));
    const a2 = await renderReport(example("zhanhe-transport-2020.json"));
    expect(a2.sha256).toBe(a1.sha256);
    expect(Buffer.compare(Buffer.from(a1.pdf), Buffer.from(a2.pdf))).toBe(0);
    expect(b.sha256).not.toBe(a1.sha256);
    // Nothing of one report leaks into the next page render.
    expect((await pageTexts(b.pdf)).join("")).not.toContain("湛河区");
  });
});
