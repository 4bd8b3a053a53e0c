/** The `data` of a 政府信息公开工作年度报告, as fixed by docs/contracts/gov-disclosure-annual-report.md. */

export const APPLICANT_COLUMNS = [
  "naturalPerson",
  "commercialEnterprise",
  "researchInstitution",
  "socialWelfareOrganization",
  "legalServiceAgency",
  "other",
] as const;
export type ApplicantColumn = (typeof APPLICANT_COLUMNS)[number];
/** The seven counted columns of section 三, in the form's order. */
export const SEVEN_COLUMNS = [...APPLICANT_COLUMNS, "total"] as const;
export type SevenColumn = (typeof SEVEN_COLUMNS)[number];

export type RowOfSeven = Record<ApplicantColumn, number> & { total?: number };

export interface Prose {
  paragraphs?: string[];
  subsections?: { heading: string; paragraphs?: string[] }[];
}

export interface Results {
  disclosed: RowOfSeven;
  partiallyDisclosed: RowOfSeven;
  notDisclosed: Record<string, RowOfSeven>;
  unableToProvide: Record<string, RowOfSeven>;
  notProcessed: Record<string, RowOfSeven>;
  /** 2019: one row; 2021: { noCorrection, unpaidFees, other }. */
  otherHandling: RowOfSeven | Record<string, RowOfSeven>;
  total?: RowOfSeven;
}

export interface Applications {
  received: RowOfSeven;
  carriedOver: RowOfSeven;
  results: Results;
  carriedForward: RowOfSeven;
}

export interface ReviewGroup {
  upheld: number;
  corrected: number;
  other: number;
  pending: number;
  total: number;
}

export interface GovReportData {
  formatVersion: "2019" | "2021";
  agency: string;
  year: number;
  title?: string;
  overview: Prose;
  proactiveDisclosure: Record<string, Record<string, number | string>>;
  applications: Applications;
  reviewAndLitigation: Record<"review" | "litigationWithoutReview" | "litigationAfterReview", ReviewGroup>;
  problemsAndImprovements: Prose;
  otherMatters: Prose;
}

export const NOT_DISCLOSED = [
  ["stateSecret", "1.属于国家秘密"],
  ["prohibitedByLaw", "2.其他法律行政法规禁止公开"],
  ["threeSecuritiesOneStability", "3.危及“三安全一稳定”"],
  ["thirdPartyRights", "4.保护第三方合法权益"],
  ["internalAffairs", "5.属于三类内部事务信息"],
  ["processInformation", "6.属于四类过程性信息"],
  ["lawEnforcementFiles", "7.属于行政执法案卷"],
  ["administrativeQuery", "8.属于行政查询事项"],
] as const;

export const UNABLE_TO_PROVIDE = [
  ["notHeld", "1.本机关不掌握相关政府信息"],
  ["requiresCreation", "2.没有现成信息需要另行制作"],
  ["unclearAfterCorrection", "3.补正后申请内容仍不明确"],
] as const;

export const NOT_PROCESSED = [
  ["petitionOrComplaint", "1.信访举报投诉类申请"],
  ["duplicate", "2.重复申请"],
  ["publicationRequested", "3.要求提供公开出版物"],
  ["massRepeated", "4.无正当理由大量反复申请"],
  ["confirmationRequested", "5.要求行政机关确认或重新出具已获取信息"],
] as const;

export const OTHER_HANDLING_2021 = [
  ["noCorrection", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"],
  ["unpaidFees", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"],
  ["other", "3.其他"],
] as const;

/** Every sub-row that adds up to results.total (I2), as [path below results, row]. */
export function resultComponents(results: Results, version: "2019" | "2021"): [string, RowOfSeven | undefined][] {
  const rows: [string, RowOfSeven | undefined][] = [
    ["disclosed", results.disclosed],
    ["partiallyDisclosed", results.partiallyDisclosed],
  ];
  for (const [group, keys] of [
    ["notDisclosed", NOT_DISCLOSED],
    ["unableToProvide", UNABLE_TO_PROVIDE],
    ["notProcessed", NOT_PROCESSED],
  ] as const) {
    for (const [key] of keys) rows.push([`${group}/${key}`, results[group]?.[key]]);
  }
  if (version === "2021") {
    const other = results.otherHandling as Record<string, RowOfSeven> | undefined;
    for (const [key] of OTHER_HANDLING_2021) rows.push([`otherHandling/${key}`, other?.[key]]);
  } else {
    rows.push(["otherHandling", results.otherHandling as RowOfSeven | undefined]);
  }
  return rows;
}

/** (七）总计 of one column as the sum of every result row above it (I2's right-hand side). */
export function sumOfResults(results: Results, version: "2019" | "2021", column: SevenColumn): number {
  return resultComponents(results, version).reduce((s, [, row]) => s + cell(row, column), 0);
}

/** A row's total: the given one, or the sum of its six columns when omitted (the contract allows that). */
export function cell(row: RowOfSeven | undefined, column: SevenColumn): number {
  if (!row) return 0;
  if (column !== "total") return num(row[column]);
  return row.total === undefined ? APPLICANT_COLUMNS.reduce((sum, c) => sum + num(row[c]), 0) : num(row.total);
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}
