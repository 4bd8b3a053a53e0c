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

// POST /v1/jobs → 202; the request goes into the input bucket, s3rver's event drives the upload
// handler (as S3 → SQS → Lambda would), and GET /v1/jobs/{id} reads the state it keeps in S3.
let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

interface JobBody {
  jobId: string;
  status: "queued" | "rendering" | "done" | "failed";
  url?: string;
  pages?: number;
  errors?: { rule: string; path: string }[];
  error?: string;
}

async function pollUntilFinished(statusUrl: string): Promise<{ response: Response; body: JobBody; seen: Set<string> }> {
  const seen = new Set<string>();
  return waitFor(async () => {
    const response = await fetch(statusUrl);
    const body = (await response.json()) as JobBody;
    seen.add(body.status);
    return body.status === "done" || body.status === "failed" ? { response, body, seen } : undefined;
  });
}

describe("jobs", () => {
  it("POST /v1/jobs → 202 { jobId, statusUrl }; polling reaches done with a URL that downloads the PDF", async () => {
    const response = await postJson(`${service.url}/v1/jobs`, exampleText);
    expect(response.status).toBe(202);
    const created = (await response.json()) as { jobId: string; statusUrl: string; status: string };
    expect(created.status).toBe("queued");
    expect(created.statusUrl).toBe(`${service.url}/v1/jobs/${created.jobId}`);
    expect(response.headers.get("location")).toBe(created.statusUrl);

    const { response: final, body } = await pollUntilFinished(created.statusUrl);
    expect(final.status).toBe(200);
    const errors = service.logs.filter((l) => l.level === "ERROR");
    expect(body, JSON.stringify({ body, errors })).toMatchObject({
      jobId: created.jobId,
      status: "done",
      pages: expect.any(Number),
    });
    const pdf = await bytesOf(await fetch(String(body.url)));
    expect((await pageTexts(pdf)).length).toBe(body.pages);
    expect(squash((await pageTexts(pdf)).join(""))).toContain(EXAMPLE_AGENCY);

    // The state is in S3 and nowhere else.
    const state = await service.storage.get(service.config.outputBucket, `jobs/${created.jobId}/status.json`);
    expect(state.found).toBe(true);
  });

  it("an ended job's request, which may hold its passwords, is erased; its state and PDF stay", async () => {
    const envelope = example();
    envelope.options = { pdf: { encrypt: { userPassword: "open sesame 7" } } };
    const response = await postJson(`${service.url}/v1/jobs`, envelope);
    expect(response.status).toBe(202);
    const { jobId, statusUrl } = (await response.json()) as { jobId: string; statusUrl: string };
    const { body } = await pollUntilFinished(statusUrl);
    expect(body.status).toBe("done");

    const request = `jobs/${jobId}.json`;
    await waitFor(async () => ((await service.storage.head(service.config.inputBucket, request)) ? undefined : true));
    expect((await service.storage.get(service.config.inputBucket, request)).found).toBe(false);
    expect(await service.storage.list(service.config.inputBucket, request)).toEqual([]);
    expect(service.logs.some((l) => l.message === "job.request_erased" && l.jobId === jobId)).toBe(true);
    // Nothing the service keeps says the password.
    const kept = await service.storage.list(service.config.outputBucket, `jobs/${jobId}/`);
    expect(kept.map((o) => o.key.slice(`jobs/${jobId}/`.length).replace(/.*\.pdf$/, "<pdf>")).sort()).toEqual([
      "<pdf>",
      "status.json",
    ]);
    for (const o of kept) {
      const got = await service.storage.get(service.config.outputBucket, o.key);
      if (!got.found || !("body" in got)) throw new Error(`${o.key} could not be read`);
      expect(got.body.includes("open sesame 7")).toBe(false);
    }
    expect((await fetch(statusUrl)).status).toBe(200);
  });

  it("a job whose data is invalid is refused at once with 422 and the errors by path", async () => {
    const envelope = example();
    envelope.data.year = 1999;
    const response = await postJson(`${service.url}/v1/jobs`, envelope);
    expect(response.status).toBe(422);
    const body = (await response.json()) as JobBody;
    expect(body.error).toBe("invalid_data");
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/year" })]));
  });

  it("a job that fails while rendering (a limit) ends failed, with the reason", async () => {
    const limited = await startTestService({ maxPages: 2 });
    try {
      const response = await postJson(`${limited.url}/v1/jobs`, exampleText);
      expect(response.status).toBe(202);
      const { statusUrl } = (await response.json()) as { statusUrl: string };
      const { body } = await pollUntilFinished(statusUrl);
      expect(body.status).toBe("failed");
      expect(body.errors?.[0]?.rule).toMatch(/pages/);
      expect(body.url).toBeUndefined();
      // A failed job ended too: its request is erased.
      const { jobId } = body;
      await waitFor(async () =>
        (await limited.storage.head(limited.config.inputBucket, `jobs/${jobId}.json`)) ? undefined : true,
      );
    } finally {
      await limited.stop();
    }
  });

  it("refuses at once what cannot become a job: 400, 404 with known templates, 413", async () => {
    expect((await postJson(`${service.url}/v1/jobs`, "not json")).status).toBe(400);
    const unknown = await postJson(`${service.url}/v1/jobs`, { template: "nope", data: {} });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { templates: string[] }).templates).toContain("gov-disclosure-annual-report");
    const large = await postJson(`${service.url}/v1/jobs`, { ...example(), pad: "x".repeat(5 * 1024 * 1024 + 1) });
    expect(large.status).toBe(413);
  });

  it("GET /v1/jobs/{id} is 404 for an unknown or malformed id", async () => {
    expect((await fetch(`${service.url}/v1/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await fetch(`${service.url}/v1/jobs/..%2F..%2Fetc`)).status).toBe(404);
  });
});

describe("templates", () => {
  it("GET /v1/templates lists ids, titles and JSON Schemas", async () => {
    const response = await fetch(`${service.url}/v1/templates`);
    expect(response.status).toBe(200);
    const { templates } = (await response.json()) as {
      templates: { id: string; title: string; schema: { type: string } }[];
    };
    const gov = templates.find((t) => t.id === "gov-disclosure-annual-report");
    expect(gov?.title).toBe("政府信息公开工作年度报告");
    expect(gov?.schema.type).toBe("object");
  });

  it("GET /v1/templates/{id}/example returns an envelope that renders", async () => {
    const response = await fetch(`${service.url}/v1/templates/gov-disclosure-annual-report/example`);
    expect(response.status).toBe(200);
    const envelope = (await response.json()) as { template: string };
    expect(envelope.template).toBe("gov-disclosure-annual-report");
    const rendered = await postJson(`${service.url}/v1/render`, envelope, { accept: "application/json" });
    expect(rendered.status).toBe(200);
  });

  it("GET /v1/templates/{id}/example is 404 for an unknown template, listing the known ones", async () => {
    const response = await fetch(`${service.url}/v1/templates/nope/example`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { templates: string[] }).templates).toContain("gov-disclosure-annual-report");
  });
});

describe("health", () => {
  it("GET /health → ok, version, browser state and storage with the local endpoint", async () => {
    const response = await fetch(`${service.url}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      status: "ok",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      browser: expect.stringMatching(/^(up|down)$/),
      storage: {
        inputBucket: service.config.inputBucket,
        outputBucket: service.config.outputBucket,
        endpoint: service.s3Endpoint,
      },
    });
    // After a render this instance has its Chromium.
    await postJson(`${service.url}/v1/render`, exampleText);
    expect(((await (await fetch(`${service.url}/health`)).json()) as { browser: string }).browser).toBe("up");
  });
});
