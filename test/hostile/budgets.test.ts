import { deflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../functions/core/errors.ts";
import { createTemplateRegistry } from "../../functions/core/template/templates.ts";
import { crc32 } from "../../functions/packages/crc32.ts";
import { readPackageZip, writeZip } from "../../functions/packages/index.ts";
import { MAX_TOTAL_CHART_POINTS, MAX_TOTAL_PIXELS } from "../../templates/report/budgets.ts";
import { fence } from "../helpers/fence.ts";
import { baseFiles } from "../helpers/package-zips.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { renderReport, validateReport, closeRenderer } from "../helpers/render.ts";

// Requests whose every image and chart is within its own limits, but not the whole: twelve
// 40-megapixel PNGs in 84 KB of JSON, four charts of 20 series × 1,000 points. The `report`
// template refuses them before Chromium or ECharts start, and a template package's dataImage and
// chart helpers hold each render to the same budgets.

afterAll(closeRenderer);

/** A valid 1-bit grey PNG of w × h pixels, all black but for `seed` in its first byte: a few KB. */
function png(w: number, h: number, seed = 0): string {
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const frame = Buffer.alloc(8 + data.length + 4);
    frame.writeUInt32BE(data.length, 0);
    typed.copy(frame, 4);
    frame.writeUInt32BE(crc32(typed) >>> 0, 8 + data.length);
    return frame;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // grey
  // Each row is its filter byte (0: none) and its pixels: zeros all, as deflate packs best.
  const rows = Buffer.alloc((Math.ceil(w / 8) + 1) * h);
  rows[1] = seed;
  const bytes = Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
  return `data:image/png;base64,${bytes.toString("base64")}`;
}

/** 40 million pixels: the most one image may have. */
const LARGEST = [8000, 5000] as const;

function chart(kind: "bar" | "line" | "pie", categories: number, series: number) {
  return {
    type: "chart",
    kind,
    categories: Array.from({ length: categories }, (_, i) => `c${i}`),
    series: Array.from({ length: series }, (_, s) => ({
      name: `s${s}`,
      data: Array.from({ length: categories }, (_, i) => ((i * 31 + s * 17) % 100) + 1),
    })),
  };
}

const report = (blocks: unknown[], options?: object) => ({
  template: "report",
  data: { title: "Budgets", blocks },
  ...(options ? { options } : {}),
});

/** The issues a refusal lists: [rule, path] each. */
async function refusal(work: Promise<unknown>): Promise<[string, string][]> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).code).toBe("invalid_data");
  return (error as InputError).issues.map((i) => [i.rule, i.path]);
}

