import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { longTableEnvelope } from "../../bench/lib/long-table-data.ts";
import type { JobState } from "../../functions/service/jobs.ts";
import { createLogger } from "../../functions/service/log.ts";
import type { Service } from "../../functions/service/service.ts";
import type { Storage } from "../../functions/service/storage/s3.ts";
import { batchRunKey } from "../../functions/service/storage/keys.ts";
import { createUploadHandler, type UploadHandler } from "../../functions/upload/handler.ts";
import type { BatchSummary } from "../../functions/upload/batch.ts";
import type { ReportErrorFile, ReportResultFile } from "../../functions/upload/report-files.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { deliveredLineTasks, sqsS3Event } from "../helpers/lambda-events.ts";
import { example, EXAMPLE_AGENCY, exampleText, startTestService, type TestService } from "../helpers/local-service.ts";

// Upload JSON, get PDF: objects put into the embedded S3 server's input bucket; its ObjectCreated
// events drive the upload handler exactly as S3 → SQS does on AWS.
let service: TestService;
let inputBucket: string;
let outputBucket: string;

beforeAll(async () => {
  service = await startTestService();
  ({ inputBucket, outputBucket } = service.config);
});
afterAll(() => service?.stop());

/** The SQS message S3 sends for an object put into the input bucket, as delivered a second time. */
const sqsEvent = (key: string) => sqsS3Event(inputBucket, key, { receiveCount: 2 });

async function upload(key: string, body: string): Promise<void> {
  await service.storage.put(inputBucket, key, body, { contentType: "application/json" });
  await service.uploadsIdle();
}

async function outputKeys(prefix: string): Promise<string[]> {
  return (await service.storage.list(outputBucket, prefix)).map((o) => o.key).sort();
}

async function readOutput(key: string): Promise<Buffer> {
  const got = await service.storage.get(outputBucket, key);
  if (!got.found || "tooLarge" in got) throw new Error(`${key} is missing`);
  return got.body;
}

const readJson = async <T>(key: string) => JSON.parse((await readOutput(key)).toString("utf8")) as T;

/** A one-heading report: quick to render, its text easy to find. */
const small = (text: string) =>
  JSON.stringify({
    template: "report",
    data: { title: text, lang: "zh-CN", blocks: [{ type: "heading", level: 1, text }] },
  });

const textOf = async (key: string) => squash((await pageTexts(new Uint8Array(await readOutput(key)))).join(""));

