import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
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
/** `deadline` (ms since the epoch): when work that may wait, such as a callback's retries, must have stopped. */
export type UploadHandler = (event: SqsEvent, options?: { deadline?: number }) => Promise<SqsBatchResponse>;

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
  return async (event, options = {}) => {
    // The line queue delivers up to LINE_TASKS_PER_INVOCATION tasks, rendered at once; the upload queue one message.
    const limit = pLimit(LINE_TASKS_PER_INVOCATION);
    const handle = (record: SqsRecord) =>
      limit(async () => {
        try {
          await processMessage(service, record, { lineTasks }, options.deadline);
        } catch (e) {
          service.log.error("upload.failed", { messageId: record.messageId, attempt: attemptOf(record), error: e });
          service.metrics.failed("internal");
          throw e;
        }
      });
    // Powertools' batch processor reports the failed messages; one per call, as it keeps them (the
    // local queue may call at once). All failing is an answer too: each message retried alone.
    const processor = new BatchProcessor(EventType.SQS);
    try {
      return await processPartialResponse(event, handle, processor, { throwOnFullBatchFailure: false });
    } finally {
      service.metrics.flush();
    }
  };
}

async function processMessage(
  service: Service,
  record: SqsRecord,
  parts: Required<UploadDoorParts>,
  deadline: number | undefined,
): Promise<void> {
  const attempt = attemptOf(record);
  const context = (log: Logger, eTag: string | undefined): BatchContext => ({
    service,
    log,
    messageId: record.messageId,
    lastAttempt: attempt >= service.config.maxReceiveCount,
    eTag,
    deadline,
    ...parts,
  });
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new Error(`message ${record.messageId} is not JSON`);
  }
  const queued = queuedAt(record, body);
  if (queued !== undefined) service.metrics.queueAge(Date.now() - queued);

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

/**
 * When the work of a message was asked for: the upload's S3 event (the earliest, if it names
 * several), else when SQS received the message (a line task). Undefined for a message without work.
 */
function queuedAt(record: SqsRecord, body: unknown): number | undefined {
  const records = (body as { Records?: unknown })?.Records;
  if (Array.isArray(records)) {
    const times = records
      .map((r) => Date.parse(String((r as { eventTime?: unknown })?.eventTime)))
      .filter(Number.isFinite);
    return times.length > 0 ? Math.min(...times) : undefined;
  }
  if ((body as { Event?: unknown })?.Event === "s3:TestEvent") return undefined;
  const sent = Number(record.attributes.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? sent : undefined;
}

function attemptOf(record: SqsRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}
