import { createHash } from "node:crypto";
import { fence } from "../helpers/fence.ts";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/service/settings.ts";
import { createLogger } from "../../functions/service/log.ts";
import { createMetrics } from "../../functions/service/metrics.ts";
import { createTemplateStore } from "../../functions/service/template-store.ts";
import { builtInRenderer, type Service } from "../../functions/service/service.ts";
import type { GetResult, ObjectInfo, Storage } from "../../functions/service/storage/s3.ts";
import { classifyInputKey, type ReportUpload } from "../../functions/service/storage/keys.ts";
import type { UploadContext } from "../../functions/upload/context.ts";
import { MAX_ROUNDS, processLatest, type Round } from "../../functions/upload/latest.ts";
import { processReport } from "../../functions/upload/report.ts";
import type { ReportErrorFile } from "../../functions/upload/report-files.ts";

// processLatest, the "latest version wins / nothing unanswered" loop, against an in-memory S3 whose
// timing the test decides: a new version lands exactly where a race would put it.

const config = loadConfig({});
const IN = config.inputBucket;
const OUT = config.outputBucket;
const KEY = "incoming/race.json";

/** An in-memory S3 (ETag = md5, as S3's for a simple put), with a hook before each call. */
function memoryStorage(hook: (op: string, bucket: string, key: string) => void | Promise<void> = () => undefined) {
  const objects = new Map<string, { body: Buffer; eTag: string }>();
  const id = (bucket: string, key: string) => `${bucket}/${key}`;
  const set = (bucket: string, key: string, body: Uint8Array | string) => {
    const bytes = Buffer.from(body);
    objects.set(id(bucket, key), { body: bytes, eTag: createHash("md5").update(bytes).digest("hex") });
  };
  const storage: Storage = {
    async get(bucket, key, options = {}): Promise<GetResult> {
      await hook("get", bucket, key);
      const o = objects.get(id(bucket, key));
      if (!o) return { found: false };
      if (options.maxBytes !== undefined && o.body.byteLength > options.maxBytes) {
        return { found: true, tooLarge: true, eTag: o.eTag, size: o.body.byteLength };
      }
      return { found: true, body: o.body, eTag: o.eTag, size: o.body.byteLength };
    },
    async put(bucket, key, body) {
      await hook("put", bucket, key);
      set(bucket, key, body);
    },
    async head(bucket, key): Promise<ObjectInfo | undefined> {
      await hook("head", bucket, key);
      const o = objects.get(id(bucket, key));
      return o && { key, size: o.body.byteLength, eTag: o.eTag };
    },
    async presign() {
      return "http://example.invalid/";
    },
    async list(bucket, prefix) {
      await hook("list", bucket, prefix);
      return [...objects.entries()]
        .filter(([k]) => k.startsWith(id(bucket, prefix)))
        .map(([k, o]) => ({ key: k.slice(bucket.length + 1), size: o.body.byteLength, eTag: o.eTag }));
    },
    async delete(bucket, key) {
      await hook("delete", bucket, key);
      objects.delete(id(bucket, key));
    },
    async erase(bucket, key) {
      await hook("delete", bucket, key);
      objects.delete(id(bucket, key));
    },
    async putJson(bucket, key, body, condition) {
      await hook("put", bucket, key);
      const current = objects.get(id(bucket, key));
      if (condition && ("ifMatch" in condition ? current?.eTag !== condition.ifMatch : current)) return undefined;
      set(bucket, key, body);
      return objects.get(id(bucket, key))?.eTag;
    },
    async getRange(bucket, key, start, end) {
      await hook("get", bucket, key);
      const o = objects.get(id(bucket, key));
      return o && o.body.byteLength >= end ? { body: o.body.subarray(start, end), eTag: o.eTag } : undefined;
    },
  };
  const read = (bucket: string, key: string) => objects.get(id(bucket, key))?.body.toString("utf8");
  const eTagOf = (text: string) => createHash("md5").update(Buffer.from(text)).digest("hex");
  return { storage, set, read, remove: (bucket: string, key: string) => objects.delete(id(bucket, key)), eTagOf };
}

