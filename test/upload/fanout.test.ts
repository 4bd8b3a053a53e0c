import { createHash } from "node:crypto";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3RVER_CREDENTIALS } from "../../functions/local/s3-server.ts";
import { createLogger } from "../../functions/service/log.ts";
import type { Service } from "../../functions/service/service.ts";
import type { ServiceConfig } from "../../functions/service/settings.ts";
import { createStorage, type Storage } from "../../functions/service/storage/s3.ts";
import { batchRunKey, batchRunResultsPrefix, batchRunsFolder } from "../../functions/service/storage/keys.ts";
import type { BatchSummary } from "../../functions/upload/batch.ts";
import type { BatchRun } from "../../functions/upload/batch-run.ts";
import { splitBatch } from "../../functions/upload/batch-split.ts";
import { createUploadHandler } from "../../functions/upload/handler.ts";
import type { LineTask } from "../../functions/upload/line-task.ts";
import { keptLineTasks, sqsLineTaskEvent, sqsS3Event } from "../helpers/lambda-events.ts";
import { startTestService, type TestService } from "../helpers/local-service.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";

// A batch fanned out: the batch message splits the file into line tasks, each line task renders its
// line, the last one writes the summary. Here the tests hold the line queue: they deliver the tasks
// themselves, twice, late, out of order, failing, or two at the same moment, against the embedded S3
// server. Buckets of their own, so the local service's queue never handles these uploads itself.

let service: TestService;
let config: ServiceConfig;
const IN = "fanout-input";
const OUT = "fanout-output";

beforeAll(async () => {
  service = await startTestService();
  const s3 = new S3Client({
    region: "us-east-1",
    endpoint: service.s3Endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
  for (const Bucket of [IN, OUT]) await s3.send(new CreateBucketCommand({ Bucket }));
  config = { ...service.config, inputBucket: IN, outputBucket: OUT };
});
afterAll(() => service?.stop());

/** A one-heading report: quick to render, its text easy to find. */
const small = (text: string) =>
  JSON.stringify({
    template: "report",
    data: { title: text, lang: "zh-CN", blocks: [{ type: "heading", level: 1, text }] },
  });
const invalidData = JSON.stringify({ template: "report", data: { title: 1 } });

interface DoorOptions {
  storage?: (storage: Storage) => Storage;
}

/** The upload handler over the test's buckets; the line tasks it sends are kept in `lines`. */
function door(options: DoorOptions = {}) {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const base = service.newService(config, log);
  const svc: Service = options.storage ? { ...base, storage: options.storage(base.storage) } : base;
  const lines = keptLineTasks();
  const handler = createUploadHandler(svc, { lineTasks: lines });
  return {
    logs,
    lines,
    /** The batch message for `key`: the file split, its tasks returned. */
    async split(key: string): Promise<LineTask[]> {
      expect(await handler(sqsS3Event(IN, key))).toEqual({ batchItemFailures: [] });
      return lines.take();
    },
    /** One delivery of a line task; true if the handler reported it failed (SQS would deliver it again). */
    async deliver(task: LineTask, receiveCount = 1): Promise<boolean> {
      const response = await handler(sqsLineTaskEvent(task, { receiveCount }));
      return response.batchItemFailures.length > 0;
    },
  };
}

async function putInput(key: string, lines: string[]): Promise<string> {
  await service.storage.put(IN, key, `${lines.join("\n")}\n`, { contentType: "application/x-ndjson" });
  return (await service.storage.head(IN, key))?.eTag ?? "";
}

async function keys(prefix: string): Promise<string[]> {
  return (await service.storage.list(OUT, prefix)).map((o) => o.key).sort();
}

async function read(key: string): Promise<Buffer | undefined> {
  const got = await service.storage.get(OUT, key);
  return got.found && "body" in got ? got.body : undefined;
}

async function summaryOf(batch: string): Promise<BatchSummary | undefined> {
  const body = await read(`${batch}.summary.json`);
  return body && (JSON.parse(body.toString("utf8")) as BatchSummary);
}

async function runOf(batch: string): Promise<BatchRun> {
  return JSON.parse((await read(batchRunKey(batch)))?.toString("utf8") ?? "null") as BatchRun;
}

/** Every object of the output bucket with its ETag: what "nothing changed" is checked against. */
async function snapshot(): Promise<string[]> {
  return (await service.storage.list(OUT, "")).map((o) => `${o.key} ${o.eTag}`).sort();
}

const textOf = async (key: string) => squash((await pageTexts(new Uint8Array((await read(key)) ?? []))).join(""));
const statuses = (summary: BatchSummary | undefined) => summary?.items.map((i) => [i.line, i.status]);

/** Resolves each waiter once `count` have arrived (or after `ms`, so a test never hangs on it). */
function barrier(count: number, ms = 5000): () => Promise<void> {
  let arrived = 0;
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
    setTimeout(resolve, ms);
  });
  return () => {
    arrived++;
    if (arrived >= count) open();
    return opened;
  };
}