describe("the report template: the pixels of all its images", () => {
  it("twelve 40-megapixel PNGs (the issue's 79 KB of JSON) are refused before Chromium sees one", async () => {
    const images = Array.from({ length: 12 }, (_, i) => ({ type: "image", src: png(...LARGEST, i), alt: `${i}` }));
    const body = JSON.stringify(report(images));
    expect(body.length).toBeLessThan(100_000);
    const started = performance.now();
    // The third crosses 100 million; the budget is said once, not once an image after it.
    expect(await refusal(renderReport(JSON.parse(body)))).toEqual([["images-total-pixels", "/blocks/2/src"]]);
    // Printing them took 19.7 s; reading their headers takes milliseconds.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("is a limit that validation 'warn' does not waive", async () => {
    const images = [0, 1, 2].map((i) => ({ type: "image", src: png(...LARGEST, i), alt: `${i}` }));
    expect(await refusal(validateReport(report(images, { validation: "warn" })))).toEqual([
      ["images-total-pixels", "/blocks/2/src"],
    ]);
  });

  it("holds exactly the budget, and refuses one pixel more", async () => {
    const full = [png(...LARGEST, 1), png(...LARGEST, 2), png(5000, 4000, 3)].map((src) => ({ type: "image", src }));
    expect(2 * 40_000_000 + 20_000_000).toBe(MAX_TOTAL_PIXELS);
    await expect(validateReport(report(full))).resolves.toMatchObject({ warnings: [] });
    const more = [{ type: "paragraph", text: "x" }, ...full, { type: "image", src: png(1, 1, 4) }];
    expect(await refusal(validateReport(report(more)))).toEqual([["images-total-pixels", "/blocks/4/src"]]);
  });

  it("counts the rasters inside an SVG image", async () => {
    const inner = [1, 2, 3].map((i) => `<image href="${png(...LARGEST, i)}" width="10" height="10"/>`).join("");
    const svg = `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg">${inner}</svg>`)}`;
    expect(await refusal(validateReport(report([{ type: "image", src: svg }])))).toEqual([
      ["images-total-pixels", "/blocks/0/src"],
    ]);
  });

  it("counts the same image once, as Chromium decodes it once: twelve copies of one print", async () => {
    const logo = png(4000, 3000); // 12 million pixels, twelve times: 144 million if counted each time
    const blocks = Array.from({ length: 12 }, (_, i) => ({ type: "image", src: logo, caption: `图${i + 1}` }));
    const result = await renderReport(report(blocks));
    const text = squash((await pageTexts(result.pdf)).join(""));
    for (let i = 1; i <= 12; i++) expect(text).toContain(`图${i}`);
  });
});

describe("the report template: the points of all its charts", () => {
  it("four charts of 20 series × 1,000 points are refused before ECharts draws one", async () => {
    const blocks = Array.from({ length: 4 }, () => chart("line", 1000, 20));
    const started = performance.now();
    expect(await refusal(renderReport(report(blocks)))).toEqual([["charts-total-points", "/blocks/1"]]);
    // Drawing and printing them took 13.3 s of one core.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await refusal(validateReport(report(blocks, { validation: "warn" })))).toEqual([
      ["charts-total-points", "/blocks/1"],
    ]);
  });

  it("holds the largest chart the schema allows, and nothing more", async () => {
    expect(1000 * 20).toBe(MAX_TOTAL_CHART_POINTS);
    await expect(validateReport(report([chart("bar", 1000, 20)]))).resolves.toMatchObject({ warnings: [] });
    // Even a tiny chart costs its axes, title and legend: it counts as 200 points.
    expect(await refusal(validateReport(report([chart("bar", 1000, 20), chart("bar", 2, 1)])))).toEqual([
      ["charts-total-points", "/blocks/1"],
    ]);
    const tiny = Array.from({ length: 101 }, () => chart("bar", 3, 2));
    expect(await refusal(validateReport(report(tiny)))).toEqual([["charts-total-points", "/blocks/100"]]);
  });

  it("counts a pie's slice as five points (each has its own label and leader line)", async () => {
    const pies = Array.from({ length: 4 }, () => chart("pie", 1000, 1));
    await expect(validateReport(report(pies))).resolves.toMatchObject({ warnings: [] });
    expect(await refusal(validateReport(report([...pies, chart("pie", 3, 1)])))).toEqual([
      ["charts-total-points", "/blocks/4"],
    ]);
  });
});

describe("template packages: dataImage and chart count against the same budgets, per render", () => {
  async function packageTemplate(template: string, example: object) {
    const checked = await fence.check(
      readPackageZip(
        writeZip(
          baseFiles({
            "template.hbs": template,
            "schema.json": '{ "type": "object" }',
            "example.json": JSON.stringify(example),
          }),
        ),
      ),
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    const loaded = createTemplateRegistry([checked.package.source]).get(checked.package.source.definition.id);
    return async (data: object) => (await loaded.render(data, AbortSignal.timeout(60_000))).html;
  }

  it("images: the one that crosses the budget is named by its place in the data", async () => {
    const render = await packageTemplate('{{#each images}}<img src="{{dataImage this}}" alt="">{{/each}}', {
      images: [],
    });
    const images = Array.from({ length: 12 }, (_, i) => png(...LARGEST, i));
    expect(await refusal(render({ images }))).toEqual([["images-total-pixels", "/images/2"]]);
    // The same image again and again counts once; and each render has a budget of its own.
    const twice = (a: number, b: number) => ({ images: [a, b, a, b].map((seed) => png(...LARGEST, seed)) });
    expect((await render(twice(1, 2))).match(/<img /g)).toHaveLength(4);
    expect((await render(twice(3, 4))).match(/<img /g)).toHaveLength(4);
  });

  it("charts: refused while the template first runs, before any is drawn", async () => {
    const render = await packageTemplate("{{#each charts}}{{chart this}}{{/each}}", { charts: [] });
    const { categories, series } = chart("line", 1000, 20);
    const charts = Array.from({ length: 4 }, () => ({ kind: "line", categories, series }));
    const started = performance.now();
    expect(await refusal(render({ charts }))).toEqual([["charts-total-points", "/charts/1"]]);
    expect(performance.now() - started).toBeLessThan(5_000);
    const small = { kind: "bar", categories: ["一月", "二月"], series: [{ name: "收入", data: [1, 2] }] };
    expect((await render({ charts: [small, small] })).match(/<svg /g)).toHaveLength(2);
  });
});