/** One renderer for the file's contexts (a render here is refused before Chromium starts; closed at the end anyway). */
const renderer = builtInRenderer(config);
afterAll(() => renderer.close());

function context(storage: Storage, options: { lastAttempt?: boolean; eTag?: string } = {}) {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const templates = createTemplateStore({ storage, bucket: config.inputBucket, builtIn: [], checkZip: fence.checkZip });
  const service: Service = {
    config,
    storage,
    log,
    templates,
    fence,
    renderer,
    metrics: createMetrics(config, log),
  };
  const ctx: UploadContext = {
    service,
    log,
    messageId: "m-1",
    lastAttempt: options.lastAttempt ?? false,
    eTag: options.eTag,
  };
  return { ctx, logs, messages: () => logs.map((l) => l.message) };
}

/** A round that writes out/<version text>.txt-like answer: one output file recording the version's ETag. */
function recordingRound(
  store: ReturnType<typeof memoryStorage>,
  seen: { text?: string; redo: boolean }[],
  during?: (round: number) => void,
) {
  return async (round: Round) => {
    seen.push({ text: round.input.text, redo: round.redo });
    const answer = store.read(OUT, "race.answer");
    if (answer && JSON.parse(answer).eTag === round.input.source.eTag && !round.redo) return;
    during?.(seen.length);
    await round.beforeWrite();
    await store.storage.put(
      OUT,
      "race.answer",
      JSON.stringify({ eTag: round.input.source.eTag, text: round.input.text }),
    );
  };
}

const noAnswer = async () => {
  throw new Error("no answer expected");
};

describe("processLatest: the latest version wins", () => {
  it("does not write an older version's outputs once a newer one is uploaded, and starts over with it", async () => {
    const store = memoryStorage();
    store.set(IN, KEY, "v1");
    const seen: { text?: string; redo: boolean }[] = [];
    const { ctx, logs } = context(store.storage);
    // While v1 "renders", v2 is uploaded.
    await processLatest(ctx, KEY, {
      maxBytes: 1000,
      round: recordingRound(store, seen, (n) => n === 1 && store.set(IN, KEY, "v2")),
      answer: noAnswer,
    });
    expect(seen).toEqual([
      { text: "v1", redo: false },
      { text: "v2", redo: false },
    ]);
    expect(JSON.parse(store.read(OUT, "race.answer") ?? "")).toEqual({ eTag: store.eTagOf("v2"), text: "v2" });
    expect(logs.find((l) => l.message === "upload.superseded")).toMatchObject({
      key: KEY,
      eTag: store.eTagOf("v1"),
      latestETag: store.eTagOf("v2"),
      when: "before writing",
      wrote: false,
    });
  });

  it("starts over when a newer version was uploaded and answered while ours was being written", async () => {
    // v2 lands between our pre-write HEAD and our write; its own message answers it at once; then
    // ours overwrites that answer. The HEAD after the final file catches it.
    let puts = 0;
    const store = memoryStorage((op, bucket) => {
      if (op === "put" && bucket === OUT && ++puts === 1) {
        store.set(IN, KEY, "v2");
        store.set(OUT, "race.answer", JSON.stringify({ eTag: store.eTagOf("v2"), text: "v2" }));
      }
    });
    store.set(IN, KEY, "v1");
    const seen: { text?: string; redo: boolean }[] = [];
    const { ctx, logs } = context(store.storage);
    await processLatest(ctx, KEY, { maxBytes: 1000, round: recordingRound(store, seen), answer: noAnswer });
    // Round 2 renders v2 again whatever the answer says: ours may have been written over v2's.
    expect(seen).toEqual([
      { text: "v1", redo: false },
      { text: "v2", redo: true },
    ]);
    expect(JSON.parse(store.read(OUT, "race.answer") ?? "")).toEqual({ eTag: store.eTagOf("v2"), text: "v2" });
    expect(logs.find((l) => l.message === "upload.superseded")).toMatchObject({
      when: "after writing",
      wrote: true,
      round: 1,
    });
  });

  it("skips a version already answered, with no HEAD and no write", async () => {
    const ops: string[] = [];
    const store = memoryStorage((op, bucket) => void ops.push(`${op} ${bucket === IN ? "in" : "out"}`));
    store.set(IN, KEY, "v1");
    store.set(OUT, "race.answer", JSON.stringify({ eTag: store.eTagOf("v1"), text: "v1" }));
    const seen: { text?: string; redo: boolean }[] = [];
    await processLatest(context(store.storage).ctx, KEY, {
      maxBytes: 1000,
      round: recordingRound(store, seen),
      answer: noAnswer,
    });
    expect(ops).toEqual(["get in"]);
  });

  it("stops when the input is deleted, writing nothing", async () => {
    const store = memoryStorage();
    store.set(IN, KEY, "v1");
    const seen: { text?: string; redo: boolean }[] = [];
    const { ctx, messages } = context(store.storage, { lastAttempt: true });
    await processLatest(ctx, KEY, {
      maxBytes: 1000,
      round: recordingRound(store, seen, () => store.remove(IN, KEY)),
      answer: noAnswer,
    });
    expect(store.read(OUT, "race.answer")).toBeUndefined();
    expect(messages()).toContain("upload.gone");
  });

  it(`gives up after ${MAX_ROUNDS} rounds of an input that keeps changing, for the queue to retry`, async () => {
    const store = memoryStorage();
    store.set(IN, KEY, "v0");
    const seen: { text?: string; redo: boolean }[] = [];
    const round = recordingRound(store, seen, (n) => store.set(IN, KEY, `v${n}`));
    await expect(
      processLatest(context(store.storage).ctx, KEY, { maxBytes: 1000, round, answer: noAnswer }),
    ).rejects.toThrow(`replaced by a newer version ${MAX_ROUNDS} times`);
    expect(seen).toHaveLength(MAX_ROUNDS);
    expect(store.read(OUT, "race.answer")).toBeUndefined();
  });
});

