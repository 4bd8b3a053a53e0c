/**
 * npx tsx bench/render/package.ts — what a published template costs against a built-in one: the warm path
 * (renderer.render, JSON text in → PDF bytes out, after warm-up) of the example package
 * examples/packages/payment-notice (its example.json: 2 pages, one 联 a page, each with a letterhead
 * and SVG emblem, the parties' and the items' tables with totals and 大写, a QR code, remarks, a running
 * header and 第 X 页 共 Y 页 in margin boxes) ÷ the built-in `report` template on the closest input it
 * takes: the same notice written as `report` blocks (builtInEnvelope below, also 2 pages with the same
 * tables, images, texts, running header and page numbers). No shipped example is close: the `report`
 * showcase and the gov examples are 4–7 pages of charts and long tables.
 * Both are registered with one renderer, as the service registers packages beside the built-in
 * templates; runs interleaved, each notice with its own number and payment URL; the median of each
 * (goal: packageRatio ≤ 1.2). The last line is one JSON object for bench/bench.ts:
 * { packageRatio, packageMs, builtInMs }.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { builtInTemplates } from "../../templates/index.ts";
import { createRenderer } from "../../functions/core/render.ts";
import { createTemplateFence, readPackageDir } from "../../functions/packages/index.ts";
import { loadQrCodes, qrSvg } from "../../functions/packages/qr-svg.ts";
import { chromiumLocator } from "../../functions/service/chromium.ts";
import { backgroundLimits } from "../../functions/service/service.ts";
import { loadConfig } from "../../functions/service/settings.ts";
import { producer } from "../../functions/service/version.ts";
import { median } from "../lib/stats.ts";

const RUNS = Number(process.env.PACKAGE_RUNS ?? 31);
const WARM_UP = 5;
const dir = "examples/packages/payment-notice";

const config = loadConfig();
const fence = createTemplateFence();
const checked = await fence.check(await readPackageDir(dir));
if (!checked.ok) throw new Error(`${dir} does not pass its checks: ${JSON.stringify(checked.problems)}`);
const templatePackage = checked.package;
// builtInRenderer's options, with the package registered beside the built-in templates.
const renderer = createRenderer({
  templates: [...builtInTemplates(config.runtimeRoot), templatePackage.source],
  packagesRoot: config.runtimeRoot,
  producer,
  concurrency: config.renderConcurrency,
  browsers: config.renderBrowsers,
  browserEnvironment: config.browserEnvironment,
  chromium: chromiumLocator(config),
});
const limits = backgroundLimits(config);

interface Notice {
  agency: { name: string; englishName: string; code: string };
  noticeNo: string;
  issueDate: string;
  dueDate: string;
  payer: { name: string; idType: string; idNumber: string; phone: string };
  payee: { name: string; account: string; bank: string };
  items: { code: string; name: string; unit: string; quantity: number; price: number; amount: number }[];
  paymentUrl: string;
  remarks: string[];
  copies: string[];
  handler: string;
}
await loadQrCodes();
const notice = JSON.parse(readFileSync(join(dir, "example.json"), "utf8")) as Notice;
const emblem = `data:image/svg+xml;base64,${readFileSync(join(dir, "assets/emblem.svg")).toString("base64")}`;

/**
 * The same notice as blocks of the built-in `report` template, element for element where `report` has
 * one: the emblem and the QR code (drawn by the package's own qrSvg, as a client would send it) as SVG
 * images, the agency as text, the title and 联 as a heading, the notice number and date, the parties
 * (with their rowspans) and the items (with their totals rows) as tables, the due date and the
 * signatures as paragraphs, the remarks as a list; one page per 联. Dates and 大写 come written, as
 * `report` has no helpers for them.
 */
