import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageTexts, squash } from "../helpers/pdf.ts";
import {
  bytesOf,
  example,
  EXAMPLE_AGENCY,
  exampleText,
  postJson,
  startTestService,
  type TestService,
  waitFor,
} from "../helpers/local-service.ts";

// POST /v1/render by real requests to the local server (npm start), real Chromium, real s3rver.
let service: TestService;
let render: string;

beforeAll(async () => {
  service = await startTestService();
  render = `${service.url}/v1/render`;
});
afterAll(() => service?.stop());

const isPdf = (bytes: Uint8Array) => Buffer.from(bytes.subarray(0, 5)).toString("latin1") === "%PDF-";

describe("POST /v1/render, Accept: application/pdf", () => {
  it("returns 200 with the PDF, named by options.filename", async () => {
    const envelope = example();
    envelope.options = { ...envelope.options, filename: "湛河区 2020 年报.pdf" };
    const response = await postJson(render, envelope, { accept: "application/pdf" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/pdf");
    const disposition = response.headers.get("content-disposition") ?? "";
    expect(disposition).toMatch(/^attachment; /);
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent("湛河区 2020 年报.pdf")}`);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");

    const pdf = await bytesOf(response);
    expect(isPdf(pdf)).toBe(true);
    expect(response.headers.get("x-report-pages")).toBe(String((await pageTexts(pdf)).length));
    expect(response.headers.get("x-report-sha256")).toBe(createHash("sha256").update(pdf).digest("hex"));
    expect(squash((await pageTexts(pdf)).join(""))).toContain(EXAMPLE_AGENCY);
  });

  it("answers a client that accepts anything (curl's */*) with the PDF", async () => {
    const response = await postJson(render, exampleText, { accept: "*/*" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/pdf");
  });

  it("refuses an Accept it cannot produce with 406", async () => {
    const response = await postJson(render, exampleText, { accept: "text/html" });
    expect(response.status).toBe(406);
  });
});

describe("POST /v1/render, Accept: application/json", () => {
  it("returns 200 { key, url, pages, bytes, sha256, warnings } and the presigned URL downloads the PDF", async () => {
    const response = await postJson(render, exampleText, { accept: "application/json" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(expect.arrayContaining(["key", "url", "pages", "bytes", "sha256", "warnings"]));
    expect(body.key).toMatch(/^renders\/[0-9a-f]{64}\/.+\.pdf$/);
    expect(body.url).toContain("X-Amz-Signature=");
    expect(body.url).toContain("X-Amz-Expires=900");

    const download = await fetch(String(body.url));
    expect(download.status).toBe(200);
    const pdf = await bytesOf(download);
    expect(pdf.byteLength).toBe(body.bytes);
    expect(createHash("sha256").update(pdf).digest("hex")).toBe(body.sha256);
    expect((await pageTexts(pdf)).length).toBe(body.pages);
    expect(body.warnings).toEqual([]);
  });

  it("returns warnings when options.validation is warn", async () => {
    const envelope = example();
    const applications = envelope.data.applications as Record<string, Record<string, number>>;
    (applications.received as Record<string, number>).naturalPerson = 1; // the row's total no longer adds up
    envelope.options = { ...envelope.options, validation: "warn" };
    const response = await postJson(render, envelope, { accept: "application/json" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { warnings: { rule: string; path: string }[] };
    expect(body.warnings.length).toBeGreaterThan(0);
    expect(body.warnings[0]?.path).toMatch(/^\/applications\//);
  });
});

describe("refusals: never a 500, never a stack trace", () => {
  it("400 for a body that is not JSON", async () => {
    const response = await postJson(render, '{"template": "gov-disclosure-annual-report", ', {
      accept: "application/pdf",
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: string;
      errors: { rule: string; path: string; message: string }[];
    };
    expect(body.error).toBe("invalid_json");
    expect(body.errors[0]).toMatchObject({ rule: "json", path: "" });
    expect(JSON.stringify(body)).not.toMatch(/\bat .+\.ts:\d+/);
  });

  it("400 for JSON that is not an envelope", async () => {
    const response = await postJson(render, { data: {}, extra: 1 }, { accept: "application/json" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; errors: { path: string }[] };
    expect(body.error).toBe("invalid_envelope");
    expect(body.errors.map((e) => e.path)).toEqual(expect.arrayContaining(["/template"]));
  });

  it("404 for an unknown template, listing the known ones", async () => {
    const response = await postJson(render, { template: "no-such-template", data: {} });
    expect(response.status).toBe(404);
    const body = (await response.json()) as {
      error: string;
      templates: string[];
      errors: { path: string; expected: unknown }[];
    };
    expect(body.error).toBe("unknown_template");
    expect(body.templates).toContain("gov-disclosure-annual-report");
    expect(body.errors[0]?.path).toBe("/template");
    expect(body.errors[0]?.expected).toContain("gov-disclosure-annual-report");
  });

  it("422 with the errors by JSON path for data that breaks the schema or the rules", async () => {
    const envelope = example();
    envelope.data.year = "二〇二〇";
    delete envelope.data.agency;
    const response = await postJson(render, envelope, { accept: "application/pdf" });
    expect(response.status).toBe(422);
    const body = (await response.json()) as {
      error: string;
      errors: { rule: string; path: string; message: string }[];
    };
    expect(body.error).toBe("invalid_data");
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: "schema", path: "/agency" }),
        expect.objectContaining({ rule: "schema", path: "/year", actual: "二〇二〇" }),
      ]),
    );
    for (const error of body.errors)
      expect(Object.keys(error)).toEqual(expect.arrayContaining(["rule", "path", "message"]));
  });

  it("413 for a body over the limit (5 MB by default)", async () => {
    const envelope = example();
    const padding = "x".repeat(5 * 1024 * 1024);
    const response = await postJson(render, { ...envelope, padding }, { accept: "application/pdf" });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: string; errors: { rule: string }[] };
    expect(body.error).toBe("body_too_large");
    expect(body.errors[0]?.rule).toBe("limit.bodySize");
  });

  it("404 for an unknown path and 405 for a wrong method, as JSON", async () => {
    const missing = await fetch(`${service.url}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe("not_found");
    const wrong = await fetch(render);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });
});

describe("only JSON bodies: 415 before the body is read", () => {
  const post = (body: string | Uint8Array<ArrayBuffer>, contentType?: string) =>
    fetch(render, { method: "POST", headers: contentType ? { "content-type": contentType } : {}, body });

  it("refuses other media types, a missing one and a charset other than UTF-8", async () => {
    const refused: [string | undefined, string | Uint8Array<ArrayBuffer>][] = [
      ["text/plain", exampleText],
      ["text/plain;charset=UTF-8", exampleText],
      ["application/x-www-form-urlencoded", exampleText],
      ["multipart/form-data; boundary=x", exampleText],
      ["application/jsonx", exampleText],
      ["text/json", exampleText],
      ["application/json; charset=iso-8859-1", exampleText],
      ["application/json, text/plain", exampleText], // a repeated header, joined
      [undefined, new TextEncoder().encode(exampleText)],
      ["text/plain", "{ not even json"], // 415, not 400: the body is never parsed
      ["text/plain", "x".repeat(6 * 1024 * 1024)], // 415, not 413
    ];
    for (const [contentType, body] of refused) {
      const response = await post(body, contentType);
      expect(response.status, String(contentType)).toBe(415);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      const answer = (await response.json()) as { error: string; message: string; errors: unknown[] };
      expect(answer).toEqual({
        error: "unsupported_media_type",
        message: expect.stringContaining("application/json"),
        errors: [],
        requestId: response.headers.get("x-request-id"),
      });
    }
    const line = service.logs.findLast((l) => l.message === "http.request" && l.path === "/v1/render");
    expect(line).toMatchObject({ status: 415, error: "unsupported_media_type" });
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it("takes application/json with parameters and +json types", async () => {
    // A body that is not an envelope: 400 shows the media type was accepted, without rendering.
    for (const contentType of [
      "application/json",
      "Application/JSON",
      "application/json; charset=utf-8",
      'application/json;charset="UTF-8"',
      "application/vnd.report+json",
      "application/merge-patch+json; charset=utf-8",
    ]) {
      const response = await post('{"data":{}}', contentType);
      expect(response.status, contentType).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe("invalid_envelope");
    }
  });
});

describe("a client that goes away", () => {
  it("stops its render: the request is logged 499, not 200, and the service carries on", async () => {
    const before = service.logs.length;
    // Two of the same render: one to completion (Accept: application/json), one whose client hangs up.
    const completed = postJson(render, exampleText, { accept: "application/json" });
    const gone = new AbortController();
    const aborted = fetch(render, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/pdf" },
      body: exampleText,
      signal: gone.signal,
    }).catch((e: unknown) => e);
    setTimeout(() => gone.abort(), 100);
    expect(await aborted).toBeInstanceOf(Error);
    expect((await completed).status).toBe(200);

    const line = await waitFor(async () =>
      service.logs
        .slice(before)
        .find((l) => l.message === "http.request" && l.path === "/v1/render" && l.mode === "application/pdf"),
    );
    expect(line).toMatchObject({ status: 499, aborted: true });
    expect(service.logs.slice(before).filter((l) => l.level === "ERROR")).toEqual([]);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });
});

describe("logs", () => {
  it("writes one structured line per request with the request id, template, size and step durations", async () => {
    const response = await postJson(render, exampleText, { accept: "application/json" });
    const requestId = response.headers.get("x-request-id");
    const line = service.logs.find((l) => l.message === "http.request" && l.requestId === requestId);
    expect(line).toMatchObject({
      level: "INFO",
      method: "POST",
      path: "/v1/render",
      status: 200,
      templateId: "gov-disclosure-annual-report",
      pages: expect.any(Number),
      bytes: expect.any(Number),
    });
    expect(Object.keys(line?.durations as object)).toEqual(
      expect.arrayContaining(["validateMs", "templateMs", "chromiumMs", "finalizeMs", "uploadMs", "totalMs"]),
    );
  });
});

describe("a PDF larger than the response limit", () => {
  let small: TestService;
  beforeAll(async () => {
    // The example's PDF (~340 KB) does not fit a 100 KB response.
    small = await startTestService({ maxResponseBytes: 100_000 });
  });
  afterAll(() => small?.stop());

  it("303 to a presigned URL that downloads the PDF", async () => {
    const response = await postJson(`${small.url}/v1/render`, exampleText, { accept: "application/pdf" });
    expect(response.status).toBe(303);
    const location = response.headers.get("location") ?? "";
    expect(location.startsWith(`${small.s3Endpoint}/${small.config.outputBucket}/renders/`)).toBe(true);
    const download = await fetch(location);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toContain("filename*=UTF-8''");
    const pdf = await bytesOf(download);
    expect(isPdf(pdf)).toBe(true);
    expect(squash((await pageTexts(pdf)).join(""))).toContain(EXAMPLE_AGENCY);
  });
});

describe("limits on pages and render time", () => {
  let paged: TestService;
  let timed: TestService;
  beforeAll(async () => {
    [paged, timed] = await Promise.all([
      startTestService({ maxPages: 2 }),
      startTestService({ syncRenderTimeoutMs: 1 }),
    ]);
  });
  afterAll(async () => {
    await paged?.stop();
    await timed?.stop();
  });

  it("422 page_limit for a report longer than the page limit", async () => {
    const response = await postJson(`${paged.url}/v1/render`, exampleText, { accept: "application/pdf" });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: string; message: string; errors: { rule: string }[] };
    expect(body.error).toBe("page_limit");
    expect(body.message).toMatch(/\b2\b.*limit|limit.*\b2\b/); // names the limit (the core words it)
    expect(body.errors[0]?.rule).toBe("limit.pages");
  });

  it("422 render_timeout for a synchronous render over its time limit, pointing to /v1/jobs", async () => {
    const response = await postJson(`${timed.url}/v1/render`, exampleText, { accept: "application/pdf" });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: string; message: string; errors: { rule: string }[] };
    expect(body.error).toBe("render_timeout");
    expect(body.message).toContain("POST /v1/jobs");
    expect(body.errors[0]?.rule).toBe("limit.renderTime");
  });
});
