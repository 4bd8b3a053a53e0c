import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../functions/service/log.ts";
import type { BatchSummary } from "../../functions/upload/batch.ts";
import { createUploadHandler } from "../../functions/upload/handler.ts";
import { keptLineTasks, sqsLineTaskEvent } from "../helpers/lambda-events.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { exampleText, startTestService, type TestService } from "../helpers/local-service.ts";
import { attacks } from "./attacks.ts";

// Every attack as an uploaded file and as the lines of one batch: each gets its PDF or a small error
// file, the upload path stays up, and a normal upload right after renders.
let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

const safeName = (name: string) => name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();

async function output(key: string): Promise<Buffer | undefined> {
  const got = await service.storage.get(service.config.outputBucket, key);
  return got.found && !("tooLarge" in got) ? got.body : undefined;
}

describe("uploads under attack", () => {
  it("every attack uploaded as a file gets its PDF or a small error file", async () => {
    const { inputBucket } = service.config;
    for (const attack of attacks) {
      await service.storage.put(inputBucket, `incoming/hostile/${safeName(attack.name)}.json`, attack.body);
    }
    await service.uploadsIdle();
    for (const attack of attacks) {
      const path = `hostile/${safeName(attack.name)}`;
      if (attack.status === 200) {
        const pdf = await output(`${path}.pdf`);
        expect(pdf, attack.name).toBeDefined();
        const text = squash((await pageTexts(new Uint8Array(pdf!))).join(""));
        for (const wanted of attack.contains ?? []) expect(text, attack.name).toContain(squash(wanted));
      } else {
        const error = await output(`${path}.error.json`);
        expect(error, attack.name).toBeDefined();
        expect(error!.byteLength, attack.name).toBeLessThan(64 * 1024);
        expect(JSON.parse(error!.toString("utf8")), attack.name).toMatchObject({ error: attack.error });
        expect(await output(`${path}.pdf`), attack.name).toBeUndefined();
      }
    }
  });

  it("every attack as a line of one batch: a summary with an entry for every line, under 64 KB a refusal", async () => {
    const lines = attacks.map((a) => a.body.replace(/^\uFEFF/, "")).filter((body) => !body.includes("\n"));
    await service.storage.put(
      service.config.inputBucket,
      "incoming/hostile-batch.jsonl",
      `\uFEFF${lines.join("\n")}\n`,
    );
    await service.uploadsIdle();
    const summary = JSON.parse((await output("hostile-batch.summary.json"))!.toString("utf8")) as BatchSummary;
    expect(summary.lines).toBe(lines.length);
    expect(summary.items).toHaveLength(lines.length);
    for (const item of summary.items) {
      if (item.status === "failed") expect(JSON.stringify(item).length).toBeLessThan(64 * 1024);
    }
    expect(summary.rendered).toBe(attacks.filter((a) => a.status === 200).length);
  });

  it("a JSONL of 1,000,000 short lines (2 MB): the first 1,000 answered, the rest in one entry, quickly", async () => {
    const started = performance.now();
    await service.storage.put(service.config.inputBucket, "incoming/million.jsonl", "x\n".repeat(1_000_000));
    await service.uploadsIdle();
    const summary = JSON.parse((await output("million.summary.json"))!.toString("utf8")) as BatchSummary;
    expect(summary.lines).toBe(1_000_000);
    expect(summary.items).toHaveLength(1_001);
    expect(summary.items[1_000]).toMatchObject({ line: 1_001, status: "failed", error: "body_too_large" });
    expect(JSON.stringify(summary.items[1_000])).toContain("lines 1001 to 1000000 were not rendered");
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it("forged or malformed line-task messages are refused or dropped: nothing is written, the function answers", async () => {
    const { inputBucket, outputBucket } = service.config;
    const small = (text: string) =>
      JSON.stringify({ template: "report", data: { title: text, blocks: [{ type: "heading", level: 1, text }] } });
    await service.storage.put(inputBucket, "incoming/forged.jsonl", `${small("一")}\n${small("二")}\n`);
    await service.uploadsIdle();
    const summary = JSON.parse((await output("forged.summary.json"))!.toString("utf8")) as BatchSummary;
    expect(summary.rendered).toBe(2);
    const eTag = summary.source.eTag;
    const runId = summary.runId ?? "";
    const real = { kind: "batch-line", key: "incoming/forged.jsonl", eTag, runId, line: 1 };

    const snapshot = async () => (await service.storage.list(outputBucket, "")).map((o) => `${o.key} ${o.eTag}`).sort();
    const before = await snapshot();
    const lineTasks = keptLineTasks();
    const handler = createUploadHandler(service.newService(service.config, createLogger("silent")), { lineTasks });

    // Refused (reported failed: SQS retries, then the dead-letter queue, whose alarm someone sees).
    const refused: unknown[] = [
      { ...real, extra: "field" },
      { kind: "batch-line" },
      { ...real, line: -1 },
      { ...real, line: 0 },
      { ...real, line: 1.5 },
      { ...real, line: "1" },
      { ...real, line: 1e21 },
      { ...real, eTag: "../../x" },
      { ...real, runId: "../../run" },
      { ...real, key: "x".repeat(300_000) },
      { ...real, rewrite: false },
    ];
    // Dropped (nothing to do): keys that are no batch, batches without a run, other runs, other lines.
    const dropped: unknown[] = [
      { ...real, key: "incoming/forged.json" },
      { ...real, key: "jobs/00000000-0000-4000-8000-000000000000.json" },
      { ...real, key: "batches/forged/1.pdf" },
      { ...real, key: "forged.summary.json" },
      { ...real, key: "incoming/../forged.jsonl" },
      { ...real, key: "../../etc/passwd.jsonl" },
      { ...real, key: "incoming/batches/forged.jsonl" },
      { ...real, key: "incoming/forged\u0000.jsonl" },
      { ...real, key: "incoming/never-uploaded.jsonl" },
      { ...real, runId: "00000000-0000-4000-8000-000000000000" },
      { ...real, eTag: "0".repeat(32) },
      { ...real, line: 999_999 },
      { ...real, line: Number.MAX_SAFE_INTEGER },
      { ...real, line: Number.MAX_SAFE_INTEGER, rewrite: true },
      { ...real, rewrite: true }, // a real line rewritten: the same bytes again
      real, // a duplicate of a real task
    ];
    const broken = ["not json", "", "null", "42", "[]", '{"kind":"batch-lines"}'];

    for (const message of refused) {
      const response = await handler(sqsLineTaskEvent(JSON.stringify(message)));
      expect(response.batchItemFailures, JSON.stringify(message).slice(0, 200)).toHaveLength(1);
    }
    for (const message of dropped) {
      const response = await handler(sqsLineTaskEvent(JSON.stringify(message)));
      expect(response, JSON.stringify(message)).toEqual({ batchItemFailures: [] });
    }
    for (const body of broken) {
      expect((await handler(sqsLineTaskEvent(body))).batchItemFailures, body).toHaveLength(1);
    }
    // Even the last attempt of a forged task writes no outcome for it.
    for (const message of dropped) {
      const response = await handler(sqsLineTaskEvent(JSON.stringify(message), { receiveCount: 3 }));
      expect(response, JSON.stringify(message)).toEqual({ batchItemFailures: [] });
    }
    expect(await snapshot()).toEqual(before);
    expect(lineTasks.sent).toEqual([]);
  });

  it("renders a normal upload right after", async () => {
    await service.storage.put(service.config.inputBucket, "incoming/after.json", exampleText);
    await service.uploadsIdle();
    expect((await pageTexts(new Uint8Array((await output("after.pdf"))!))).length).toBe(7);
  });
});