function builtInEnvelope(n: Notice) {
  const cnDate = (date: string) =>
    date.replace(/^(\d{4})-(\d{2})-(\d{2})$/, (_, y, m, d) => `${y}年${Number(m)}月${Number(d)}日`);
  const total = n.items.reduce((s, i) => s + i.amount, 0);
  const qr = `data:image/svg+xml;base64,${Buffer.from(qrSvg(n.paymentUrl, { size: "30mm", margin: 2, level: "M" })).toString("base64")}`;
  const agency = `${n.agency.name}　${n.agency.englishName}`;
  // The first 联 has the agency in the title block (report's subtitle), the others in a paragraph.
  const copy = (label: string, i: number) => [
    ...(i > 0 ? [{ type: "pageBreak" }] : []),
    { type: "image", src: emblem, alt: "", width: "12mm" },
    ...(i > 0 ? [{ type: "paragraph", text: agency }] : []),
    { type: "heading", level: 2, text: `非税收入缴款通知书　${label}` },
    { type: "table", rows: [["通知书编号", n.noticeNo, "填制日期", cnDate(n.issueDate)]] },
    {
      type: "table",
      rows: [
        [{ text: "缴款人", rowspan: 3 }, "全称", n.payer.name, { text: "收款人", rowspan: 3 }, "全称", n.payee.name],
        [n.payer.idType, n.payer.idNumber, "账号", n.payee.account],
        ["联系电话", n.payer.phone, "开户银行", n.payee.bank],
      ],
    },
    {
      type: "table",
      columns: [
        { align: "center" },
        { align: "left" },
        { align: "left" },
        { align: "center" },
        { format: "number" },
        { format: "number", decimals: 2 },
        { format: "number", decimals: 2 },
      ],
      header: [["序号", "项目编码", "收费项目名称", "单位", "数量", "收缴标准（元）", "金额（元）"]],
      rows: [
        ...n.items.map((i, k) => [String(k + 1), i.code, i.name, i.unit, i.quantity, i.price, i.amount]),
        [{ text: "合计（小写）", colspan: 6, align: "right" }, total],
        [
          { text: "金额（大写）", colspan: 2 },
          { text: "人民币壹万贰仟叁佰肆拾伍元陆角", colspan: 5 },
        ],
      ],
    },
    { type: "image", src: qr, alt: "扫码缴款", width: "24mm" },
    { type: "paragraph", text: `扫码缴款：请于 ${cnDate(n.dueDate)} 前缴清上列款项。` },
    { type: "list", ordered: true, items: n.remarks },
    { type: "paragraph", text: `执收单位（盖章）　　经办人：${n.handler}　　执收单位编码：${n.agency.code}` },
  ];
  return {
    template: "report",
    data: {
      title: "非税收入缴款通知书",
      subtitle: agency,
      lang: "zh-CN",
      blocks: n.copies.flatMap(copy),
    },
  };
}

/**
 * Run i's two inputs: the notice with its own number and payment URL, as each notice a portal sends
 * is (so the package's QR code is encoded in every run, as in service; the built-in input carries its
 * QR code already drawn, as a client would send it).
 */
function inputs(i: number): { packageText: string; builtInText: string } {
  const noticeNo = `NT-2026-${String(123 + i).padStart(6, "0")}`;
  const data = { ...notice, noticeNo, paymentUrl: `https://pay.example.cn/notice/${noticeNo}` };
  return {
    packageText: JSON.stringify({ template: templatePackage.manifest.id, data }),
    builtInText: JSON.stringify(builtInEnvelope(data)),
  };
}

async function timed(text: string): Promise<{ ms: number; pages: number }> {
  const started = performance.now();
  const result = await renderer.render(text, { limits });
  return { ms: performance.now() - started, pages: result.pages };
}

// Warm-up: Chromium, fonts, both templates compiled, the QR library loaded.
let pages = { package: 0, builtIn: 0 };
for (let i = 0; i < WARM_UP; i++) {
  const { packageText, builtInText } = inputs(RUNS + i);
  pages = { package: (await timed(packageText)).pages, builtIn: (await timed(builtInText)).pages };
}

const packageRuns: number[] = [];
const builtInRuns: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const { packageText, builtInText } = inputs(i);
  // Alternate which goes first, so that neither always follows the other's teardown.
  if (i % 2 === 0) {
    packageRuns.push((await timed(packageText)).ms);
    builtInRuns.push((await timed(builtInText)).ms);
  } else {
    builtInRuns.push((await timed(builtInText)).ms);
    packageRuns.push((await timed(packageText)).ms);
  }
}
await renderer.close();

const packageMs = Math.round(median(packageRuns) * 10) / 10;
const builtInMs = Math.round(median(builtInRuns) * 10) / 10;
const packageRatio = Math.round((median(packageRuns) / median(builtInRuns)) * 100) / 100;
console.log(
  `payment-notice package ${packageMs} ms (${pages.package} pages), built-in report ${builtInMs} ms (${pages.builtIn} pages): ${packageRatio} × (median of ${RUNS}, interleaved; goal ≤ 1.2)`,
);
console.log(JSON.stringify({ packageRatio, packageMs, builtInMs }));