describe("the split", () => {
  it("finds each line's byte range as JSON Lines defines lines; answers at once what cannot render", () => {
    const bytes = Buffer.from(`\uFEFF{"a":1}\r\n\n  \n{ nope\n"é"\n${"x".repeat(20)}\n{"b":2}`, "utf8");
    const split = splitBatch(bytes, { maxBatchLines: 6, maxBodyBytes: 10 });
    expect(split.lines).toBe(7);
    expect(split.tasks.map((t) => [t.line, bytes.toString("utf8", t.start, t.end)])).toEqual([
      [1, '\uFEFF{"a":1}'],
      [5, '"é"'],
    ]);
    expect(split.items.map((i) => [i.line, i.status, "error" in i ? i.error : i.status])).toEqual([
      [2, "skipped", "skipped"],
      [3, "skipped", "skipped"],
      [4, "failed", "invalid_json"],
      [6, "failed", "body_too_large"],
      [7, "failed", "body_too_large"], // past maxBatchLines
    ]);
    expect(splitBatch(Buffer.from(""), { maxBatchLines: 5, maxBodyBytes: 10 })).toEqual({
      lines: 0,
      tasks: [],
      items: [],
    });
  });
});

describe("a batch fanned out over line tasks", () => {
  it("each line task renders its line; the last writes the one summary, with the run's id", async () => {
    const d = door();
    const eTag = await putInput("incoming/fan/a.jsonl", [small("甲"), "", invalidData, "{ broken", small("乙")]);
    const tasks = await d.split("incoming/fan/a.jsonl");
    // Lines 2 (blank) and 4 (not JSON) are answered by the split; the others are one task each.
    expect(tasks.map((t) => [t.line, t.eTag])).toEqual([
      [1, eTag],
      [3, eTag],
      [5, eTag],
    ]);
    expect(Buffer.byteLength(JSON.stringify(tasks[0]))).toBeLessThan(300); // references, not the line

    for (const task of tasks.slice(0, 2)) expect(await d.deliver(task)).toBe(false);
    expect(await summaryOf("fan/a")).toBeUndefined(); // one line still to go
    expect(await d.deliver(tasks[2] as LineTask)).toBe(false);

    const summary = await summaryOf("fan/a");
    expect(summary).toMatchObject({
      source: { bucket: IN, key: "incoming/fan/a.jsonl", eTag },
      lines: 5,
      rendered: 2,
      failed: 2,
      skipped: 1,
      runId: tasks[0]?.runId,
    });
    expect(statuses(summary)).toEqual([
      [1, "done"],
      [2, "skipped"],
      [3, "failed"],
      [4, "failed"],
      [5, "done"],
    ]);
    expect(summary?.items[2]).toMatchObject({ error: "invalid_data" });
    expect((await runOf("fan/a")).runId).toBe(summary?.runId);
    expect(await keys("batches/fan/")).toEqual(["batches/fan/a/1.pdf", "batches/fan/a/5.pdf"]);
    expect(await textOf("batches/fan/a/5.pdf")).toContain("乙");
    expect(d.logs.filter((l) => l.message === "upload.batch_rendered")).toHaveLength(1);
  });

  it("a line task delivered twice, at once or after the end, changes nothing: one PDF, one outcome, one summary", async () => {
    let summaryWrites = 0;
    const d = door({
      storage: (storage) => ({
        ...storage,
        async putJson(...args) {
          const eTag = await storage.putJson(...args);
          if (args[1] === "fan/twice.summary.json" && eTag !== undefined) summaryWrites++;
          return eTag;
        },
      }),
    });
    await putInput("incoming/fan/twice.jsonl", [small("一"), small("二"), invalidData]);
    const tasks = await d.split("incoming/fan/twice.jsonl");
    expect(tasks).toHaveLength(3);
    // Every task twice, all at once.
    const failed = await Promise.all([...tasks, ...tasks].map((task) => d.deliver(task)));
    expect(failed).toEqual([false, false, false, false, false, false]);

    expect(summaryWrites).toBe(1);
    const summary = await summaryOf("fan/twice");
    expect(statuses(summary)).toEqual([
      [1, "done"],
      [2, "done"],
      [3, "failed"],
    ]);
    expect(await keys("batches/fan/twice/")).toEqual(["batches/fan/twice/1.pdf", "batches/fan/twice/2.pdf"]);
    const runId = tasks[0]?.runId ?? "";
    expect(await keys(batchRunResultsPrefix("fan/twice", runId))).toHaveLength(3);
    for (const item of summary?.items ?? []) {
      if (item.status !== "done") continue;
      const pdf = await read(item.key);
      expect(pdf && createHash("sha256").update(pdf).digest("hex")).toBe(item.sha256);
    }

    // Late duplicates, after the summary: nothing is written again.
    const before = await snapshot();
    for (const task of tasks) expect(await d.deliver(task)).toBe(false);
    expect(await snapshot()).toEqual(before);
    expect(summaryWrites).toBe(1);
  });

  it("the last two lines finishing at the same moment write the summary once", async () => {
    const attempts: string[] = [];
    const bothResults = barrier(2);
    const bothSummaries = barrier(2);
    const d = door({
      storage: (storage) => ({
        ...storage,
        async putJson(bucket, key, body, condition) {
          const summary = key === "fan/same.summary.json";
          // Both try the summary at once…
          if (summary) await bothSummaries();
          const eTag = await storage.putJson(bucket, key, body, condition);
          if (summary) attempts.push(eTag === undefined ? "lost" : "written");
          // …because both outcomes are written before either task looks whether every line has one.
          if (/^batch-runs\/.*\/[12]\.json$/.test(key)) await bothResults();
          return eTag;
        },
      }),
    });
    await putInput("incoming/fan/same.jsonl", [small("一"), small("二")]);
    const tasks = await d.split("incoming/fan/same.jsonl");
    expect(await Promise.all(tasks.map((task) => d.deliver(task)))).toEqual([false, false]);

    expect(attempts.sort()).toEqual(["lost", "written"]);
    expect(statuses(await summaryOf("fan/same"))).toEqual([
      [1, "done"],
      [2, "done"],
    ]);
    expect(d.logs.filter((l) => l.message === "upload.batch_rendered")).toHaveLength(1);
    expect(d.logs.filter((l) => l.message === "upload.batch_finished_already")).toHaveLength(1);
  });

  it("a line whose task fails on every attempt is in the summary as failed; uploading the file again renders it", async () => {
    const d = door({
      storage: (storage) => ({
        ...storage,
        async put(...args: Parameters<Storage["put"]>) {
          if (args[1] === "batches/fan/fails/2.pdf") throw new Error("put refused");
          return storage.put(...args);
        },
      }),
    });
    await putInput("incoming/fan/fails.jsonl", [small("一"), small("二")]);
    const [first, second] = (await d.split("incoming/fan/fails.jsonl")) as [LineTask, LineTask];
    expect(await d.deliver(first)).toBe(false);
    for (let attempt = 1; attempt < config.maxReceiveCount; attempt++) {
      expect(await d.deliver(second, attempt)).toBe(true);
      expect(await summaryOf("fan/fails")).toBeUndefined();
    }
    expect(await d.deliver(second, config.maxReceiveCount)).toBe(false);

    const summary = await summaryOf("fan/fails");
    expect(summary).toMatchObject({ lines: 2, rendered: 1, failed: 1 });
    expect(summary?.items[1]).toMatchObject({
      line: 2,
      status: "failed",
      error: "internal",
      message: expect.stringContaining("error in the service"),
    });
    expect(await keys("batches/fan/fails/")).toEqual(["batches/fan/fails/1.pdf"]);

    // An internal failure is no answer: the same file, uploaded again, is split into a new run.
    const healthy = door();
    const again = await healthy.split("incoming/fan/fails.jsonl");
    expect(again.map((t) => t.line)).toEqual([1, 2]);
    expect(again[0]?.runId).not.toBe(first.runId);
    for (const task of again) expect(await healthy.deliver(task)).toBe(false);
    expect(statuses(await summaryOf("fan/fails"))).toEqual([
      [1, "done"],
      [2, "done"],
    ]);
  });
});

