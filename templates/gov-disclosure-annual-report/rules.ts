import { escapePointer, type Issue } from "../../functions/core/kit.ts";
import {
  APPLICANT_COLUMNS,
  SEVEN_COLUMNS,
  cell,
  resultComponents,
  sumOfResults,
  type GovReportData,
  type RowOfSeven,
} from "./data.ts";

/**
 * The invariants of the contract, checked before rendering. Arithmetic (I1–I4) needs data of the
 * right shape, so it runs only once the schema passed; I5 looks at every number it can find.
 */
export function govReportRules(data: GovReportData, schemaValid: boolean): Issue[] {
  const issues = nonNegativeIntegers(data);
  if (!schemaValid) return issues;
  const apps = data.applications;
  const rows = namedRows(data);
  for (const [path, row] of rows) issues.push(...rowTotal(path, row));
  for (const column of SEVEN_COLUMNS) {
    const sum = sumOfResults(apps.results, data.formatVersion, column);
    const resultsTotal = apps.results.total ? cell(apps.results.total, column) : sum;
    if (apps.results.total && resultsTotal !== sum) {
      issues.push({
        rule: "I2",
        path: `/applications/results/total/${column}`,
        message: "（七）总计 must equal the sum of every result row above it",
        expected: sum,
        actual: resultsTotal,
      });
    }
    const incoming = cell(apps.received, column) + cell(apps.carriedOver, column);
    const carried = cell(apps.carriedForward, column);
    if (incoming !== resultsTotal + carried) {
      issues.push({
        rule: "I1",
        path: `/applications/carriedForward/${column}`,
        message: `第一项加第二项之和 (${incoming}) must equal 第三项加第四项之和 (${resultsTotal} + ${carried})`,
        expected: incoming - resultsTotal,
        actual: carried,
      });
    }
  }
  for (const [group, g] of Object.entries(data.reviewAndLitigation)) {
    const sum = g.upheld + g.corrected + g.other + g.pending;
    if (sum !== g.total) {
      issues.push({
        rule: "I4",
        path: `/reviewAndLitigation/${group}/total`,
        message: "总计 must equal 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
        expected: sum,
        actual: g.total,
      });
    }
  }
  return issues;
}

/** I3: a row's total, where given, is the sum of its six columns. */
function rowTotal(path: string, row: RowOfSeven): Issue[] {
  if (row.total === undefined) return [];
  const sum = APPLICANT_COLUMNS.reduce((s, c) => s + row[c], 0);
  if (sum === row.total) return [];
  return [
    {
      rule: "I3",
      path: `${path}/total`,
      message: "总计 must equal the sum of the other six columns",
      expected: sum,
      actual: row.total,
    },
  ];
}

function namedRows(data: GovReportData): [string, RowOfSeven][] {
  const apps = data.applications;
  const rows: [string, RowOfSeven][] = [
    ["/applications/received", apps.received],
    ["/applications/carriedOver", apps.carriedOver],
  ];
  for (const [path, row] of resultComponents(apps.results, data.formatVersion)) {
    if (row) rows.push([`/applications/results/${path}`, row]);
  }
  if (apps.results.total) rows.push(["/applications/results/total", apps.results.total]);
  rows.push(["/applications/carriedForward", apps.carriedForward]);
  return rows;
}

// Keys whose numbers follow other rules: 本年增/减 may be negative; money may have decimals.
const SIGNED = new Set(["change"]);
const MONEY = new Set(["totalAmount", "amount"]);

/** I5: every count is a non-negative integer (except `change` and money amounts). */
function nonNegativeIntegers(data: GovReportData): Issue[] {
  const issues: Issue[] = [];
  const visit = (value: unknown, path: string, key: string) => {
    if (typeof value === "number") {
      const problem = MONEY.has(key)
        ? value < 0 && "a money amount cannot be negative"
        : SIGNED.has(key)
          ? !Number.isInteger(value) && "本年增/减 must be a whole number"
          : (!Number.isInteger(value) || value < 0) && "a count must be a non-negative integer";
      if (problem) issues.push({ rule: "I5", path, message: problem, actual: value });
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) visit(v, `${path}/${escapePointer(k)}`, k);
    }
  };
  const sections = ["proactiveDisclosure", "applications", "reviewAndLitigation"] as const;
  for (const section of sections) visit((data as unknown as Record<string, unknown>)[section], `/${section}`, section);
  return issues;
}
