import type { SqsBatchResponse, SqsEvent, SqsRecord } from "../service/events.ts";
import type { Service } from "../service/service.ts";
import { classifyInputKey } from "../service/storage/keys.ts";
import { processBatch } from "./batch.ts";
import type { UploadContext } from "./context.ts";
import { processJob } from "./job.ts";
import { createdObjects } from "./notification.ts";
import { processReport } from "./report.ts";

/** What the upload door is called with and answers (the local queue calls it too). */
export type UploadHandler = (event: SqsEvent) => Promise<SqsBatchResponse>;

/**
 * The upload door: SQS messages holding S3 ObjectCreated notifications → the render core → the
 * output bucket. A message whose work failed unexpectedly is reported in `batchItemFailures`, so
 * SQS redelivers only that one; refused inputs are answers (error files), not failures.
 */
export function createUploadHandler(service: Service): UploadHandler {
  return async (event) => {
    const batchItemFailures: SqsBatchResponse["batchItemFailures"] = [];
    // One at a time: the stack uses batches of one, and a batch shares this instance's Chromium.
    for (const record of event.Records) {
      try {
        await processMessage(service, record);
      } catch (e) {
        service.log.error("upload.failed", { messageId: record.messageId, attempt: attemptOf(record), error: e });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

async function processMessage(service: Service, record: SqsRecord): Promise<void> {
  const attempt = attemptOf(record);
  for (const object of createdObjects(record)) {
    const log = service.log.child({ requestId: record.messageId, bucket: object.bucket, key: object.key, attempt });
    if (object.bucket !== service.config.inputBucket) {
      log.warn("upload.ignored", { reason: `not the input bucket ${service.config.inputBucket}` });
      continue;
    }
    const ctx: UploadContext = {
      service,
      log,
      messageId: record.messageId,
      lastAttempt: attempt >= service.config.maxReceiveCount,
      // The package types it as always there; s3rver's copies have none.
      eTag: object.eTag?.replace(/^"|"$/g, "") || undefined,
    };
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
