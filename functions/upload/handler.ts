import pLimit from "p-limit";
import type { SqsBatchResponse, SqsEvent, SqsRecord } from "../service/events.ts";
import type { Logger } from "../service/log.ts";
import type { Service } from "../service/service.ts";
import { classifyInputKey } from "../service/storage/keys.ts";
import { processBatch } from "./batch.ts";
import { processLineTask } from "./batch-line.ts";
import type { BatchContext } from "./context.ts";
import { processJob } from "./job.ts";
import { type LineTaskQueue, sqsLineQueue } from "./line-queue.ts";
import { isLineTaskMessage, LINE_TASKS_PER_INVOCATION, parseLineTask } from "./line-task.ts";
import { createdObjects } from "./notification.ts";
import { processReport } from "./report.ts";

/** What the upload door is called with and answers (the local queue calls it too). */
export type UploadHandler = (event: SqsEvent) => Promise<SqsBatchResponse>;

/** What the door sends batch lines through (tests and `npm start` give their own). */
export interface UploadDoorParts {
  /** Default: the SQS line queue named by ENV.batchLineQueueName. */
  lineTasks?: LineTaskQueue;
}

/**
 * The upload door, over two kinds of SQS message: S3 ObjectCreated notifications (uploads, job
 * requests) and a batch's line tasks (line-task.ts), told apart by their body. A message whose work
 * failed unexpectedly is reported in `batchItemFailures`, so SQS redelivers only that one; refused
 * inputs are answers (error files, summary items), not failures.
 */
export function createUploadHandler(service: Service, parts: UploadDoorParts = {}): UploadHandler {
  const lineTasks = parts.lineTasks ?? sqsLineQueue(service.config);
  return async (event) => {
    const batchItemFailures: SqsBatchResponse["batchItemFailures"] = [];
    // The line queue delivers up to LINE_TASKS_PER_INVOCATION tasks, rendered at once; the upload queue one message.
    const limit = pLimit(LINE_TASKS_PER_INVOCATION);
    await Promise.all(
      event.Records.map((record) =>
        limit(async () => {
          try {
            await processMessage(service, record, { lineTasks });
          } catch (e) {
            service.log.error("upload.failed", { messageId: record.messageId, attempt: attemptOf(record), error: e });
            batchItemFailures.push({ itemIdentifier: record.messageId });
          }
        }),
      ),
    );
    return { batchItemFailures };
  };
}

async function processMessage(service: Service, record: SqsRecord, parts: Required<UploadDoorParts>): Promise<void> {
  const attempt = attemptOf(record);
  const context = (log: Logger, eTag: string | undefined): BatchContext => ({
    service,
    log,
    messageId: record.messageId,
    lastAttempt: attempt >= service.config.maxReceiveCount,
    eTag,
    ...parts,
  });
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new Error(`message ${record.messageId} is not JSON`);
  }

  if (isLineTaskMessage(body)) {
    const task = parseLineTask(body);
    // Only the upload function sends line tasks: a malformed one is a fault to look at, not a request.
    if ("refused" in task) throw new Error(`message ${record.messageId} is not a valid line task: ${task.refused}`);
    const { key, runId, line } = task;
    const log = service.log.child({ requestId: record.messageId, key, runId, line, attempt });
    return processLineTask(context(log, task.eTag), task);
  }

  for (const object of createdObjects(record.messageId, body)) {
    const log = service.log.child({ requestId: record.messageId, bucket: object.bucket, key: object.key, attempt });
    if (object.bucket !== service.config.inputBucket) {
      log.warn("upload.ignored", { reason: `not the input bucket ${service.config.inputBucket}` });
      continue;
    }
    // The package types the ETag as always there; s3rver's copies have none.
    const ctx = context(log, object.eTag?.replace(/^"|"$/g, "") || undefined);
    const target = classifyInputKey(object.key);
    switch (target.kind) {
      case "report":
        await processReport(ctx, target);
        break;
      case "batch":
        await processBatch(ctx, target);
        break;
      case "job":
        await processJob(ctx, target);
        break;
      case "ignored":
        log.info("upload.ignored", { reason: target.reason });
        break;
    }
  }
}

function attemptOf(record: SqsRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}
