import { createHmac, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLBACK_DELIVERY } from "../../../functions/service/callbacks/callback-settings.ts";
import { createLogger } from "../../../functions/service/log.ts";
import { createService } from "../../../functions/service/service.ts";
import { createUploadHandler } from "../../../functions/upload/handler.ts";
import { sqsS3Event } from "../../helpers/lambda-events.ts";
import {
  bytesOf,
  example,
  postJson,
  startTestService,
  type TestService,
  waitFor,
} from "../../helpers/local-service.ts";
import { pageTexts, squash } from "../../helpers/pdf.ts";

// Job callbacks end to end: `npm start` (which generates the signing key into its data folder) sends
// them to a receiver on loopback, listed by its address in the allowed hosts.

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on 127.0.0.1 that keeps what it is sent and answers the statuses queued for a path (then 200). */
function startReceiver(): Promise<{
  server: Server;
  port: number;
  received: Received[];
  answers: Map<string, number[]>;
}> {
  const received: Received[] = [];
  const answers = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(answers.get(path)?.shift() ?? 200).end("thanks");
    });
  });
  return new Promise((done) =>
    server.listen(0, "127.0.0.1", () =>
      done({ server, port: (server.address() as AddressInfo).port, received, answers }),
    ),
  );
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let service: TestService;
/** The secret npm start generated: the service's, never a receiver's. */
let secret: string;
/** The local caller's callback key, as GET /v1/callbacks/key gives it. */
let key: string;

beforeAll(async () => {
  receiver = await startReceiver();
  service = await startTestService({
    // The example (7 pages) fails on this limit; the one-heading report below renders.
    maxPages: 3,
    callback: {
      ...CALLBACK_DELIVERY,
      allowedHosts: [`127.0.0.1:${receiver.port}`, "example.com", "localhost"],
      backoffMs: 20,
    },
  });
  // The secret npm start generated, read from where it says it keeps it.
  expect(service.callbackKeyFile).toMatch(/callback-secret$/);
  secret = (await readFile(String(service.callbackKeyFile), "utf8")).trim();
  const answer = await fetch(`${service.url}/v1/callbacks/key`);
  expect(answer.status).toBe(200);
  key = ((await answer.json()) as { key: string }).key;
});
afterAll(async () => {
  await service?.stop();
  receiver?.server.close();
});

const hook = (path: string) => `http://127.0.0.1:${receiver.port}${path}`;

/** The one-heading report (1 page), with a callback. */
function small(text: string, callback?: unknown): Record<string, unknown> {
  return {
    template: "report",
    data: { title: text, lang: "zh-CN", blocks: [{ type: "heading", level: 1, text }] },
    ...(callback === undefined ? {} : { options: { callback } }),
  };
}

const hmac = (k: string, text: string) => createHmac("sha256", k).update(text).digest("hex");

/** An owner's key as README.md says an operator derives it from the secret. */
const ownerKey = (owner: string) => hmac(secret, `callback-key:${owner}`);

/**
 * The signature checked as README.md tells a receiver to, written out here rather than taken from
 * the service's code: `t=<seconds>,v1=<hex>`, the timestamp recent, HMAC-SHA256 of `<t>.<body>` with
 * the owner's key over the exact bytes received, compared in constant time. Returns the timestamp.
 */