describe("processLatest: nothing unanswered", () => {
  const failing = async () => {
    throw new Error("S3 said no");
  };

  it("throws for a retry when this is not the last attempt", async () => {
    const store = memoryStorage();
    store.set(IN, KEY, "v1");
    const answers: unknown[] = [];
    const work = { maxBytes: 1000, round: failing, answer: async (...a: unknown[]) => void answers.push(a) };
    await expect(processLatest(context(store.storage).ctx, KEY, work)).rejects.toThrow("S3 said no");
    expect(answers).toEqual([]);
  });

  it("writes an internal failure as the answer for this version on the last attempt", async () => {
    const store = memoryStorage();
    store.set(IN, KEY, "v1");
    const answers: unknown[] = [];
    const { ctx, messages } = context(store.storage, { lastAttempt: true });
    await processLatest(ctx, KEY, {
      maxBytes: 1000,
      round: failing,
      answer: async (...a: unknown[]) => void answers.push(a),
    });
    expect(answers).toEqual([
      [
        { status: 500, body: { error: "internal", message: expect.stringContaining("request m-1"), errors: [] } },
        { bucket: IN, key: KEY, eTag: store.eTagOf("v1") },
      ],
    ]);
    expect(messages()).toEqual(expect.arrayContaining(["upload.failed_finally", "upload.answered_internal"]));
  });

  it("answers even when the input could not be read, for the version the notification announced", async () => {
    const store = memoryStorage((op, bucket) => {
      if (op === "get" && bucket === IN) throw new Error("GET failed");
    });
    store.set(IN, KEY, "v1");
    const answers: unknown[] = [];
    const { ctx } = context(store.storage, { lastAttempt: true, eTag: store.eTagOf("v1") });
    await processLatest(ctx, KEY, {
      maxBytes: 1000,
      round: failing,
      answer: async (_f, source) => void answers.push(source),
    });
    expect(answers).toEqual([{ bucket: IN, key: KEY, eTag: store.eTagOf("v1") }]);
  });

  it("leaves a newer version to its own message, unless it wrote over that version's outputs", async () => {
    const store = memoryStorage();
    store.set(IN, KEY, "v2");
    const answers: unknown[] = [];
    const work = { maxBytes: 1000, round: failing, answer: async (...a: unknown[]) => void answers.push(a) };
    const { ctx, messages } = context(store.storage, { lastAttempt: true, eTag: store.eTagOf("v1") });
    // The GET already returns v2, so v2 is "ours": answered.
    await processLatest(ctx, KEY, work);
    expect(answers).toHaveLength(1);

    // Failing after a write, then finding a newer version: thrown, for the dead-letter queue.
    const writingThenFailing = async (round: Round) => {
      await round.beforeWrite();
      store.set(IN, KEY, "v3");
      throw new Error("S3 said no");
    };
    await expect(processLatest(ctx, KEY, { ...work, round: writingThenFailing })).rejects.toThrow("S3 said no");
    expect(answers).toHaveLength(1);
    expect(messages()).toContain("upload.failed_finally");
  });

  it("rethrows the original error when the answer cannot be written either", async () => {
    const store = memoryStorage();
    store.set(IN, KEY, "v1");
    const { ctx, messages } = context(store.storage, { lastAttempt: true });
    const answer = async () => {
      throw new Error("answer failed too");
    };
    await expect(processLatest(ctx, KEY, { maxBytes: 1000, round: failing, answer })).rejects.toThrow("S3 said no");
    expect(messages()).toContain("upload.answer_failed");
  });
});

