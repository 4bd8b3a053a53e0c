import {
  NOT_DISCLOSED,
  NOT_PROCESSED,
  OTHER_HANDLING_2021,
  SEVEN_COLUMNS,
  UNABLE_TO_PROVIDE,
  cell,
  sumOfResults,
  type GovReportData,
  type Prose,
  type RowOfSeven,
} from "./data.ts";

/** A table cell as the partial prints it; `kind` picks the CSS (label, number, header, caption). */
export interface Cell {
  text: string;
  colspan: number;
  rowspan: number;
  kind: "head" | "caption" | "label" | "num";
  /** Printed as <th> (headers, captions, row labels) rather than <td>. */
  header: boolean;
  /** A header's scope, which the tagged PDF keeps (TH /Scope): column heads and captions, row labels. */
  scope: "col" | "row" | null;
}
export interface TableView {
  className: string;
  columns: number[];
  head: Cell[][];
  /** Each body is kept on one page when it fits (tbody break-inside: avoid). */
  bodies: { keepTogether: boolean; rows: Cell[][] }[];
}
// Handlebars runs in strict mode, so every key the template reads is present (null when unused).
type ProseView = { paragraphs: string[]; subsections: { heading: string; paragraphs: string[] }[] };
type SectionView = { heading: string; prose: ProseView | null; table: TableView | null };

function prose(p: Prose): ProseView {
  return {
    paragraphs: p.paragraphs ?? [],
    subsections: (p.subsections ?? []).map((s) => ({ heading: s.heading, paragraphs: s.paragraphs ?? [] })),
  };
}

export function defaultTitle(data: GovReportData): string {
  return data.title ?? `${data.year} 年政府信息公开工作年度报告`;
}

export function govReportView(data: GovReportData) {
  const sections: SectionView[] = [
    { heading: "一、总体情况", prose: prose(data.overview), table: null },
    { heading: "二、主动公开政府信息情况", prose: null, table: proactiveTable(data) },
    { heading: "三、收到和处理政府信息公开申请情况", prose: null, table: applicationsTable(data) },
    { heading: "四、政府信息公开行政复议、行政诉讼情况", prose: null, table: reviewTable(data) },
    { heading: "五、存在的主要问题及改进情况", prose: prose(data.problemsAndImprovements), table: null },
    { heading: "六、其他需要报告的事项", prose: prose(data.otherMatters), table: null },
  ];
  return { agency: data.agency, title: defaultTitle(data), sections };
}

/** Numbers as the form prints them: 0 is "0", never blank; decimals as given. */
function n(value: unknown): Cell {
  return {
    text: typeof value === "number" ? String(value) : "0",
    colspan: 1,
    rowspan: 1,
    kind: "num",
    header: false,
    scope: null,
  };
}
const head = (text: string, colspan = 1, rowspan = 1): Cell => ({
  text,
  colspan,
  rowspan,
  kind: "head",
  header: true,
  scope: "col",
});
const label = (text: string, colspan = 1, rowspan = 1): Cell => ({
  text,
  colspan,
  rowspan,
  kind: "label",
  header: true,
  scope: "row",
});

// ── 二、主动公开政府信息情况 ────────────────────────────────────────────────────────────────

interface DisclosureBlock {
  caption: string;
  columns: [key: string, label: string][];
  rows: [key: string, label: string][];
}

const BLOCKS_2019: DisclosureBlock[] = [
  {
    caption: "第二十条第（一）项",
    columns: [
      ["newlyMade", "本年新制作数量"],
      ["newlyPublished", "本年新公开数量"],
      ["totalPublished", "对外公开总数量"],
    ],
    rows: [
      ["rules", "规章"],
      ["normativeDocuments", "规范性文件"],
    ],
  },
  {
    caption: "第二十条第（五）项",
    columns: [
      ["previousYear", "上一年项目数量"],
      ["change", "本年增/减"],
      ["decisions", "处理决定数量"],
    ],
    rows: [
      ["administrativeLicensing", "行政许可"],
      ["otherManagementServices", "其他对外管理服务事项"],
    ],
  },
  {
    caption: "第二十条第（六）项",
    columns: [
      ["previousYear", "上一年项目数量"],
      ["change", "本年增/减"],
      ["decisions", "处理决定数量"],
    ],
    rows: [
      ["administrativePenalty", "行政处罚"],
      ["administrativeCoercion", "行政强制"],
    ],
  },
  {
    caption: "第二十条第（八）项",
    columns: [
      ["previousYear", "上一年项目数量"],
      ["change", "本年增/减"],
    ],
    rows: [["administrativeFees", "行政事业性收费"]],
  },
  {
    caption: "第二十条第（九）项",
    columns: [
      ["projects", "采购项目数量"],
      ["totalAmount", "采购总金额"],
    ],
    rows: [["centralizedProcurement", "政府集中采购"]],
  },
];

const BLOCKS_2021: DisclosureBlock[] = [
  {
    caption: "第二十条第（一）项",
    columns: [
      ["issued", "本年制发件数"],
      ["repealed", "本年废止件数"],
      ["inForce", "现行有效件数"],
    ],
    rows: [
      ["rules", "规章"],
      ["normativeDocuments", "行政规范性文件"],
    ],
  },
  {
    caption: "第二十条第（五）项",
    columns: [["decisions", "本年处理决定数量"]],
    rows: [["administrativeLicensing", "行政许可"]],
  },
  {
    caption: "第二十条第（六）项",
    columns: [["decisions", "本年处理决定数量"]],
    rows: [
      ["administrativePenalty", "行政处罚"],
      ["administrativeCoercion", "行政强制"],
    ],
  },
  {
    caption: "第二十条第（八）项",
    columns: [["amount", "本年收费金额（单位：万元）"]],
    rows: [["administrativeFees", "行政事业性收费"]],
  },
];

