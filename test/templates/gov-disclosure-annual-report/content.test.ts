import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport, closeRenderer } from "../../helpers/render.ts";
import type { RenderResult } from "../../../functions/core/types.ts";
import { example } from "../../helpers/examples.ts";
import { cellText, numbersAfter, pageTexts, squash, textLines, type TextLine } from "../../helpers/pdf.ts";

type Prose = { paragraphs?: string[]; subsections?: { heading: string; paragraphs?: string[] }[] };

const SECTION_HEADINGS = [
  "一、总体情况",
  "二、主动公开政府信息情况",
  "三、收到和处理政府信息公开申请情况",
  "四、政府信息公开行政复议、行政诉讼情况",
  "五、存在的主要问题及改进情况",
  "六、其他需要报告的事项",
];

// Written out from the contract (not imported from the template), so a wrong label fails here.
const APPLICATION_LABELS = [
  "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
  "申请人情况",
  "自然人",
  "法人或其他组织",
  "商业企业",
  "科研机构",
  "社会公益组织",
  "法律服务机构",
  "其他",
  "总计",
  "一、本年新收政府信息公开申请数量",
  "二、上年结转政府信息公开申请数量",
  "三、本年度办理结果",
  "（一）予以公开",
  "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
  "（三）不予公开",
  "1.属于国家秘密",
  "2.其他法律行政法规禁止公开",
  "3.危及“三安全一稳定”",
  "4.保护第三方合法权益",
  "5.属于三类内部事务信息",
  "6.属于四类过程性信息",
  "7.属于行政执法案卷",
  "8.属于行政查询事项",
  "（四）无法提供",
  "1.本机关不掌握相关政府信息",
  "2.没有现成信息需要另行制作",
  "3.补正后申请内容仍不明确",
  "（五）不予处理",
  "1.信访举报投诉类申请",
  "2.重复申请",
  "3.要求提供公开出版物",
  "4.无正当理由大量反复申请",
  "5.要求行政机关确认或重新出具已获取信息",
  "（六）其他处理",
  "（七）总计",
  "四、结转下年度继续办理",
];
const REVIEW_LABELS = [
  "行政复议",
  "行政诉讼",
  "未经复议直接起诉",
  "复议后起诉",
  "结果维持",
  "结果纠正",
  "其他结果",
  "尚未审结",
  "总计",
];

function proseTexts(p: Prose): string[] {
  return [...(p.paragraphs ?? []), ...(p.subsections ?? []).flatMap((s) => [s.heading, ...(s.paragraphs ?? [])])];
}

afterAll(closeRenderer);