/** sha256 of each output (undefined if absent): what "untouched" means. */
async function digests(keys: string[]): Promise<Record<string, string | undefined>> {
  const entries = await Promise.all(
    keys.map(async (key) => {
      const got = await service.storage.get(outputBucket, key);
      return [
        key,
        got.found && "body" in got ? createHash("sha256").update(got.body).digest("hex") : undefined,
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}

describe("incoming/<path>.json", () => {
  it("a good envelope → <path>.pdf and <path>.result.json; the input is left as it was", async () => {
    await upload("incoming/2020/zhanhe.json", exampleText);
    expect(await outputKeys("2020/")).toEqual(["2020/zhanhe.pdf", "2020/zhanhe.result.json"]);

    const pdf = new Uint8Array(await readOutput("2020/zhanhe.pdf"));
    const result = await readJson<ReportResultFile>("2020/zhanhe.result.json");
    expect(result).toMatchObject({
      source: { bucket: inputBucket, key: "incoming/2020/zhanhe.json" },
      key: "2020/zhanhe.pdf",
      filename: "湛河区交通运输局-2020-政府信息公开工作年度报告.pdf",
      bytes: pdf.byteLength,
      warnings: [],
    });
    expect(result.pages).toBe((await pageTexts(pdf)).length);
    expect(squash((await pageTexts(pdf)).join(""))).toContain(EXAMPLE_AGENCY);
    expect(Object.keys(result.timings)).toEqual(
      expect.arrayContaining(["validateMs", "templateMs", "chromiumMs", "downloadMs", "uploadMs", "totalMs"]),
    );

    const input = await service.storage.get(inputBucket, "incoming/2020/zhanhe.json");
    expect(input.found && "body" in input && input.body.toString("utf8")).toBe(exampleText);

    const logLine = service.logs.find((l) => l.message === "upload.rendered" && l.key === "incoming/2020/zhanhe.json");
    expect(logLine).toMatchObject({
      templateId: "gov-disclosure-annual-report",
      pages: result.pages,
      bytes: result.bytes,
    });
    expect(logLine?.requestId).toEqual(expect.any(String));
    expect(Object.keys(logLine?.durations as object)).toEqual(
      expect.arrayContaining(["downloadMs", "chromiumMs", "uploadMs"]),
    );
  });

  it("an invalid envelope → <path>.error.json with the endpoint's errors, and no PDF", async () => {
    const envelope = example();
    envelope.data.year = "abc";
    await upload("incoming/bad/year.json", JSON.stringify(envelope));
    expect(await outputKeys("bad/")).toEqual(["bad/year.error.json"]);
    const error = await readJson<ReportErrorFile>("bad/year.error.json");
    expect(error).toMatchObject({
      source: { bucket: inputBucket, key: "incoming/bad/year.json" },
      error: "invalid_data",
      errors: [expect.objectContaining({ rule: "schema", path: "/year", actual: "abc" })],
    });

    await upload("incoming/bad/syntax.json", "{ nope");
    expect((await readJson<ReportErrorFile>("bad/syntax.error.json")).error).toBe("invalid_json");
    expect(await outputKeys("bad/syntax")).toEqual(["bad/syntax.error.json"]);
  });

  it("the same key uploaded twice gives one PDF; a fixed upload replaces its error file", async () => {
    await upload("incoming/twice.json", exampleText);
    const first = await service.storage.head(outputBucket, "twice.pdf");
    await upload("incoming/twice.json", exampleText);
    expect(await outputKeys("twice")).toEqual(["twice.pdf", "twice.result.json"]);
    expect((await service.storage.head(outputBucket, "twice.pdf"))?.eTag).toBe(first?.eTag);

    // Now broken: the PDF goes, the error file comes. Then fixed again: the reverse.
    await upload("incoming/twice.json", "[]");
    expect(await outputKeys("twice")).toEqual(["twice.error.json"]);
    await upload("incoming/twice.json", exampleText);
    expect(await outputKeys("twice")).toEqual(["twice.pdf", "twice.result.json"]);
  });

  it("a redelivered SQS message gives the same output and no duplicates", async () => {
    await upload("incoming/redelivered.json", exampleText);
    const before = await service.storage.list(outputBucket, "redelivered");
    const resultBefore = await readOutput("redelivered.result.json");

    // The message SQS would deliver again (at-least-once), handed to the upload handler twice more.
    const handler = createUploadHandler(service.newService(service.config, createLogger("silent")));
    const event = sqsEvent("incoming/redelivered.json");
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(await handler(event)).toEqual({ batchItemFailures: [] });

    const after = await service.storage.list(outputBucket, "redelivered");
    expect(after.map((o) => [o.key, o.eTag])).toEqual(before.map((o) => [o.key, o.eTag]));
    expect(await readOutput("redelivered.result.json")).toEqual(resultBefore);
  });

  it("reports a message that is not an S3 notification as a batch item failure, and ignores S3's test event", async () => {
    const handler = createUploadHandler(service.newService(service.config, createLogger("silent")));
    const bad = sqsEvent("incoming/x.json");
    const good = sqsEvent("incoming/does-not-exist.json");
    const broken = { ...bad.Records[0]!, messageId: "broken", body: "not json" };
    const test = {
      ...bad.Records[0]!,
      messageId: "test",
      body: JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent" }),
    };
    const response = await handler({ Records: [broken, test, { ...good.Records[0]!, messageId: "gone" }] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "broken" }] });
  });

  it("reports a message whose work failed (here: storage refuses) for redelivery, and only that one", async () => {
    const broken = service.newService({ ...service.config, outputBucket: "no-such-bucket" }, createLogger("silent"));
    const event = sqsEvent("incoming/2020/zhanhe.json");
    const response = await createUploadHandler(broken)(event);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId }] });
  });
});