describe("the latest version of a batch wins", () => {
  it("line tasks of a superseded version do nothing; the summary and PDFs are the newer version's", async () => {
    const d = door();
    await putInput("incoming/fan/v.jsonl", [small("旧一"), small("旧二"), small("旧三")]);
    const old = await d.split("incoming/fan/v.jsonl");
    expect(await d.deliver(old[0] as LineTask)).toBe(false); // line 1 of the old version: rendered
    const before = await snapshot();

    const newer = await putInput("incoming/fan/v.jsonl", [small("新一")]);
    // Uploaded but not yet split: the old tasks read the input, find another version and stand down.
    expect(await d.deliver(old[1] as LineTask)).toBe(false);
    expect(await snapshot()).toEqual(before);

    const tasks = await d.split("incoming/fan/v.jsonl");
    expect(tasks.map((t) => [t.line, t.eTag])).toEqual([[1, newer]]);
    // Split: the old run is not the batch's run any more, its tasks are dropped before any read.
    expect(await d.deliver(old[2] as LineTask)).toBe(false);
    expect(d.logs.filter((l) => l.message === "upload.line_stale" && l.line === 3)).toHaveLength(1);
    expect(await summaryOf("fan/v")).toBeUndefined();

    expect(await d.deliver(tasks[0] as LineTask)).toBe(false);
    const summary = await summaryOf("fan/v");
    expect(summary).toMatchObject({ source: { eTag: newer }, lines: 1, rendered: 1, runId: tasks[0]?.runId });
    // The old version's line PDFs beyond the new one's lines are gone; line 1 is the new text.
    expect(await keys("batches/fan/v/")).toEqual(["batches/fan/v/1.pdf"]);
    expect(await textOf("batches/fan/v/1.pdf")).toContain("新一");
    // The old run's line outcomes are gone too: only the current run's state is left.
    expect(await keys(batchRunsFolder("fan/v"))).toEqual(
      [batchRunKey("fan/v"), `${batchRunResultsPrefix("fan/v", tasks[0]?.runId ?? "")}1.json`].sort(),
    );
  });

  it("an older run's PDF that lands after the newer run's is written again from the newer run", async () => {
    // The older task's PDF put is held until the newer version is split and its line 1 rendered:
    // the race a run check just before the put cannot close. After its put the older task sees the
    // newer run and sends that run's line 1 again as a rewrite.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = true;
    let arrived = () => {};
    const atPut = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const slow = door({
      storage: (storage) => ({
        ...storage,
        async put(...args: Parameters<Storage["put"]>) {
          if (args[1] === "batches/fan/race/1.pdf" && holding) {
            holding = false;
            arrived();
            await held;
          }
          return storage.put(...args);
        },
      }),
    });
    const fast = door();

    await putInput("incoming/fan/race.jsonl", [small("旧版")]);
    const [old] = (await slow.split("incoming/fan/race.jsonl")) as [LineTask];
    const oldDelivery = slow.deliver(old);
    await atPut; // rendered from the old version, checked its run, about to put its PDF

    await putInput("incoming/fan/race.jsonl", [small("新版")]);
    const [task] = (await fast.split("incoming/fan/race.jsonl")) as [LineTask];
    expect(await fast.deliver(task)).toBe(false);
    expect(await textOf("batches/fan/race/1.pdf")).toContain("新版");

    release();
    expect(await oldDelivery).toBe(false);
    expect(await textOf("batches/fan/race/1.pdf")).toContain("旧版"); // overwritten…
    const [rewrite] = slow.lines.take();
    expect(rewrite).toMatchObject({ runId: task.runId, line: 1, rewrite: true });
    expect(await fast.deliver(rewrite as LineTask)).toBe(false);
    expect(await textOf("batches/fan/race/1.pdf")).toContain("新版"); // …and written again

    const summary = await summaryOf("fan/race");
    expect(summary).toMatchObject({ runId: task.runId, rendered: 1 });
    const pdf = await read("batches/fan/race/1.pdf");
    expect(pdf && createHash("sha256").update(pdf).digest("hex")).toBe(
      summary?.items[0]?.status === "done" ? summary.items[0].sha256 : "",
    );
  });
});