function verify(got: Received, withKey = key): number {
  const header = String(got.headers["x-report-render-signature"]);
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  expect(match, header).not.toBeNull();
  const [, t = "", v1 = ""] = match ?? [];
  expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(120);
  const expected = Buffer.from(hmac(withKey, `${t}.${got.body}`), "hex");
  expect(timingSafeEqual(Buffer.from(v1, "hex"), expected)).toBe(true);
  // Neither the secret itself nor the body without its timestamp verifies; the old headers are gone.
  expect(v1).not.toBe(hmac(secret, `${t}.${got.body}`));
  expect(v1).not.toBe(hmac(withKey, got.body));
  expect(got.headers["x-report-render-timestamp"]).toBeUndefined();
  expect(got.headers["x-report-render-timestamp-signature"]).toBeUndefined();
  expect(got.headers["content-type"]).toBe("application/json");
  expect(got.headers["user-agent"]).toMatch(/^report-render\//);
  return Number(t);
}

const arrivals = (path: string) => receiver.received.filter((r) => r.path === path);

async function submit(body: unknown): Promise<{ jobId: string; statusUrl: string; requestId: string }> {
  const response = await postJson(`${service.url}/v1/jobs`, body);
  expect(response.status, await response.clone().text()).toBe(202);
  return {
    ...((await response.json()) as { jobId: string; statusUrl: string }),
    requestId: String(response.headers.get("x-request-id")),
  };
}

async function finalState(statusUrl: string): Promise<Record<string, unknown>> {
  return waitFor(async () => {
    const response = await fetch(statusUrl);
    // s3rver writes a state in place: a read in that instant may find it half written (500).
    if (response.status !== 200) return undefined;
    const body = (await response.json()) as Record<string, unknown>;
    const callback = body.callback as { status?: string } | undefined;
    return callback && callback.status !== "pending" ? body : undefined;
  });
}

describe("the caller's callback key", () => {
  it("GET /v1/callbacks/key: the caller's owner id and key (derived from the secret, not the secret), never cached", async () => {
    const response = await fetch(`${service.url}/v1/callbacks/key`);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({
      owner: "local",
      key: ownerKey("local"),
      algorithm: "HMAC-SHA256",
      signatureHeader: "x-report-render-signature",
      toleranceSeconds: 300,
    });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toBe(secret);
    expect(await (await fetch(`${service.url}/v1/whoami`)).json()).toEqual({ owner: "local" });
  });
});

describe("callbacks of POST /v1/jobs", () => {
  it("a done job: the receiver gets its final state, signed; the PDF downloads; the job records the delivery", async () => {
    const job = await submit(small("回调完成", { url: hook("/done") }));
    const state = await finalState(job.statusUrl);
    expect(state).toMatchObject({
      jobId: job.jobId,
      status: "done",
      callback: { url: hook("/done"), status: "delivered", attempts: 1, lastStatus: 200 },
    });
    expect(Date.parse(String((state.callback as { deliveredAt: string }).deliveredAt))).not.toBeNaN();

    const [got] = arrivals("/done");
    expect(arrivals("/done")).toHaveLength(1);
    verify(got as Received);
    expect(got?.headers["x-request-id"]).toBe(job.requestId);
    const sent = JSON.parse(String(got?.body)) as Record<string, unknown>;
    // The owner is in what is signed: a receiver takes only callbacks about its own jobs.
    expect(sent).toMatchObject({
      jobId: job.jobId,
      status: "done",
      pages: 1,
      owner: "local",
      callback: { status: "pending" },
    });
    const pdf = await bytesOf(await fetch(String(sent.url)));
    expect(squash((await pageTexts(pdf)).join(""))).toContain("回调完成");
  });

  it("a failed job (a limit hit while rendering) calls back with its errors", async () => {
    const envelope = { ...example(), options: { callback: { url: hook("/failed") } } };
    const job = await submit(envelope);
    const state = await finalState(job.statusUrl);
    expect(state).toMatchObject({ status: "failed", error: "page_limit", callback: { status: "delivered" } });
    const [got] = arrivals("/failed");
    verify(got as Received);
    expect(JSON.parse(String(got?.body))).toMatchObject({ jobId: job.jobId, status: "failed", error: "page_limit" });
  });

  it("a 500 is retried, then delivered; every attempt carries the same body, signed anew at a later second", async () => {
    receiver.answers.set("/flaky", [500, 503]);
    const job = await submit(small("重试", { url: hook("/flaky") }));
    const state = await finalState(job.statusUrl);
    expect(state.callback).toMatchObject({ status: "delivered", attempts: 3, lastStatus: 200 });
    const got = arrivals("/flaky");
    expect(got).toHaveLength(3);
    const timestamps = got.map((attempt) => verify(attempt));
    expect(new Set(got.map((g) => g.body)).size).toBe(1);
    // A retry is never the same signature as the attempt before it: a receiver that refuses a
    // signature it has seen (a replay) still takes the retry.
    expect(timestamps[1]).toBeGreaterThan(timestamps[0] as number);
    expect(timestamps[2]).toBeGreaterThan(timestamps[1] as number);
    expect(new Set(got.map((g) => g.headers["x-report-render-signature"])).size).toBe(3);
  });

  it("a 4xx is an answer, not retried: the callback is failed, the job done", async () => {
    receiver.answers.set("/gone", [410]);
    const job = await submit(small("拒收", { url: hook("/gone") }));
    const state = await finalState(job.statusUrl);
    expect(state).toMatchObject({
      status: "done",
      callback: { status: "failed", attempts: 1, lastStatus: 410, lastError: "answered 410" },
    });
    expect(arrivals("/gone")).toHaveLength(1);
  });

  it("the PDF does not depend on the callback: same sha256 as without one, and as POST /v1/render", async () => {
    const [withIt, without] = await Promise.all([
      submit(small("同一份", { url: hook("/same") })),
      submit(small("同一份")),
    ]);
    const a = await finalState(withIt.statusUrl);
    const b = await waitFor(async () => {
      const body = (await (await fetch(without.statusUrl)).json()) as Record<string, unknown>;
      return body.status === "done" ? body : undefined;
    });
    expect(b).not.toHaveProperty("callback");
    expect(a.sha256).toBe(b.sha256);
    const rendered = await postJson(`${service.url}/v1/render`, small("同一份"));
    expect(rendered.headers.get("x-report-sha256")).toBe(a.sha256);
  });

  it("a redelivered event for a job already called back sends nothing again", async () => {
    const job = await submit(small("只一次", { url: hook("/once") }));
    await finalState(job.statusUrl);
    const handler = createUploadHandler(createService(service.config, createLogger("silent")));
    const response = await handler(
      sqsS3Event(service.config.inputBucket, `jobs/${job.jobId}.json`, { receiveCount: 2 }),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(arrivals("/once")).toHaveLength(1);
  });

  it("POST /v1/render refuses a callback with 422, pointing to /v1/jobs", async () => {
    const response = await postJson(`${service.url}/v1/render`, small("同步", { url: hook("/sync") }));
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: string; errors: { path: string; message: string }[] };
    expect(body.error).toBe("invalid_options");
    expect(body.errors[0]?.path).toBe("/options/callback");
    expect(body.errors[0]?.message).toContain("/v1/jobs");
  });
});

describe("callbacks of uploads", () => {
  async function upload(key: string, body: unknown): Promise<void> {
    await service.storage.put(service.config.inputBucket, key, JSON.stringify(body), {
      contentType: "application/json",
    });
    await service.uploadsIdle();
  }
  const readJson = async (key: string) => {
    const got = await service.storage.get(service.config.outputBucket, key);
    if (!got.found || "tooLarge" in got) throw new Error(`${key} is missing`);
    return JSON.parse(got.body.toString("utf8")) as Record<string, unknown>;
  };

  it("a rendered upload calls back with its result and a URL of the PDF; the result file records it", async () => {
    await upload("incoming/cb/good.json", small("上传回调", { url: hook("/upload-done") }));
    const result = await waitFor(async () => {
      const file = await readJson("cb/good.result.json");
      return (file.callback as { status: string }).status === "pending" ? undefined : file;
    });
    expect(result.callback).toMatchObject({ status: "delivered", attempts: 1, url: hook("/upload-done") });
    const [got] = arrivals("/upload-done");
    // An upload has no caller: it is signed as the owner "upload", with the key an operator derives.
    verify(got as Received, ownerKey("upload"));
    expect(() => verify(got as Received, key)).toThrow();
    const sent = JSON.parse(String(got?.body)) as Record<string, unknown>;
    expect(sent).toMatchObject({
      status: "done",
      key: "cb/good.pdf",
      source: { key: "incoming/cb/good.json" },
      sha256: result.sha256,
      owner: "upload",
    });
    const pdf = await bytesOf(await fetch(String(sent.url)));
    expect(squash((await pageTexts(pdf)).join(""))).toContain("上传回调");
  });

  it("a refused upload calls back with its errors; the error file records it", async () => {
    const envelope = small("坏数据", { url: hook("/upload-failed") });
    (envelope.data as Record<string, unknown>).blocks = "not a list";
    await upload("incoming/cb/bad.json", envelope);
    const file = await waitFor(async () => {
      const got = await readJson("cb/bad.error.json");
      return (got.callback as { status: string }).status === "pending" ? undefined : got;
    });
    expect(file).toMatchObject({ error: "invalid_data", callback: { status: "delivered" } });
    const [got] = arrivals("/upload-failed");
    verify(got as Received, ownerKey("upload"));
    expect(JSON.parse(String(got?.body))).toMatchObject({ status: "failed", error: "invalid_data", owner: "upload" });
  });

  it("an upload with a refused callback URL gets an error file at its path, no PDF, and sends nothing", async () => {
    await upload("incoming/cb/refused.json", small("拒绝", { url: "https://not-listed.example.net/hook" }));
    const file = await readJson("cb/refused.error.json");
    expect(file).toMatchObject({ error: "invalid_options", errors: [{ path: "/options/callback/url" }] });
    expect(await service.storage.head(service.config.outputBucket, "cb/refused.pdf")).toBeUndefined();
  });
});

describe("callback URLs refused when the job is submitted (422 at /options/callback/url)", () => {
  const cases: [string, string, RegExp][] = [
    ["a host not listed", "https://hooks.example.org/cb", /not a host this service sends callbacks to/],
    ["plain http to a name", "http://example.com/cb", /must be https/],
    ["a listed name that resolves to loopback", "https://localhost/cb", /resolves to .*loopback/],
    ["localhost when it is not listed with that port", "https://localhost:8443/cb", /not a host/],
    ["the receiver's address on another port", "http://127.0.0.1:1/cb", /loopback address/],
    ["an IPv4 literal", "https://10.0.0.1/cb", /private address/],
    ["a public IPv4 literal not listed", "https://8.8.8.8/cb", /not a host/],
    ["userinfo", "https://user:secret@example.com/cb", /credentials/],
    ["IPv6 loopback", "https://[::1]/cb", /loopback address/],
    ["IPv4-mapped IPv6 loopback", "https://[::ffff:127.0.0.1]/cb", /loopback address/],
    ["0.0.0.0", "http://0.0.0.0/cb", /unspecified address/],
    ["the metadata endpoint", "http://169.254.169.254/latest/meta-data/", /link-local address/],
    ["a decimal spelling of 127.0.0.1", "http://2130706433/cb", /loopback address/],
    ["not https", "ftp://example.com/cb", /must be an https URL/],
    ["not a URL", "example.com/cb", /absolute https URL/],
    ["longer than 2,000 characters", `https://example.com/${"a".repeat(2000)}`, /at most 2,000 characters/],
  ];
  it.each(cases)("%s", async (_name, url, message) => {
    const response = await postJson(`${service.url}/v1/jobs`, small("拒绝", { url }));
    const body = (await response.json()) as { error: string; errors: { path: string; message: string }[] };
    expect(response.status, JSON.stringify(body)).toBe(422);
    expect(body.error).toBe("invalid_options");
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]?.path).toBe("/options/callback/url");
    expect(body.errors[0]?.message).toMatch(message);
  });
});