describe("incoming/<batch>.jsonl", () => {
  it("renders every good line to batches/<batch>/<n>.pdf and accounts for every line in <batch>.summary.json", async () => {
    const second = example();
    second.data.agency = "第二个单位";
    const bad = example();
    bad.data.year = "not a year";
    const lines = [JSON.stringify(example()), JSON.stringify(bad), "", JSON.stringify(second), "{ broken"];
    await upload("incoming/q3/b1.jsonl", `${lines.join("\n")}\n`);

    expect(await outputKeys("q3/")).toEqual(["q3/b1.summary.json"]);
    expect(await outputKeys("batches/q3/")).toEqual(["batches/q3/b1/1.pdf", "batches/q3/b1/4.pdf"]);
    const summary = await readJson<BatchSummary>("q3/b1.summary.json");
    expect(summary).toMatchObject({ lines: 5, rendered: 2, failed: 2, skipped: 1 });
    expect(summary.items.map((i) => [i.line, i.status])).toEqual([
      [1, "done"],
      [2, "failed"],
      [3, "skipped"],
      [4, "done"],
      [5, "failed"],
    ]);
    expect(summary.items[1]).toMatchObject({
      error: "invalid_data",
      errors: [expect.objectContaining({ path: "/year" })],
    });
    expect(summary.items[4]).toMatchObject({ error: "invalid_json" });

    const fourth = new Uint8Array(await readOutput("batches/q3/b1/4.pdf"));
    expect(squash((await pageTexts(fourth)).join(""))).toContain("第二个单位");
    expect(summary.items[3]).toMatchObject({ key: "batches/q3/b1/4.pdf", bytes: fourth.byteLength });
  });

  it("refuses lines past MAX_BATCH_LINES and a file past MAX_UPLOAD_BYTES with the endpoint's limit errors", async () => {
    // The same buckets, handled with lower limits: the queue renders the file first, then it is
    // handled again (its summary and run removed, so it is neither answered nor under way).
    const limits = { ...service.config, maxBatchLines: 1, maxUploadBytes: 1000 };
    const limited: UploadHandler = createUploadHandler(service.newService(limits, createLogger("silent")), {
      lineTasks: deliveredLineTasks(() => limited),
    });
    const handleLimited = async (key: string, body: string, summaryKey: string) => {
      await upload(key, body);
      await service.storage.delete(outputBucket, summaryKey);
      await service.storage.delete(outputBucket, batchRunKey(key.replace(/^incoming\/|\.jsonl$/g, "")));
      expect(await limited(sqsEvent(key))).toEqual({ batchItemFailures: [] });
      return readJson<BatchSummary>(summaryKey);
    };
    const lines = await handleLimited(
      "incoming/limits/lines.jsonl",
      `${small("一")}\n${small("二")}\n`,
      "limits/lines.summary.json",
    );
    expect(lines.items[1]).toEqual({
      line: 2,
      status: "failed",
      error: "body_too_large",
      message: "a batch renders at most 1 lines",
      errors: [{ rule: "limit.batchLines", path: "", message: "a batch renders at most 1 lines" }],
    });
    expect(await outputKeys("batches/limits/lines/")).toEqual(["batches/limits/lines/1.pdf"]);

    const big = await handleLimited(
      "incoming/limits/big.jsonl",
      `${small("一".repeat(400))}\n`,
      "limits/big.summary.json",
    );
    expect(big).toMatchObject({
      lines: 0,
      items: [],
      error: { error: "body_too_large", errors: [{ rule: "limit.bodySize" }] },
    });
    expect(await outputKeys("batches/limits/big/")).toEqual([]);
  });
});

