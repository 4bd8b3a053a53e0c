import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpHandler } from "../../functions/http/handler.ts";
import { createLogger } from "../../functions/service/log.ts";
import { lambdaInvocation } from "../../functions/service/lambda-invocation.ts";
import { ENV, loadConfig } from "../../functions/service/settings.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { bytesOf, exampleText, postJson, startTestService, type TestService } from "../helpers/local-service.ts";
import { pageTexts } from "../helpers/pdf.ts";

// What an operator sees: Powertools' structured log lines, the EMF metrics CloudWatch makes metrics
// of (parsed here as CloudWatch parses them), and the request id on every answer and its log lines.
let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

const emfOf = (lines: Record<string, unknown>[]) => lines.filter((l): l is Emf => "_aws" in l);

/** Each value of metric `name` (EMF holds one value or an array) with the dimensions it was written under. */
function values(
  lines: Record<string, unknown>[],
  name: string,
): { value: number; dimensions: Record<string, unknown> }[] {
  return emfOf(lines).flatMap((emf) => {
    const [directive] = emf._aws.CloudWatchMetrics;
    if (!directive?.Metrics.some((m) => m.Name === name)) return [];
    const dimensions = Object.fromEntries((directive.Dimensions[0] ?? []).map((d) => [d, emf[d]]));
    const raw = emf[name];
    return (Array.isArray(raw) ? raw : [raw]).map((value) => ({ value: Number(value), dimensions }));
  });
}

describe("EMF metrics", () => {
  it("a render: each step, the whole, its pages and bytes and one Rendered, in namespace ReportRender, dimension service only besides step", async () => {
    const before = service.logs.length;
    const response = await postJson(`${service.url}/v1/render`, exampleText, { accept: "application/pdf" });
    expect(response.status).toBe(200);
    const pdf = await bytesOf(response);
    const pages = (await pageTexts(pdf)).length;
    const lines = service.logs.slice(before);

    for (const emf of emfOf(lines)) {
      const [directive] = emf._aws.CloudWatchMetrics;
      expect(directive?.Namespace).toBe("ReportRender");
      expect(emf.service).toBe("report-render");
      expect(Math.abs(emf._aws.Timestamp - Date.now())).toBeLessThan(60_000);
      // One dimension set: service, and at most one of the metric's own.
      expect(directive?.Dimensions).toHaveLength(1);
      expect(directive?.Dimensions[0]?.[0]).toBe("service");
      expect(directive?.Dimensions[0]?.length).toBeLessThanOrEqual(2);
    }
    const steps = values(lines, "RenderStepDuration");
    expect(steps.map((s) => s.dimensions).sort((a, b) => String(a.step).localeCompare(String(b.step)))).toEqual(
      ["chromium", "finalize", "template", "validate"].map((step) => ({ service: "report-render", step })),
    );
    for (const step of steps) expect(step.value).toBeGreaterThanOrEqual(0);
    const chromium = steps.find((s) => s.dimensions.step === "chromium")?.value ?? 0;
    const [total] = values(lines, "RenderDuration");
    expect(total?.value).toBeGreaterThan(chromium);
    expect(total?.dimensions).toEqual({ service: "report-render" });
    expect(values(lines, "Pages").map((v) => v.value)).toEqual([pages]);
    expect(pages).toBe(Number(response.headers.get("x-report-pages")));
    expect(values(lines, "PdfBytes").map((v) => v.value)).toEqual([pdf.byteLength]);
    expect(values(lines, "Rendered").map((v) => v.value)).toEqual([1]);
    const units = Object.fromEntries(
      emfOf(lines).flatMap((emf) => emf._aws.CloudWatchMetrics[0]?.Metrics.map((m) => [m.Name, m.Unit]) ?? []),
    );
    expect(units).toEqual({
      RenderStepDuration: "Milliseconds",
      RenderDuration: "Milliseconds",
      Pages: "Count",
      PdfBytes: "Bytes",
      Rendered: "Count",
    });
  });

  it("a stored PDF adds the storage step; refusals count by code, and no render is counted for them", async () => {
    const before = service.logs.length;
    const stored = await postJson(`${service.url}/v1/render`, exampleText, { accept: "application/json" });
    expect(stored.status).toBe(200);
    expect((await postJson(`${service.url}/v1/render`, "{not json")).status).toBe(400);
    expect((await postJson(`${service.url}/v1/render`, { template: "no-such-template", data: {} })).status).toBe(404);
    const lines = service.logs.slice(before);
    const storage = values(lines, "RenderStepDuration").filter((s) => s.dimensions.step === "storage");
    expect(storage).toHaveLength(1);
    expect(storage[0]?.value).toBeGreaterThan(0);
    expect(values(lines, "Rendered")).toHaveLength(1);
    expect(values(lines, "Refused").map((v) => [v.dimensions.code, v.value])).toEqual(
      expect.arrayContaining([
        ["invalid_json", 1],
        ["unknown_template", 1],
      ]),
    );
    expect(values(lines, "Failed")).toEqual([]);
  });

  it("uploads: the queue age, each line of a batch by outcome, refused lines by code", async () => {
    const before = service.logs.length;
    const good = JSON.stringify({
      template: "report",
      data: { title: "metrics", lang: "en", blocks: [{ type: "heading", level: 1, text: "metrics" }] },
    });
    const batch = [good, "{not json", JSON.stringify({ template: "report", data: { title: 1 } })].join("\n");
    const uploadedAt = Date.now();
    await service.storage.put(service.config.inputBucket, "incoming/metrics/batch.jsonl", batch, {
      contentType: "application/x-ndjson",
    });
    await service.uploadsIdle();
    const waited = Date.now() - uploadedAt;
    const lines = service.logs.slice(before);
    const ages = values(lines, "UploadQueueAge");
    expect(ages.length).toBeGreaterThan(0);
    for (const age of ages) {
      expect(age.dimensions).toEqual({ service: "report-render" });
      expect(age.value).toBeGreaterThanOrEqual(0);
      expect(age.value).toBeLessThanOrEqual(waited + 1000); // S3 event times are whole milliseconds
    }
    const outcomes = Object.fromEntries(values(lines, "BatchLines").map((v) => [v.dimensions.outcome, v.value]));
    expect(outcomes).toEqual({ rendered: 1, refused: 2 });
    expect(values(lines, "Refused").map((v) => v.dimensions.code)).toEqual(
      expect.arrayContaining(["invalid_json", "invalid_data"]),
    );
  });
});

