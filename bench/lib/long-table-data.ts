/** The long-table report shared by bench/render/long-table.ts and test/templates/report/long-table.test.ts. */

const LONG_TABLE_KINDS = ["行政许可", "公共服务", "行政确认", "其他行政权力"];

/** Row i (0-based) of the long table, as given in the input. */
export function longTableRow(i: number): [string, string, string, number, number, number] {
  return [
    `R${String(i + 1).padStart(5, "0")}`,
    i % 7 === 3 ? `第 ${i + 1} 项：跨部门联办事项，需要多个部门协同审核并出具意见后方可办结` : `第 ${i + 1} 项事项`,
    LONG_TABLE_KINDS[i % LONG_TABLE_KINDS.length] ?? "",
    (i * 37) % 1000,
    ((i * 7919) % 100000) / 100,
    ((i * 13) % 100) / 100,
  ];
}

/** A report whose body is one table of `rows` rows: a two-row header, some cells that wrap. */
export function longTableEnvelope(rows: number) {
  return {
    template: "report",
    data: {
      title: `长表格测试（${rows} 行）`,
      lang: "zh-CN",
      blocks: [
        { type: "heading", level: 1, text: "明细表" },
        {
          type: "table",
          caption: `表 1　办件明细（${rows} 行）`,
          columns: [
            { align: "center" },
            { align: "left" },
            { align: "left" },
            { format: "number" },
            { format: "number", decimals: 2 },
            { format: "percent", decimals: 1 },
          ],
          header: [
            [
              { text: "序号", rowspan: 2 },
              { text: "事项", colspan: 2 },
              { text: "办理情况", colspan: 3 },
            ],
            ["名称", "类别", "件数", "金额（万元）", "按期率"],
          ],
          rows: Array.from({ length: rows }, (_, i) => longTableRow(i)),
        },
      ],
    },
  };
}