describe("no upload corrupts another's outputs", () => {
  it("a batch writes its line PDFs under batches/, never over single uploads of the same name", async () => {
    await upload("incoming/a/1.json", small("单个一"));
    await upload("incoming/a/3.json", small("单个三"));
    const singles = ["a/1.pdf", "a/1.result.json", "a/3.pdf", "a/3.result.json"];
    const before = await digests(singles);
    expect(Object.values(before).every(Boolean)).toBe(true);

    await upload("incoming/a.jsonl", `${small("批量一")}\n${small("批量二")}\n`);
    expect(await digests(singles)).toEqual(before);
    expect(await outputKeys("batches/a/")).toEqual(["batches/a/1.pdf", "batches/a/2.pdf"]);
    const summary = await readJson<BatchSummary>("a.summary.json");
    expect(summary.items.map((i) => [i.line, i.status, "key" in i && i.key])).toEqual([
      [1, "done", "batches/a/1.pdf"],
      [2, "done", "batches/a/2.pdf"],
    ]);
    expect(await textOf("batches/a/2.pdf")).toContain("批量二");
    expect(await textOf("a/1.pdf")).toContain("单个一");

    // A shorter version of the batch: its stale line PDF goes, the single uploads' PDFs stay.
    await upload("incoming/a.jsonl", `${small("批量一")}\n`);
    expect(await outputKeys("batches/a/")).toEqual(["batches/a/1.pdf"]);
    expect(await digests(singles)).toEqual(before);
    expect((await readJson<BatchSummary>("a.summary.json")).items).toHaveLength(1);
    expect((await readJson<ReportResultFile>("a/3.result.json")).source.key).toBe("incoming/a/3.json");
  });
});

describe("the latest version of an input wins", () => {
  it("a slow older version finishing last does not overwrite the newer version's PDF", async () => {
    const slow = JSON.stringify(longTableEnvelope(3000));
    await service.storage.put(inputBucket, "incoming/race.json", slow, { contentType: "application/json" });
    await new Promise((r) => setTimeout(r, 300));
    await service.storage.put(inputBucket, "incoming/race.json", small("第二版"), { contentType: "application/json" });
    await service.uploadsIdle();

    const input = await service.storage.head(inputBucket, "incoming/race.json");
    const result = await readJson<ReportResultFile>("race.result.json");
    expect(result.source.eTag).toBe(input?.eTag);
    const pdf = await readOutput("race.pdf");
    expect(createHash("sha256").update(pdf).digest("hex")).toBe(result.sha256);
    expect(await textOf("race.pdf")).toContain("第二版");
    expect(await outputKeys("race")).toEqual(["race.pdf", "race.result.json"]);
    // The slow render did finish, found a newer version and stood down.
    expect(service.logs.find((l) => l.message === "upload.superseded" && l.key === "incoming/race.json")).toMatchObject(
      {
        latestETag: input?.eTag,
        when: "before writing",
      },
    );
  });
});