describe("x-request-id on every answer of the local server, and in every error body", () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it("the web page, health, 404, 405, OPTIONS, 406, 415 and the adapter's own 421", async () => {
    const seen = new Set<string>();
    const cases: [string, RequestInit, number][] = [
      ["/", {}, 200],
      ["/health", {}, 200],
      ["/no/such/path", {}, 404],
      ["/v1/render", {}, 405],
      ["/v1/render", { method: "OPTIONS" }, 405],
      ["/v1/render", { method: "POST", body: "{}", headers: { "content-type": "text/plain" } }, 415],
      [
        "/v1/render",
        { method: "POST", body: "{}", headers: { "content-type": "application/json", accept: "image/png" } },
        406,
      ],
    ];
    for (const [path, init, status] of cases) {
      const before = service.logs.length;
      const response = await fetch(`${service.url}${path}`, init);
      const what = `${init.method ?? "GET"} ${path}`;
      expect(response.status, what).toBe(status);
      const id = response.headers.get("x-request-id") ?? "";
      expect(id, what).toMatch(uuid);
      seen.add(id);
      const text = await response.text();
      if (status >= 400) expect(JSON.parse(text), what).toMatchObject({ error: expect.any(String), requestId: id });
      // The request's log line has the same id.
      const logged = service.logs.slice(before).filter((l) => l.message === "http.request");
      expect(
        logged.map((l) => l.requestId),
        what,
      ).toEqual([id]);
    }
    expect(seen.size).toBe(cases.length);

    const { rawRequest } = await import("../helpers/http-raw.ts");
    const misdirected = await rawRequest(service.url, { path: "/health", headers: { host: "evil.example" } });
    expect(misdirected.status).toBe(421);
    expect(String(misdirected.headers["x-request-id"])).toMatch(uuid);
    expect(JSON.parse(misdirected.body)).toMatchObject({ requestId: misdirected.headers["x-request-id"] });
    const logged = service.logs.find((l) => l.requestId === misdirected.headers["x-request-id"]);
    expect(logged).toMatchObject({ message: "local.http_refused", status: 421 });
  });

  it("413 from the adapter (over API Gateway's 10 MB), with the id in its header and body", async () => {
    const { rawRequest } = await import("../helpers/http-raw.ts");
    const url = new URL(service.url);
    const response = await rawRequest(service.url, {
      method: "POST",
      path: "/v1/render",
      headers: { host: url.host, "content-type": "application/json" },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    }).catch(() => undefined);
    // The adapter answers before reading the rest and closes the connection; the client may see a reset.
    if (response) {
      expect(response.status).toBe(413);
      const id = String(response.headers["x-request-id"]);
      expect(id).toMatch(uuid);
      expect(JSON.parse(response.body)).toEqual({ message: "Request Entity Too Large", requestId: id });
    }
    expect(service.logs.some((l) => l.message === "local.http_refused" && l.status === 413)).toBe(true);
  });
});