describe("processReport through processLatest (inputs refused at once: no Chromium)", () => {
  const target = classifyInputKey(KEY) as ReportUpload;

  it("the older version's error file never replaces the newer one's", async () => {
    // v1 is read and refused, then v2 is uploaded just before v1's answer is written: not written.
    let heads = 0;
    const store = memoryStorage((op, bucket) => {
      if (op === "head" && bucket === IN && ++heads === 1) store.set(IN, KEY, "[2]");
    });
    store.set(IN, KEY, "[1]");
    const { ctx, logs } = context(store.storage);
    await processReport(ctx, target);
    expect(logs.filter((l) => l.message === "upload.refused")).toHaveLength(1);
    expect(logs.find((l) => l.message === "upload.superseded")).toMatchObject({
      eTag: store.eTagOf("[1]"),
      when: "before writing",
    });
    const file = JSON.parse(store.read(OUT, "race.error.json") ?? "") as ReportErrorFile;
    expect(file.source.eTag).toBe(store.eTagOf("[2]"));
    expect(file.error).toBe("invalid_envelope");
  });

  it("the last attempt turns a failing write into an internal error file", async () => {
    let failedOnce = false;
    const store = memoryStorage((op, _bucket, key) => {
      if (op === "put" && key === "race.error.json" && !failedOnce) {
        failedOnce = true;
        throw new Error("PUT failed");
      }
    });
    store.set(IN, KEY, "[1]");
    store.set(OUT, "race.pdf", "an older version's PDF");
    await processReport(context(store.storage, { lastAttempt: true }).ctx, target);
    const file = JSON.parse(store.read(OUT, "race.error.json") ?? "") as ReportErrorFile;
    expect(file).toMatchObject({ error: "internal", source: { key: KEY, eTag: store.eTagOf("[1]") } });
    expect(store.read(OUT, "race.pdf")).toBeUndefined();
  });

  it("an internal error file is no answer: the same file delivered again is processed again", async () => {
    const store = memoryStorage(() => undefined);
    store.set(IN, KEY, "[1]");
    const internal = {
      source: { bucket: IN, key: KEY, eTag: store.eTagOf("[1]") },
      error: "internal",
      message: "m",
      errors: [],
    };
    store.set(OUT, "race.error.json", JSON.stringify(internal));
    const { ctx, logs } = context(store.storage);
    await processReport(ctx, target);
    expect(logs.map((l) => l.message)).not.toContain("upload.skipped");
    const file = JSON.parse(store.read(OUT, "race.error.json") ?? "") as ReportErrorFile;
    expect(file.error).toBe("invalid_envelope"); // "[1]" is no envelope: now answered for what it is
  });
});
