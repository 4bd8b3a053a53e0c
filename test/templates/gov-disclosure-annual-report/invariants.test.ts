import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../../functions/core/errors.ts";
import { renderReport, closeRenderer } from "../../helpers/render.ts";
import type { Issue } from "../../../functions/core/types.ts";
import { example } from "../../helpers/examples.ts";

// The 2021 sample satisfies I1–I5 with nonzero counts; each case breaks exactly one thing.
type Data = Record<string, any>; // test fixtures are edited freely

async function refusal(edit: (data: Data) => void): Promise<Issue[]> {
  const envelope = example<Data>("gov-disclosure-2021-sample.json");
  edit(envelope.data);
  const error = await renderReport(envelope).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).code).toBe("invalid_data");
  return (error as InputError).issues;
}

afterAll(closeRenderer);

describe("the invariants of the contract", () => {
  it("I1: received + carried over = results total + carried forward, per column", async () => {
    const issues = await refusal((d) => {
      d.applications.carriedForward.naturalPerson = 3;
      d.applications.carriedForward.total = 4;
    });
    expect(issues).toContainEqual(
      expect.objectContaining({
        rule: "I1",
        path: "/applications/carriedForward/naturalPerson",
        expected: 2,
        actual: 3,
      }),
    );
    expect(issues).toContainEqual(expect.objectContaining({ rule: "I1", path: "/applications/carriedForward/total" }));
    expect(issues.every((i) => i.rule === "I1")).toBe(true);
  });

  it("I2: results total = the sum of every result row (2021 其他处理 sub-rows included)", async () => {
    const issues = await refusal((d) => {
      d.applications.results.otherHandling.unpaidFees.legalServiceAgency = 1;
      d.applications.results.otherHandling.unpaidFees.total = 1;
    });
    expect(issues).toContainEqual(
      expect.objectContaining({
        rule: "I2",
        path: "/applications/results/total/legalServiceAgency",
        expected: 4,
        actual: 3,
      }),
    );
  });

  it("I3: a row's total is the sum of its six columns", async () => {
    const issues = await refusal((d) => {
      d.applications.received.total = 39;
    });
    expect(issues).toContainEqual(
      expect.objectContaining({ rule: "I3", path: "/applications/received/total", expected: 38, actual: 39 }),
    );
  });

  it("I4: review and litigation outcomes add up to their total", async () => {
    const issues = await refusal((d) => {
      d.reviewAndLitigation.litigationAfterReview.total = 3;
    });
    expect(issues).toEqual([
      expect.objectContaining({
        rule: "I4",
        path: "/reviewAndLitigation/litigationAfterReview/total",
        expected: 2,
        actual: 3,
      }),
    ]);
  });

  it("I5: counts are non-negative integers; money may be decimal", async () => {
    const issues = await refusal((d) => {
      d.proactiveDisclosure.administrativeLicensing.decisions = -1;
      d.reviewAndLitigation.review.pending = 0.5;
      d.proactiveDisclosure.administrativeFees.amount = 38.65; // fine: money
    });
    expect(issues).toContainEqual(
      expect.objectContaining({
        rule: "I5",
        path: "/proactiveDisclosure/administrativeLicensing/decisions",
        actual: -1,
      }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({ rule: "I5", path: "/reviewAndLitigation/review/pending", actual: 0.5 }),
    );
    expect(issues.some((i) => i.path.includes("administrativeFees"))).toBe(false);
  });

  it("reports every failure at once, schema and invariants together", async () => {
    const issues = await refusal((d) => {
      delete d.agency;
      d.formatVersion = "2021";
      d.applications.received.total = 1;
      d.reviewAndLitigation.review.total = 9;
      d.proactiveDisclosure.rules.unknownField = 1;
    });
    const byRule = issues.map((i) => `${i.rule} ${i.path}`);
    expect(byRule).toContain("schema /agency");
    expect(byRule).toContain("schema /proactiveDisclosure/rules/unknownField");
    // Arithmetic runs once the shape is right; I5 runs regardless.
    expect(issues.every((i) => ["schema", "I5"].includes(i.rule))).toBe(true);
  });

  it("refuses a 2019-only field in a 2021 report, by path", async () => {
    const issues = await refusal((d) => {
      d.proactiveDisclosure.centralizedProcurement = { projects: 1, totalAmount: 2, amountUnit: "万元" };
    });
    expect(issues).toContainEqual(
      expect.objectContaining({ rule: "schema", path: "/proactiveDisclosure/centralizedProcurement" }),
    );
  });

  it('renders anyway with validation "warn" and returns the failures as warnings', async () => {
    const envelope = example<Data>("gov-disclosure-2021-sample.json");
    envelope.data.applications.received.total = 39;
    envelope.options = { validation: "warn" };
    const result = await renderReport(envelope);
    expect(result.pages).toBeGreaterThan(0);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({ rule: "I3", path: "/applications/received/total" }),
    );
  });

  it("computes an omitted row total and checks the rest against it", async () => {
    const envelope = example<Data>("gov-disclosure-2021-sample.json");
    delete envelope.data.applications.received.total;
    delete envelope.data.applications.results.total;
    const result = await renderReport(envelope);
    expect(result.warnings).toEqual([]);
  });
});