describe("the 2019-format example (湛河区交通运输局 2020)", () => {
  const envelope = example<Record<string, Prose> & { agency: string }>("zhanhe-transport-2020.json");
  let result: RenderResult;
  let text: string;
  let lines: TextLine[];
  beforeAll(async () => {
    result = await renderReport(envelope);
    // Page numbers (— n —) come first in each page's text; drop them so paragraphs read across pages.
    text = squash((await pageTexts(result.pdf)).join("")).replace(/—\d+—/g, "");
    lines = await textLines(result.pdf);
  });

  it("prints the title block and every paragraph of the input", () => {
    expect(text).toContain("湛河区交通运输局");
    expect(text).toContain(squash("2020 年政府信息公开工作年度报告"));
    const prose = ["overview", "problemsAndImprovements", "otherMatters"].flatMap((k) =>
      proseTexts(envelope.data[k] ?? {}),
    );
    expect(prose.length).toBeGreaterThan(10);
    for (const paragraph of prose) expect(text).toContain(squash(paragraph));
  });

  it("prints the six official section headings in order", () => {
    const at = SECTION_HEADINGS.map((h) => text.indexOf(h));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("prints every row and column label of the three tables (2019 format)", () => {
    const proactive = [
      "第二十条第（一）项",
      "第二十条第（五）项",
      "第二十条第（六）项",
      "第二十条第（八）项",
      "第二十条第（九）项",
      "信息内容",
      "本年新制作数量",
      "本年新公开数量",
      "对外公开总数量",
      "规章",
      "规范性文件",
      "上一年项目数量",
      "本年增/减",
      "处理决定数量",
      "行政许可",
      "其他对外管理服务事项",
      "行政处罚",
      "行政强制",
      "行政事业性收费",
      "采购项目数量",
      "采购总金额",
      "政府集中采购",
    ];
    for (const label of [...proactive, ...APPLICATION_LABELS, ...REVIEW_LABELS]) {
      expect(squash(cellText(lines, label) ?? ""), label).toContain(squash(label));
    }
  });

  it("prints the numbers of section 二 in their rows, zero as 0", () => {
    expect(numbersAfter(lines, "行政许可")).toEqual(["34", "44", "90"]);
    expect(numbersAfter(lines, "政府集中采购")).toEqual(["3", "8"]);
    expect(squash(lines.find((l) => l.text.includes("政府集中采购"))?.text ?? "")).toContain("8万元");
    expect(numbersAfter(lines, "行政强制")).toEqual(["0", "0", "0"]);
    expect(numbersAfter(lines, "一、本年新收政府信息公开申请数量")).toEqual(Array(7).fill("0"));
  });

  it("carries document metadata, an outline of the sections and page numbers", async () => {
    const { openPdf } = await import("../../helpers/pdf.ts");
    const doc = await openPdf(result.pdf);
    const { info } = (await doc.getMetadata()) as unknown as { info: Record<string, string> };
    expect(info.Title).toBe("湛河区交通运输局2020 年政府信息公开工作年度报告");
    expect(info.Author).toBe("湛河区交通运输局");
    expect(info.Subject).toContain("政府信息公开工作年度报告");
    expect(info.Keywords).toContain("政府信息公开");
    expect(info.Producer).toMatch(/^report-render \d/);
    expect(info.Language).toBe("zh-CN");
    const titles: string[] = [];
    const walk = (items: { title: string; items: unknown[] }[] | null) =>
      items?.forEach((i) => {
        titles.push(i.title);
        walk(i.items as never);
      });
    walk(await doc.getOutline());
    for (const h of SECTION_HEADINGS) expect(titles).toContain(h);
    expect(titles).toContain("（一）加强政府信息公开制度和能力建设");
    await doc.destroy();
    const pages = await pageTexts(result.pdf);
    pages.forEach((page, i) => {
      expect(squash(page)).toContain(`—${i + 1}—`);
    });
  });
});

describe("a 2021-format report with nonzero counts", () => {
  let lines: TextLine[];
  let text: string;
  beforeAll(async () => {
    const result = await renderReport(example("gov-disclosure-2021-sample.json"));
    lines = await textLines(result.pdf);
    text = squash(lines.map((l) => l.text).join(""));
  });

  it("uses the 2021 table labels and no 2019-only ones", () => {
    for (const label of [
      "本年制发件数",
      "本年废止件数",
      "现行有效件数",
      "行政规范性文件",
      "本年处理决定数量",
      "本年收费金额（单位：万元）",
      "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
      "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
      "3.其他",
    ]) {
      expect(squash(cellText(lines, label) ?? ""), label).toContain(squash(label));
    }
    for (const gone of ["第二十条第（九）项", "其他对外管理服务事项", "本年新制作数量"])
      expect(text).not.toContain(gone);
  });

  it("puts every number in its row", () => {
    expect(numbersAfter(lines, "规章")).toEqual(["2", "1", "15"]);
    expect(numbersAfter(lines, "行政规范性文件")).toEqual(["7", "3", "42"]);
    expect(numbersAfter(lines, "行政许可")).toEqual(["1268"]);
    expect(numbersAfter(lines, "行政处罚")).toEqual(["356"]);
    expect(numbersAfter(lines, "行政强制")).toEqual(["12"]);
    expect(numbersAfter(lines, "行政事业性收费")).toEqual(["38.6"]);
    expect(numbersAfter(lines, "一、本年新收政府信息公开申请数量")).toEqual(["25", "6", "1", "2", "3", "1", "38"]);
    expect(numbersAfter(lines, "二、上年结转政府信息公开申请数量")).toEqual(["3", "1", "0", "0", "0", "1", "5"]);
    expect(numbersAfter(lines, "（一）予以公开")).toEqual(["12", "3", "1", "1", "1", "1", "19"]);
    expect(numbersAfter(lines, "4.保护第三方合法权益")).toEqual(["1", "1", "0", "0", "0", "0", "2"]);
    expect(numbersAfter(lines, "1.本机关不掌握相关政府信息")).toEqual(["4", "1", "0", "1", "1", "0", "7"]);
    expect(numbersAfter(lines, "3.补正后申请内容仍不明确")).toEqual(["0", "0", "0", "0", "0", "1", "1"]);
    expect(numbersAfter(lines, "2.重复申请")).toEqual(["1", "0", "0", "0", "0", "0", "1"]);
    expect(numbersAfter(lines, "（七）总计")).toEqual(["26", "6", "1", "2", "3", "2", "40"]);
    expect(numbersAfter(lines, "四、结转下年度继续办理")).toEqual(["2", "1", "0", "0", "0", "0", "3"]);
  });

  it("prints the 15 numbers of section 四 in the order of the form", () => {
    const row = lines.find((l) => l.items.filter((i) => /^\d+$/.test(i.str.trim())).length === 15);
    expect(row?.items.map((i) => i.str.trim())).toEqual([
      "2",
      "1",
      "0",
      "1",
      "4",
      "1",
      "0",
      "1",
      "0",
      "2",
      "1",
      "0",
      "0",
      "1",
      "2",
    ]);
  });
});