describe("the embedded S3 server honours conditional puts, as S3 does", () => {
  it("If-None-Match: * lets one of many concurrent puts through; If-Match only the one that saw the last ETag", async () => {
    const objects = createStorage(config.s3);
    const written = await Promise.all(
      Array.from({ length: 8 }, (_, i) => objects.putJson(OUT, "cas/once.json", `{"i":${i}}`, { ifNoneMatch: "*" })),
    );
    const winners = written.filter((eTag) => eTag !== undefined);
    expect(winners).toHaveLength(1);
    expect(await objects.putJson(OUT, "cas/once.json", "{}", { ifNoneMatch: "*" })).toBeUndefined();

    const first = winners[0] as string;
    const swaps = await Promise.all(
      [1, 2, 3].map((i) => objects.putJson(OUT, "cas/once.json", `{"n":${i}}`, { ifMatch: first })),
    );
    expect(swaps.filter((eTag) => eTag !== undefined)).toHaveLength(1);
    expect(await objects.putJson(OUT, "cas/once.json", "{}", { ifMatch: first })).toBeUndefined();
    expect(await objects.putJson(OUT, "cas/missing.json", "{}", { ifMatch: first })).toBeUndefined();
    expect(await keys("cas/")).toEqual(["cas/once.json"]);

    const range = await objects.getRange(OUT, "cas/once.json", 1, 4);
    expect(range?.body.toString("utf8")).toBe('"n"');
    expect(range?.eTag).toBe((await service.storage.head(OUT, "cas/once.json"))?.eTag);
    expect(await objects.getRange(OUT, "cas/once.json", 100, 200)).toBeUndefined();
  });
});