describe("the last attempt always leaves an answer", () => {
  /**
   * A job request that is still there (as it is until its job ends and it is erased), kept in memory
   * so that the local queue does not render it first. `replace` puts a newer version in its place.
   */
  function keptRequest(key: string, body: string) {
    let current: { bytes: Buffer; eTag: string } | undefined;
    const replace = (text: string) => {
      const bytes = Buffer.from(text);
      current = { bytes, eTag: createHash("md5").update(bytes).digest("hex") };
    };
    replace(body);
    const mine = (bucket: string, k: string) => bucket === inputBucket && k === key;
    const over = (base: Storage): Storage => ({
      ...base,
      get: async (bucket, k, options) =>
        mine(bucket, k)
          ? current
            ? { found: true, body: current.bytes, eTag: current.eTag, size: current.bytes.byteLength }
            : { found: false }
          : base.get(bucket, k, options),
      head: async (bucket, k) =>
        mine(bucket, k)
          ? current && { key: k, size: current.bytes.byteLength, eTag: current.eTag }
          : base.head(bucket, k),
      erase: async (bucket, k) => {
        if (mine(bucket, k)) current = undefined;
        else await base.erase(bucket, k);
      },
    });
    return { key, replace, over, present: () => current !== undefined };
  }

  /** The service over the same buckets, with puts of the keys `fails` picks failing, and `request` if given. */
  function failingPuts(fails: (key: string) => boolean, request?: ReturnType<typeof keptRequest>): Service {
    const base = service.newService(service.config, createLogger("silent"));
    const inner = request ? request.over(base.storage) : base.storage;
    const storage: Storage = {
      ...inner,
      put: async (...args) => {
        if (fails(args[1])) throw new Error(`put ${args[1]} refused`);
        return inner.put(...args);
      },
    };
    return { ...base, storage };
  }
  const lastAttempt = (key: string) => sqsS3Event(inputBucket, key, { receiveCount: service.config.maxReceiveCount });
  const notLast = (key: string) => sqsS3Event(inputBucket, key, { receiveCount: service.config.maxReceiveCount - 1 });

  it("a report whose PDF cannot be stored gets <path>.error.json with an internal error, and no PDF", async () => {
    await upload("incoming/last/report.json", small("最后一次"));
    await service.storage.delete(outputBucket, "last/report.result.json");
    const handler = createUploadHandler(failingPuts((key) => key.endsWith(".pdf")));

    const retried = notLast("incoming/last/report.json");
    expect(await handler(retried)).toEqual({ batchItemFailures: [{ itemIdentifier: retried.Records[0]?.messageId }] });
    expect(await outputKeys("last/report")).toEqual(["last/report.pdf"]);

    expect(await handler(lastAttempt("incoming/last/report.json"))).toEqual({ batchItemFailures: [] });
    expect(await outputKeys("last/report")).toEqual(["last/report.error.json"]);
    const input = await service.storage.head(inputBucket, "incoming/last/report.json");
    expect(await readJson<ReportErrorFile>("last/report.error.json")).toEqual({
      source: { bucket: inputBucket, key: "incoming/last/report.json", eTag: input?.eTag },
      error: "internal",
      message: expect.stringContaining("error in the service"),
      errors: [],
    });
  });

  it("a job whose PDF cannot be stored, or whose state cannot be read, ends failed, never rendering", async () => {
    const jobId = randomUUID();
    const requestKey = `jobs/${jobId}.json`;
    const stateKey = `jobs/${jobId}/status.json`;
    const body = small("任务");
    await upload(requestKey, body);
    expect((await readJson<JobState>(stateKey)).status).toBe("done");
    // Ended, so its request is erased; below, each handler has it again, as before its job ended.
    expect(await service.storage.head(inputBucket, requestKey)).toBeUndefined();
    const eTag = createHash("md5").update(body).digest("hex");

    await service.storage.delete(outputBucket, stateKey);
    const pdfFails = (key: string) => key.startsWith(`jobs/${jobId}/`) && key.endsWith(".pdf");
    const handler = createUploadHandler(failingPuts(pdfFails, keptRequest(requestKey, body)));
    expect(await handler(lastAttempt(requestKey))).toEqual({ batchItemFailures: [] });
    expect(await readJson<JobState>(stateKey)).toMatchObject({ status: "failed", error: "internal", sourceETag: eTag });

    // A state that is not JSON: retried, then answered.
    await service.storage.put(outputBucket, stateKey, "{ not json", { contentType: "application/json" });
    const fine = createUploadHandler(failingPuts(() => false, keptRequest(requestKey, body)));
    const retried = notLast(requestKey);
    expect(await fine(retried)).toEqual({ batchItemFailures: [{ itemIdentifier: retried.Records[0]?.messageId }] });
    expect((await readOutput(stateKey)).toString("utf8")).toBe("{ not json");
    expect(await fine(lastAttempt(requestKey))).toEqual({ batchItemFailures: [] });
    expect(await readJson<JobState>(stateKey)).toMatchObject({ status: "failed", error: "internal", sourceETag: eTag });
  });

  it("an ended job's request is erased, but not a newer version its job has not answered yet", async () => {
    const jobId = randomUUID();
    const requestKey = `jobs/${jobId}.json`;
    // Ended, and no newer version: erased.
    const ended = keptRequest(requestKey, small("任务一"));
    const handler = createUploadHandler(failingPuts(() => false, ended));
    expect(await handler(lastAttempt(requestKey))).toEqual({ batchItemFailures: [] });
    expect(await readJson<JobState>(`jobs/${jobId}/status.json`)).toMatchObject({ status: "done" });
    expect(ended.present()).toBe(false);

    // A newer version lands after the job's final state was written (the callback step reads it):
    // the message about the older version leaves it for the newer one's own message.
    await service.storage.delete(outputBucket, `jobs/${jobId}/status.json`);
    const racing = keptRequest(requestKey, small("任务二"));
    const base = failingPuts(() => false, racing);
    let ended2 = false;
    const storage: Storage = {
      ...base.storage,
      put: async (bucket, key, ...rest) => {
        await base.storage.put(bucket, key, ...rest);
        if (key === `jobs/${jobId}/status.json` && String(rest[0]).includes('"done"')) ended2 = true;
      },
      get: async (bucket, key, options) => {
        if (ended2 && key === `jobs/${jobId}/status.json`) racing.replace(small("任务三"));
        return base.storage.get(bucket, key, options);
      },
    };
    expect(await createUploadHandler({ ...base, storage })(lastAttempt(requestKey))).toEqual({ batchItemFailures: [] });
    expect(await readJson<JobState>(`jobs/${jobId}/status.json`)).toMatchObject({ status: "done" });
    expect(racing.present()).toBe(true);
  });

  it("a batch whose lines cannot be sent to the line queue gets a summary with the internal error and no line PDFs", async () => {
    await upload("incoming/last/batch.jsonl", `${small("一")}\n${small("二")}\n`);
    expect(await outputKeys("batches/last/batch/")).toEqual(["batches/last/batch/1.pdf", "batches/last/batch/2.pdf"]);
    await service.storage.delete(outputBucket, "last/batch.summary.json");
    await service.storage.delete(outputBucket, batchRunKey("last/batch"));

    const refusing = {
      send: async () => {
        throw new Error("the line queue refuses");
      },
    };
    const handler = createUploadHandler(service.newService(service.config, createLogger("silent")), {
      lineTasks: refusing,
    });
    const retried = notLast("incoming/last/batch.jsonl");
    expect(await handler(retried)).toEqual({ batchItemFailures: [{ itemIdentifier: retried.Records[0]?.messageId }] });
    expect(await handler(lastAttempt("incoming/last/batch.jsonl"))).toEqual({ batchItemFailures: [] });
    expect(await outputKeys("batches/last/batch/")).toEqual([]);
    expect(await readJson<BatchSummary>("last/batch.summary.json")).toMatchObject({
      source: { key: "incoming/last/batch.jsonl" },
      lines: 0,
      items: [],
      error: { error: "internal" },
    });
  });
});

