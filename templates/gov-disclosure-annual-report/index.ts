import { defineTemplate } from "../../functions/core/kit.ts";
import type { GovReportData } from "./data.ts";
import { govReportRules } from "./rules.ts";
import { defaultTitle, govReportView } from "./view.ts";

/** 政府信息公开工作年度报告 (docs/contracts/gov-disclosure-annual-report.md), set after GB/T 9704-2012. */
export default defineTemplate<GovReportData>({
  id: "gov-disclosure-annual-report",
  title: "政府信息公开工作年度报告",
  // GB/T 9704-2012: A4, 天头 37 mm, 订口 28 mm (left on odd pages), 26 mm outer, 35 mm foot.
  page: {
    size: "A4",
    orientation: "portrait",
    margin: { top: "37mm", right: "26mm", bottom: "35mm", left: "28mm" },
    mirrorMargins: true,
  },
  rules: govReportRules,
  view: govReportView,
  metadata: (data) => ({
    title: `${data.agency}${defaultTitle(data)}`,
    author: data.agency,
    subject: `${data.year} 年政府信息公开工作年度报告`,
    keywords: ["政府信息公开", "年度报告", String(data.year), data.agency],
    lang: "zh-CN",
  }),
  filename: (data) => `${data.agency}-${data.year}-政府信息公开工作年度报告.pdf`,
});