describe("under npm start", () => {
  it("line tasks go through the in-process queue like uploads: a batch uploaded gives its PDFs and one summary", async () => {
    const { inputBucket, outputBucket } = service.config;
    const lines = [small("一"), small("二"), "", small("三")];
    await service.storage.put(inputBucket, "incoming/local/fan.jsonl", `${lines.join("\n")}\n`);
    await service.uploadsIdle();
    const got = await service.storage.get(outputBucket, "local/fan.summary.json");
    const summary = got.found && "body" in got ? (JSON.parse(got.body.toString("utf8")) as BatchSummary) : undefined;
    expect(statuses(summary)).toEqual([
      [1, "done"],
      [2, "done"],
      [3, "skipped"],
      [4, "done"],
    ]);
    const split = service.logs.filter(
      (l) => l.message === "upload.batch_split" && l.key === "incoming/local/fan.jsonl",
    );
    expect(split).toMatchObject([{ tasks: 3, answered: 1, runId: summary?.runId }]);
    const rendered = service.logs.filter(
      (l) => l.message === "upload.line_rendered" && l.key === "incoming/local/fan.jsonl",
    );
    expect(new Set(rendered.map((l) => l.requestId)).size).toBe(3); // one message per line
    expect(
      service.logs.filter((l) => l.message === "upload.batch_rendered" && l.key === "incoming/local/fan.jsonl"),
    ).toHaveLength(1);
  });
});