function proactiveTable(data: GovReportData): TableView {
  const blocks = data.formatVersion === "2019" ? BLOCKS_2019 : BLOCKS_2021;
  const grid = 4; // 信息内容 + up to three value columns; fewer values span the rest
  return {
    className: "proactive",
    columns: [31, 23, 23, 23],
    head: [],
    bodies: blocks.map((block) => {
      const span = (i: number) => (i === block.columns.length - 1 ? grid - block.columns.length : 1);
      const rows: Cell[][] = [
        [{ text: block.caption, colspan: grid, rowspan: 1, kind: "caption", header: true, scope: "col" }],
        [head("信息内容"), ...block.columns.map(([, text], i) => head(text, span(i)))],
      ];
      for (const [key, text] of block.rows) {
        const values = data.proactiveDisclosure[key] ?? {};
        rows.push([
          label(text),
          ...block.columns.map(([column], i) => {
            const value = values[column];
            const unit = column === "totalAmount" ? values.amountUnit : undefined;
            const c = n(value);
            if (typeof unit === "string") c.text = `${c.text} ${unit}`;
            return { ...c, colspan: span(i) };
          }),
        ]);
      }
      return { keepTogether: true, rows };
    }),
  };
}

// ── 三、收到和处理政府信息公开申请情况 ─────────────────────────────────────────────────────

function applicationsTable(data: GovReportData): TableView {
  const apps = data.applications;
  const seven = (row: RowOfSeven | undefined): Cell[] => SEVEN_COLUMNS.map((c) => n(cell(row, c)));
  const results = apps.results;
  const resultsTotal =
    results.total ??
    (Object.fromEntries(SEVEN_COLUMNS.map((c) => [c, sumOfResults(results, data.formatVersion, c)])) as RowOfSeven);

  const resultRows: Cell[][] = [
    [label("（一）予以公开", 2), ...seven(results.disclosed)],
    [label("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", 2), ...seven(results.partiallyDisclosed)],
  ];
  const group = (title: string, items: readonly (readonly [string, string])[], rows: Record<string, RowOfSeven>) =>
    items.forEach(([key, text], i) => {
      const cells = [label(text), ...seven(rows[key])];
      resultRows.push(i === 0 ? [label(title, 1, items.length), ...cells] : cells);
    });
  group("（三）不予公开", NOT_DISCLOSED, results.notDisclosed);
  group("（四）无法提供", UNABLE_TO_PROVIDE, results.unableToProvide);
  group("（五）不予处理", NOT_PROCESSED, results.notProcessed);
  if (data.formatVersion === "2021") {
    group("（六）其他处理", OTHER_HANDLING_2021, results.otherHandling as Record<string, RowOfSeven>);
  } else {
    resultRows.push([label("（六）其他处理", 2), ...seven(results.otherHandling as RowOfSeven)]);
  }
  resultRows.push([label("（七）总计", 2), ...seven(resultsTotal)]);
  const first = resultRows[0] ?? [];
  resultRows[0] = [label("三、本年度办理结果", 1, resultRows.length), ...first];

  return {
    className: "applications",
    columns: [6, 8, 30, 8, 8, 8, 8, 8, 8, 8],
    head: [
      [head("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), head("申请人情况", 7)],
      [head("自然人", 1, 2), head("法人或其他组织", 5), head("总计", 1, 2)],
      [head("商业企业"), head("科研机构"), head("社会公益组织"), head("法律服务机构"), head("其他")],
    ],
    bodies: [
      {
        keepTogether: false,
        rows: [
          [label("一、本年新收政府信息公开申请数量", 3), ...seven(apps.received)],
          [label("二、上年结转政府信息公开申请数量", 3), ...seven(apps.carriedOver)],
          ...resultRows,
          [label("四、结转下年度继续办理", 3), ...seven(apps.carriedForward)],
        ],
      },
    ],
  };
}

// ── 四、政府信息公开行政复议、行政诉讼情况 ─────────────────────────────────────────────────

const OUTCOMES = [
  ["upheld", "结果维持"],
  ["corrected", "结果纠正"],
  ["other", "其他结果"],
  ["pending", "尚未审结"],
  ["total", "总计"],
] as const;

function reviewTable(data: GovReportData): TableView {
  const r = data.reviewAndLitigation;
  const outcomes = (rowspan: number) => OUTCOMES.map(([, text]) => head(text, 1, rowspan));
  const values = (g: keyof typeof r) => OUTCOMES.map(([key]) => n(r[g][key]));
  return {
    className: "review",
    columns: Array<number>(15).fill(100 / 15),
    head: [
      [head("行政复议", 5), head("行政诉讼", 10)],
      [...outcomes(2), head("未经复议直接起诉", 5), head("复议后起诉", 5)],
      [...outcomes(1), ...outcomes(1)],
    ],
    bodies: [
      {
        keepTogether: true,
        rows: [[...values("review"), ...values("litigationWithoutReview"), ...values("litigationAfterReview")]],
      },
    ],
  };
}