describe("Lambda context on every log line of an invocation", () => {
  it("function_request_id, function_name, cold_start (true on the first invocation only, children too), ColdStart once", async () => {
    const lines: Record<string, unknown>[] = [];
    // Lambda sets it for an instance started on demand; Powertools reads it when a logger is made.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = "on-demand";
    const log = createLogger("debug", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const lambda = service.newService(service.config, log);
    const http = createHttpHandler(lambda);
    const handler = lambdaInvocation(lambda, (event: Parameters<typeof http>[0]) => http(event));
    const context = (awsRequestId: string) =>
      ({
        awsRequestId,
        functionName: "ReportRender-HttpFunction",
        functionVersion: "$LATEST",
        invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:ReportRender-HttpFunction",
        memoryLimitInMB: "2048",
        getRemainingTimeInMillis: () => 30_000,
      }) as unknown as Context;

    // Each request's lines come from a child logger, itself new: it must not claim a cold start of its own.
    const first = await handler(httpEvent("GET", "/no/such/path"), context("invocation-1"));
    const second = await handler(httpEvent("GET", "/health"), context("invocation-2"));
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    expect([first.statusCode, second.statusCode]).toEqual([404, 200]);

    const requests = lines.filter((l) => l.message === "http.request");
    expect(requests.map((l) => [l.function_request_id, l.cold_start, l.status])).toEqual([
      ["invocation-1", true, 404],
      ["invocation-2", false, 200],
    ]);
    for (const line of requests) {
      expect(line).toMatchObject({
        level: "INFO",
        service: "report-render",
        function_name: "ReportRender-HttpFunction",
        function_memory_size: "2048",
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:ReportRender-HttpFunction",
        requestId: expect.any(String),
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    }
    expect(values(lines, "ColdStart")).toEqual([
      { value: 1, dimensions: { service: "report-render", function_name: "ReportRender-HttpFunction" } },
    ]);
    expect(values(lines, "Refused")).toEqual([]); // a 404 of no route is no refused report
  });

  it("errors keep their name, message and stack", () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger("info", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    log.child({ requestId: "r-1" }).error("http.failed", { error: new RangeError("out of range") });
    expect(lines).toEqual([
      expect.objectContaining({
        level: "ERROR",
        message: "http.failed",
        requestId: "r-1",
        error: expect.objectContaining({
          name: "RangeError",
          message: "out of range",
          stack: expect.stringContaining("RangeError: out of range"),
        }),
      }),
    ]);
  });

  it("LOG_LEVEL silent writes nothing, metric lines neither; pretty is one readable line", () => {
    const silent: string[] = [];
    const quiet = createLogger("silent", (line) => silent.push(line));
    quiet.error("x", { error: new Error("e") });
    quiet.writeMetrics({ _aws: { Timestamp: 0, CloudWatchMetrics: [] } });
    expect(silent).toEqual([]);

    const pretty: string[] = [];
    createLogger("info", (line) => pretty.push(line), { format: "pretty" })
      .child({ requestId: "r-2" })
      .info("http.request", { status: 200, path: "/v1/render" });
    expect(pretty).toHaveLength(1);
    expect(pretty[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}http\.request requestId=r-2 status=200 path=\/v1\/render$/,
    );
  });
});

describe("the settings", () => {
  it("default to the names the dashboard is built from; a value that is not one stops start-up with its name", () => {
    expect(loadConfig({})).toMatchObject({
      serviceName: "report-render",
      metricsNamespace: "ReportRender",
      metricsEnabled: true,
      traceEnabled: true,
      logFormat: undefined,
    });
    expect(loadConfig({ [ENV.logFormat]: "PRETTY", [ENV.metricsDisabled]: "true" })).toMatchObject({
      logFormat: "pretty",
      metricsEnabled: false,
    });
    for (const [name, value] of [
      [ENV.logFormat, "fancy"],
      [ENV.logFormat, "json\n"],
      [ENV.metricsDisabled, "maybe"],
      [ENV.traceEnabled, "sometimes"],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(name);
    }
  });

  it("POWERTOOLS_METRICS_DISABLED=true: a render writes no metric line", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger("info", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const quiet = service.newService({ ...service.config, metricsEnabled: false }, log);
    const result = await createHttpHandler(quiet)(httpEvent("POST", "/v1/render", { body: "{not json" }));
    expect(result.statusCode).toBe(400);
    expect(lines.some((l) => l.message === "http.request")).toBe(true);
    expect(emfOf(lines)).toEqual([]);
  });
});
