import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError, LimitError } from "../../functions/core/errors.ts";
import { formatProblem, writeZip } from "../../functions/packages/index.ts";
import { describeFailure } from "../../functions/service/failure.ts";
import { TemplateRefused } from "../../functions/service/template-store.ts";
import { postJson, startTestService, type TestService } from "../helpers/local-service.ts";
import { baseFiles, hostileZip, text } from "../helpers/package-zips.ts";

// Every refusal is under 64 KB whatever the input quotes: names of 65 KB in a zip, a template id or
// a JSON key of megabytes, hundreds of problems that each quote one. What is quoted is shortened
// with "…", and errors past what fits are counted in `truncated`.
let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

const REFUSAL_BYTES = 64 * 1024;

interface Refusal {
  error: string;
  message: string;
  errors: { path: string; rule: string; message: string; actual?: unknown; expected?: unknown }[];
  truncated?: number;
  requestId?: string;
}

/** The answer's status and body, which must be a refusal under 64 KB. */
async function refusal(response: Response): Promise<{ status: number; body: Refusal }> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(bytes.byteLength).toBeLessThan(REFUSAL_BYTES);
  const body = JSON.parse(Buffer.from(bytes).toString("utf8")) as Refusal;
  expect(body.requestId).toBe(response.headers.get("x-request-id"));
  return { status: response.status, body };
}

const sendZip = (method: string, path: string, zip: Uint8Array) =>
  fetch(`${service.url}${path}`, { method, headers: { "content-type": "application/zip" }, body: Buffer.from(zip) });

const reportData = (extra: Record<string, unknown> = {}) => ({
  title: "大小",
  lang: "zh-CN",
  blocks: [{ type: "heading", level: 1, text: "大小" }],
  ...extra,
});

