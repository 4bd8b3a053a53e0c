import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqsEvent } from "../../functions/events.ts";
import { createLogger } from "../../functions/log.ts";
import { createService } from "../../functions/service.ts";
import { encodeEventKey } from "../../functions/storage/keys.ts";
import { createUploadHandler } from "../../functions/upload/handler.ts";
import type { BatchSummary } from "../../functions/upload/batch.ts";
import type { ReportErrorFile, ReportResultFile } from "../../functions/upload/report.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { example, EXAMPLE_AGENCY, exampleText, startTestService, type TestService } from "./local-service.ts";

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

    const logLine = service.logs.find((l) => l.msg === "upload.rendered" && l.key === "incoming/2020/zhanhe.json");
    expect(logLine).toMatchObject({ templateId: "gov-disclosure-annual-report", pages: result.pages, bytes: result.bytes });
    expect(logLine?.requestId).toEqual(expect.any(String));
    expect(Object.keys(logLine?.durations as object)).toEqual(expect.arrayContaining(["downloadMs", "chromiumMs", "uploadMs"]));
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
    const handler = createUploadHandler(createService(service.config, createLogger("silent")));
    const event = sqsEvent("incoming/redelivered.json", "ObjectCreated:Put");
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(await handler(event)).toEqual({ batchItemFailures: [] });

    const after = await service.storage.list(outputBucket, "redelivered");
    expect(after.map((o) => [o.key, o.eTag])).toEqual(before.map((o) => [o.key, o.eTag]));
    expect(await readOutput("redelivered.result.json")).toEqual(resultBefore);
  });

  it("reports a message that is not an S3 notification as a batch item failure, and ignores S3's test event", async () => {
    const handler = createUploadHandler(createService(service.config, createLogger("silent")));
    const bad = sqsEvent("incoming/x.json", "ObjectCreated:Put");
    const good = sqsEvent("incoming/does-not-exist.json", "ObjectCreated:Put");
    const broken = { ...bad.Records[0]!, messageId: "broken", body: "not json" };
    const test = { ...bad.Records[0]!, messageId: "test", body: JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent" }) };
    const response = await handler({ Records: [broken, test, { ...good.Records[0]!, messageId: "gone" }] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "broken" }] });
  });

  it("reports a message whose work failed (here: storage refuses) for redelivery, and only that one", async () => {
    const broken = createService({ ...service.config, outputBucket: "no-such-bucket" }, createLogger("silent"));
    const response = await createUploadHandler(broken)(sqsEvent("incoming/2020/zhanhe.json", "ObjectCreated:Put"));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
  });
});

describe("incoming/<batch>.jsonl", () => {
  it("renders every good line to <batch>/<n>.pdf and accounts for every line in <batch>.summary.json", async () => {
    const second = example();
    second.data.agency = "第二个单位";
    const bad = example();
    bad.data.year = "not a year";
    const lines = [JSON.stringify(example()), JSON.stringify(bad), "", JSON.stringify(second), "{ broken"];
    await upload("incoming/batches/b1.jsonl", `${lines.join("\n")}\n`);

    expect(await outputKeys("batches/")).toEqual(["batches/b1.summary.json", "batches/b1/1.pdf", "batches/b1/4.pdf"]);
    const summary = await readJson<BatchSummary>("batches/b1.summary.json");
    expect(summary).toMatchObject({ lines: 5, rendered: 2, failed: 2, skipped: 1 });
    expect(summary.items.map((i) => [i.line, i.status])).toEqual([
      [1, "done"],
      [2, "failed"],
      [3, "skipped"],
      [4, "done"],
      [5, "failed"],
    ]);
    expect(summary.items[1]).toMatchObject({ error: "invalid_data", errors: [expect.objectContaining({ path: "/year" })] });
    expect(summary.items[4]).toMatchObject({ error: "invalid_json" });

    const fourth = new Uint8Array(await readOutput("batches/b1/4.pdf"));
    expect(squash((await pageTexts(fourth)).join(""))).toContain("第二个单位");
    expect(summary.items[3]).toMatchObject({ key: "batches/b1/4.pdf", bytes: fourth.byteLength });
  });
});

describe("what the upload handler leaves alone", () => {
  it("ignores other files and keys whose outputs would overwrite the service's own", async () => {
    await upload("incoming/notes.txt", "hello");
    await upload("incoming/jobs/evil.json", exampleText);
    await upload("elsewhere/x.json", exampleText);
    expect(await outputKeys("notes")).toEqual([]);
    expect(await outputKeys("jobs/evil")).toEqual([]);
    expect(await outputKeys("elsewhere")).toEqual([]);
  });
});

function sqsEvent(key: string, eventName: string): SqsEvent {
  const body = JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: new Date().toISOString(),
        eventName,
        s3: { s3SchemaVersion: "1.0", bucket: { name: inputBucket }, object: { key: encodeEventKey(key) } },
      },
    ],
  });
  return {
    Records: [
      {
        messageId: "m-1",
        receiptHandle: "r-1",
        body,
        attributes: { ApproximateReceiveCount: "2", SentTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:uploads",
        awsRegion: "us-east-1",
      },
    ],
  };
}
