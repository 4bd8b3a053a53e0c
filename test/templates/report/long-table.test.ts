import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { longTableEnvelope, longTableRow } from "../../../bench/lib/long-table-data.ts";
import { renderReport, closeRenderer } from "../../helpers/render.ts";
import type { RenderResult } from "../../../functions/core/types.ts";
import { pageCount, pageTexts, squash, textLines } from "../../helpers/pdf.ts";
import { withoutRunningText } from "../../helpers/report.ts";

// The one 2,000-row render of the test suite (bench/render/long-table.ts times it).
const ROWS = 2000;
const envelope = longTableEnvelope(ROWS);
const HEADER = squash("序号事项办理情况名称类别件数金额（万元）按期率");

/** A row as the PDF shows it: its cells in order, numbers as the columns format them. */
function rowText(i: number): string {
  const [id, name, kind, count, amount, rate] = longTableRow(i);
  const grouped = new Intl.NumberFormat("zh-CN");
  const money = new Intl.NumberFormat("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const percent = new Intl.NumberFormat("zh-CN", {
    style: "percent",
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  return squash(`${id}${name}${kind}${grouped.format(count)}${money.format(amount)}${percent.format(rate)}`);
}

let result: RenderResult;
let pages: string[];
beforeAll(async () => {
  result = await renderReport(envelope);
  pages = (await pageTexts(result.pdf)).map((t) => withoutRunningText(t, envelope.data.title));
}, 180_000);
afterAll(closeRenderer);

describe(`a ${ROWS}-row table`, () => {
  it("renders completely: every row, in order, the last one included", async () => {
    expect(result.pages).toBe(await pageCount(result.pdf));
    expect(result.pages).toBeGreaterThan(40);
    const ids = pages.flatMap((p) => p.match(/R\d{5}/g) ?? []);
    expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => longTableRow(i)[0]));
    expect(pages.at(-1)).toContain(rowText(ROWS - 1));
  });

  it("repeats the header rows at the top of every page the table runs onto", () => {
    const first = pages[0] ?? "";
    expect(first.startsWith(squash(`${envelope.data.title}明细表表 1　办件明细（${ROWS} 行）${HEADER}R00001`))).toBe(
      true,
    );
    pages.slice(1).forEach((text, i) => {
      expect(text.startsWith(HEADER), `page ${i + 2} starts with ${text.slice(0, 40)}`).toBe(true);
    });
  });

  it("puts the header rows above the first row of each page, below nothing but the running header", async () => {
    const lines = await textLines(result.pdf);
    for (let page = 2; page <= result.pages; page++) {
      const onPage = lines.filter((l) => l.page === page).map((l) => squash(l.text));
      expect(onPage[0]).toBe(squash(envelope.data.title)); // the running header
      // Two header rows, plus 序号 centred across both (pdf.js reads it as a line of its own).
      expect(onPage.slice(1, 4).sort(), `page ${page}`).toEqual(
        ["事项办理情况", "名称类别件数金额（万元）按期率", "序号"].sort(),
      );
    }
  });

  it("never splits a row: each row's whole text is on one page", () => {
    const cut: number[] = [];
    let page = 0;
    for (let i = 0; i < ROWS; i++) {
      const id = longTableRow(i)[0];
      while (page < pages.length && !pages[page]?.includes(id)) page++;
      if (!pages[page]?.includes(rowText(i))) cut.push(i + 1);
    }
    expect(cut).toEqual([]);
  });
});