describe("template packages", () => {
  // 70 names of 65 KB: a 4.6 MB answer before names were shortened.
  const longNames = hostileZip(
    Array.from({ length: 70 }, (_, i) => ({ name: `assets/${i}`.padEnd(65_000, "n"), data: text("x") })),
  );

  for (const [method, path] of [
    ["PUT", "/v1/templates/hostile"],
    ["POST", "/v1/templates/check"],
  ] as const) {
    it(`${method} ${path}: 70 names of 65 KB → 422 under 64 KB, every one listed, shortened`, async () => {
      const { status, body } = await refusal(await sendZip(method, path, longNames));
      expect(status).toBe(422);
      expect(body.error).toBe("invalid_template");
      expect(body.errors).toHaveLength(70);
      expect(body.truncated).toBeUndefined();
      const listed = body.errors.map((error) => {
        expect(error.rule).toBe("path-unsafe");
        expect(error.path.length).toBeLessThanOrEqual(200);
        return Number(/^assets\/(\d+)n+…n+$/.exec(error.path)?.[1]);
      });
      expect(listed.sort((a, b) => a - b)).toEqual(Array.from({ length: 70 }, (_, i) => i));
    });
  }

  it("900 unknown helpers with names of 5 KB → 422 under 64 KB; the errors that fit, the rest counted", async () => {
    const names = Array.from({ length: 900 }, (_, i) => `h${i}${"x".repeat(5000)}`);
    const zip = writeZip(baseFiles({ "template.hbs": names.map((n) => `{{${n} title}}`).join("\n") }));
    const { status, body } = await refusal(await sendZip("POST", "/v1/templates/check", zip));
    expect(status).toBe(422);
    expect(body.message).toMatch(/^the template package has 900 problems: template\.hbs:1: unknown helper "h0x+…/);
    expect(body.errors.length).toBeGreaterThan(10);
    expect(body.errors.length + (body.truncated ?? 0)).toBe(900);
    expect(body.errors.map((e) => e.rule)).toEqual(body.errors.map(() => "unknown-helper"));
  });
});

describe("reports", () => {
  it("a template id of 4 MB → 400 under 64 KB, the id quoted shortened", async () => {
    const response = await postJson(`${service.url}/v1/render`, { template: "t".repeat(4_000_000), data: {} });
    const { status, body } = await refusal(response);
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_envelope");
    const quoted = body.errors.find((e) => e.path === "/template")?.actual;
    expect(quoted).toMatch(/^t{100}…t{99}$/);
  });

  it("a key of 1 MB in the data → 422 under 64 KB, its path shortened", async () => {
    const data = reportData({ ["k".repeat(1_000_000)]: 1 });
    const { status, body } = await refusal(await postJson(`${service.url}/v1/render`, { template: "report", data }));
    expect(status).toBe(422);
    expect(body.error).toBe("invalid_data");
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]?.path).toMatch(/^\/k+…k+$/);
    expect(body.message.length).toBeLessThanOrEqual(1000);
  });

  it("100 keys of 40 KB → 422 under 64 KB; each error listed or counted", async () => {
    const keys = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${i}`.padEnd(40_000, "k"), 1]));
    const response = await postJson(`${service.url}/v1/render`, { template: "report", data: reportData(keys) });
    const { status, body } = await refusal(response);
    expect(status).toBe(422);
    expect(body.errors.length).toBeGreaterThan(0);
    expect(body.errors.length + (body.truncated ?? 0)).toBe(100);
    expect(body.message).toContain("(100 errors)");
  });

  it("POST /v1/jobs refuses the same under 64 KB before queuing anything", async () => {
    const data = reportData({ ["k".repeat(1_000_000)]: 1 });
    const { status, body } = await refusal(await postJson(`${service.url}/v1/jobs`, { template: "report", data }));
    expect(status).toBe(422);
    expect(body.errors[0]?.path).toMatch(/^\/k+…k+$/);
  });

  it("a file name of 1 MB → 400 under 64 KB", async () => {
    const envelope = { template: "report", data: reportData(), options: { filename: `${"f".repeat(1_000_000)}.pdf` } };
    const { status, body } = await refusal(await postJson(`${service.url}/v1/render`, envelope));
    expect(status).toBe(400);
    expect(body.errors[0]?.path).toBe("/options/filename");
    expect(String(body.errors[0]?.actual).length).toBeLessThanOrEqual(200);
  });
});

describe("the refusals other doors store (error files, job states, batch summaries)", () => {
  // 100 KB a value: 500 times what an error may quote (a megabyte each made this test a garbage
  // collector's benchmark on a busy machine, 43 s, and proves no more).
  const BIG = "m".repeat(100_000);

  it("are as small, whatever their errors quote", () => {
    const issues = Array.from({ length: 150 }, (_, i) => ({
      rule: "schema",
      path: `/data/${i}${BIG}`,
      message: `is not allowed here ${BIG}`,
      expected: { big: BIG },
      actual: BIG,
    }));
    const failures = [
      describeFailure(new InputError("invalid_data", issues)),
      describeFailure(new LimitError("jsonDepth", `too deep at ${BIG}`, `/data/${BIG}`)),
      describeFailure(new TemplateRefused(issues.map((i) => ({ file: i.path, rule: "x", message: i.message })))),
    ];
    for (const failure of failures) {
      expect(failure).toBeDefined();
      expect(Buffer.byteLength(JSON.stringify(failure?.body))).toBeLessThan(REFUSAL_BYTES);
      expect(failure?.body.errors.length).toBeGreaterThan(0);
    }
    const [data] = failures;
    expect((data?.body.errors.length ?? 0) + (data?.body.truncated ?? 0)).toBe(150);
    // A value too large to quote is left out; a text is shortened.
    expect(data?.body.errors[0]?.expected).toBeUndefined();
    expect(data?.body.errors[0]?.actual).toMatch(/^m+…m+$/);
  });

  it("the CLI's lines too: a problem's message of 100 KB is one line of at most about a thousand characters", () => {
    const line = formatProblem({ file: "template.hbs", line: 1, column: 1, rule: "unknown-helper", message: BIG });
    expect(line.length).toBeLessThan(1100);
    expect(line).toMatch(/^template\.hbs:1:1: m+…m+ \[unknown-helper\]$/);
  });
});
