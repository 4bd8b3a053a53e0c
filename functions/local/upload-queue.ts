import { createHash, randomUUID } from "node:crypto";
import pLimit from "p-limit";
import type { S3Notification, SqsRecord } from "../service/events.ts";
import type { Logger } from "../service/log.ts";
import { encodeEventKey, INCOMING_PREFIX, JOBS_PREFIX } from "../service/storage/keys.ts";
import type { UploadHandler } from "../upload/handler.ts";
import type { LineTaskQueue } from "../upload/line-queue.ts";
import { lineTaskBody } from "../upload/line-task.ts";

/**
 * What S3 → SQS → Lambda does on AWS, in process: each ObjectCreated notification for the input
 * bucket becomes an SQS message (URL-encoded key, as S3 writes it) delivered to the upload handler
 * in a batch of one; a failed message is delivered again after a pause, up to `maxReceiveCount`
 * times, then dropped (where AWS would move it to the dead-letter queue). A batch's line tasks are
 * messages on it too (the line queue on AWS), under the same concurrency limit.
 */
export interface UploadQueue {
  /** Feed it s3rver's events. */
  accept(event: S3Notification): void;
  /** Where the upload handler sends a batch's line tasks. */
  lineTasks: LineTaskQueue;
  /** Resolves once every accepted message has been handled (or given up on). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Message {
  body: string;
  messageId: string;
  receiveCount: number;
  /** The queue it is on, as the event source ARN names it. */
  queue: "uploads" | "batch-lines";
}

export function createUploadQueue(options: {
  inputBucket: string;
  handler: UploadHandler;
  maxReceiveCount: number;
  log: Logger;
  /** Upload handler invocations at once (Lambda's concurrency); default 2. */
  concurrency?: number;
  retryDelayMs?: number;
}): UploadQueue {
  const { inputBucket, handler, maxReceiveCount, log } = options;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  // Rejects what clearQueue() drops, so that close() counts it as gone.
  const limit = pLimit({ concurrency: options.concurrency ?? 2, rejectOnClear: true });
  /** Messages handed to `limit`, queued or being delivered. */
  let inFlight = 0;
  /** Messages waiting to be delivered again. */
  const retryTimers = new Set<NodeJS.Timeout>();
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  const settleIfIdle = () => {
    if (inFlight === 0 && retryTimers.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  const send = (message: Message) => {
    if (closed) return;
    inFlight++;
    const settled = () => {
      inFlight--;
      settleIfIdle();
    };
    // deliver never throws: a rejection is close() dropping the message before its turn.
    limit(deliver, message).then(settled, settled);
  };

  const deliver = async (message: Message) => {
    message.receiveCount++;
    let failed: boolean;
    try {
      const response = await handler({ Records: [sqsRecord(message)] });
      failed = response.batchItemFailures.some((f) => f.itemIdentifier === message.messageId);
    } catch (e) {
      log.error("local.upload_handler_threw", { messageId: message.messageId, error: e });
      failed = true;
    }
    if (!failed || closed) return;
    if (message.receiveCount >= maxReceiveCount) {
      log.error("local.dead_letter", { messageId: message.messageId, body: message.body });
      return;
    }
    // Set before this delivery settles, so the queue is never idle in between.
    const timer = setTimeout(() => {
      retryTimers.delete(timer);
      send(message);
      settleIfIdle();
    }, retryDelayMs);
    retryTimers.add(timer);
  };

  const idle = () =>
    new Promise<void>((resolve) => {
      idleWaiters.push(resolve);
      settleIfIdle();
    });

  return {
    accept(event) {
      if (!("Records" in event)) return; // s3:TestEvent
      for (const record of event.Records) {
        const key = record.s3.object.key;
        // The stack's notification filters: created objects under incoming/ and jobs/ of the input bucket.
        const wanted =
          record.s3.bucket.name === inputBucket &&
          record.eventName.startsWith("ObjectCreated:") &&
          (key.startsWith(INCOMING_PREFIX) || key.startsWith(JOBS_PREFIX));
        if (!wanted) continue;
        const encoded = { ...record, s3: { ...record.s3, object: { ...record.s3.object, key: encodeEventKey(key) } } };
        send({
          body: JSON.stringify({ Records: [encoded] }),
          messageId: randomUUID(),
          receiveCount: 0,
          queue: "uploads",
        });
      }
    },
    lineTasks: {
      async send(tasks) {
        if (closed) throw new Error("the local queue is closed");
        for (const task of tasks) {
          send({ body: lineTaskBody(task), messageId: randomUUID(), receiveCount: 0, queue: "batch-lines" });
        }
      },
    },
    idle,
    async close() {
      closed = true;
      limit.clearQueue();
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      await idle(); // the deliveries under way
    },
  };

  function sqsRecord(message: Message): SqsRecord {
    return {
      messageId: message.messageId,
      receiptHandle: randomUUID(),
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(Date.now()),
        SenderId: "s3.amazonaws.com",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: createHash("md5").update(message.body).digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:report-render-${message.queue}`,
      awsRegion: "us-east-1",
    };
  }
}
