import { describe, expect, it } from "vitest";
import { InputError } from "../../../functions/core/errors.ts";
import { renderReport } from "../../helpers/render.ts";
import type { Issue } from "../../../functions/core/types.ts";
import { cssString } from "../../../templates/report/index.ts";

// Refused before Chromium is ever started: these tests need no browser.

const table = (over: Record<string, unknown> = {}) => ({
  type: "table",
  header: [
    [
      { text: "项目", rowspan: 2 },
      { text: "数量", colspan: 2 },
    ],
    ["本年", "上年"],
  ],
  rows: [["行政许可", 90, 34]],
  ...over,
});
const chart = (over: Record<string, unknown> = {}) => ({
  type: "chart",
  kind: "bar",
  categories: ["一月", "二月", "三月"],
  series: [{ name: "申请", data: [3, 5, 8] }],
  ...over,
});
const report = (...blocks: unknown[]) => ({ template: "report", data: { title: "报告", blocks } });

async function refusal(envelope: unknown): Promise<InputError> {
  const error = await renderReport(envelope).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).code).toBe("invalid_data");
  return error as InputError;
}

const brief = (issues: Issue[]) => issues.map(({ rule, path, expected, actual }) => ({ rule, path, expected, actual }));

describe("invalid blocks are refused with the JSON path of each problem", () => {
  it("an unknown block type", async () => {
    const e = await refusal(report({ type: "heading", level: 1, text: "一" }, { type: "video", src: "x.mp4" }));
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]).toMatchObject({ rule: "schema", path: "/blocks/1/type", actual: "video" });
    expect(e.issues[0]?.expected).toContain("paragraph");
  });

  it("a colspan that overruns the header, in the body or in a header row", async () => {
    const body = await refusal(report(table({ rows: [["行政许可", 90, 34], [{ text: "合计", colspan: 4 }]] })));
    expect(brief(body.issues)).toEqual([
      { rule: "table-colspan", path: "/blocks/0/rows/1/0/colspan", expected: 3, actual: 4 },
    ]);
    expect(body.issues[0]?.message).toMatch(/3 columns wide/);

    // The cell that no longer fits is named when the colspan before it took its place.
    const after = await refusal(report(table({ rows: [[{ text: "合计", colspan: 3 }, 124]] })));
    expect(brief(after.issues)).toEqual([
      { rule: "table-colspan", path: "/blocks/0/rows/0/1", expected: 3, actual: 4 },
    ]);

    const plain = await refusal(report(table({ rows: [["行政许可", 90, 34, 12]] })));
    expect(brief(plain.issues)).toEqual([
      { rule: "table-colspan", path: "/blocks/0/rows/0/3", expected: 3, actual: 4 },
    ]);

    const head = await refusal(
      report(
        table({
          header: [
            [
              { text: "项目", rowspan: 2 },
              { text: "数量", colspan: 2 },
            ],
            ["本年", { text: "上年", colspan: 2 }],
          ],
        }),
      ),
    );
    expect(brief(head.issues)).toEqual([
      { rule: "table-colspan", path: "/blocks/0/header/1/1/colspan", expected: 3, actual: 4 },
    ]);
  });

  it("an image that is not a data: URL", async () => {
    for (const src of [
      "https://example.com/logo.png",
      "file:///etc/passwd",
      "data:text/html,<script>alert(1)</script>",
      "logo.png",
    ]) {
      const e = await refusal(report({ type: "image", src, alt: "logo" }));
      expect(brief(e.issues)).toEqual([
        { rule: "image-src", path: "/blocks/0/src", expected: "data:image/…", actual: src },
      ]);
    }
    const bad64 = await refusal(report({ type: "image", src: "data:image/png;base64,not base64!" }));
    expect(bad64.issues[0]?.path).toBe("/blocks/0/src");
  });

  it("a chart whose series length differs from its categories", async () => {
    const e = await refusal(
      report(
        chart({
          series: [
            { name: "申请", data: [3, 5, 8] },
            { name: "办结", data: [1, 2] },
            { name: "x", data: [1, 2, 3, 4] },
          ],
        }),
      ),
    );
    expect(brief(e.issues)).toEqual([
      { rule: "chart-series-length", path: "/blocks/0/series/1/data", expected: 3, actual: 2 },
      { rule: "chart-series-length", path: "/blocks/0/series/2/data", expected: 3, actual: 4 },
    ]);
  });

  it("every problem of a document at once, each with its own path", async () => {
    const e = await refusal(
      report(
        { type: "heading", level: 4, text: "too deep" },
        table({ rows: [[{ text: "合计", colspan: 4 }]] }),
        { type: "image", src: "http://127.0.0.1/x.png" },
        chart({ series: [{ name: "s", data: [1] }] }),
        { type: "unknown" },
      ),
    );
    expect(e.issues.map((i) => i.path).sort()).toEqual(
      [
        "/blocks/0/level",
        "/blocks/1/rows/0/0/colspan",
        "/blocks/2/src",
        "/blocks/3/series/0/data",
        "/blocks/4/type",
      ].sort(),
    );
  });

  it("other table shapes a reader could not follow", async () => {
    const rowspan = await refusal(
      report(
        table({
          rows: [
            [{ text: "行政许可", rowspan: 3 }, 90, 34],
            [1, 2],
          ],
        }),
      ),
    );
    expect(brief(rowspan.issues)).toEqual([
      { rule: "table-rowspan", path: "/blocks/0/rows/0/0/rowspan", expected: 2, actual: 3 },
    ]);

    const short = await refusal(report(table({ rows: [["行政许可", 90]] })));
    expect(brief(short.issues)).toEqual([
      { rule: "table-row-width", path: "/blocks/0/rows/0", expected: 3, actual: 2 },
    ]);

    const columns = await refusal(report(table({ columns: [{ align: "left" }, { format: "number" }] })));
    expect(brief(columns.issues)).toEqual([
      { rule: "table-columns", path: "/blocks/0/columns", expected: 3, actual: 2 },
    ]);
  });

  it("a pie with several series or a negative slice", async () => {
    const e = await refusal(
      report(
        chart({
          kind: "pie",
          series: [
            { name: "a", data: [1, -2, 3] },
            { name: "b", data: [1, 2, 3] },
          ],
        }),
      ),
    );
    expect(brief(e.issues)).toEqual([
      { rule: "chart-pie-series", path: "/blocks/0/series", expected: 1, actual: 2 },
      { rule: "chart-pie-negative", path: "/blocks/0/series/0/data/1", expected: undefined, actual: -2 },
    ]);
  });

  it("the shape of the data: required fields, wrong types, extra keys", async () => {
    const e = await refusal({
      template: "report",
      data: {
        blocks: [{ type: "paragraph" }, { type: "list", items: [] }, { type: "table", rows: [["a"]], extra: 1 }],
        toc: "yes",
      },
    });
    expect(e.issues.map((i) => i.path).sort()).toEqual(
      ["/title", "/toc", "/blocks/0/text", "/blocks/1/items", "/blocks/2/extra"].sort(),
    );
  });
});

describe("the running header's CSS string", () => {
  it("escapes everything but ASCII letters and digits", () => {
    expect(cssString('Q3 "报告" </style>')).toBe(
      '"Q3\\000020\\000022\\0062a5\\00544a\\000022\\000020\\00003c\\00002fstyle\\00003e"',
    );
    expect(cssString("a\nb\\c")).toBe('"a\\000020b\\00005cc"');
  });
});