describe("what the upload handler leaves alone", () => {
  it("ignores other files and keys whose outputs would overwrite the service's own", async () => {
    await upload("incoming/notes.txt", "hello");
    await upload("incoming/jobs/evil.json", exampleText);
    await upload("incoming/batches/evil.json", exampleText);
    await upload("elsewhere/x.json", exampleText);
    expect(await outputKeys("notes")).toEqual([]);
    expect(await outputKeys("jobs/evil")).toEqual([]);
    expect(await outputKeys("batches/evil")).toEqual([]);
    expect(await outputKeys("elsewhere")).toEqual([]);
    expect(
      service.logs.find((l) => l.message === "upload.ignored" && l.key === "incoming/batches/evil.json"),
    ).toMatchObject({
      reason: "its outputs would be under the service's own batches/",
    });
  });

  it("ignores keys with . or .. segments, empty segments or control characters, with the reason logged", async () => {
    const logs: Record<string, unknown>[] = [];
    const log = createLogger("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    const handler = createUploadHandler(service.newService(service.config, log));
    for (const key of ["incoming/x/../y.json", "incoming/./y.json", "incoming//y.json", "incoming/y\u0007.json"]) {
      expect(await handler(sqsEvent(key)), key).toEqual({ batchItemFailures: [] });
    }
    expect(await outputKeys("y")).toEqual([]);
    expect(await outputKeys("x")).toEqual([]);
    expect(logs.filter((l) => l.message === "upload.ignored").map((l) => [l.key, l.reason])).toEqual([
      ["incoming/x/../y.json", 'the key has a ".." path segment'],
      ["incoming/./y.json", 'the key has a "." path segment'],
      ["incoming//y.json", "the key has an empty path segment (// or a leading or trailing /)"],
      ["incoming/y\u0007.json", "the key contains the control character U+0007"],
    ]);
    // (s3rver refuses such keys itself; S3 stores them as they are, so the handler must refuse them.)
  });
});
