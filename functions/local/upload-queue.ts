import { createHash, randomUUID } from "node:crypto";
import type { S3Notification, SqsBatchResponse, SqsEvent, SqsRecord } from "../service/events.ts";
import type { Logger } from "../service/log.ts";
import { encodeEventKey, INCOMING_PREFIX, JOBS_PREFIX } from "../service/storage/keys.ts";

/**
 * What S3 → SQS → Lambda does on AWS, in process: each ObjectCreated notification for the input
 * bucket becomes an SQS message (URL-encoded key, as S3 writes it) delivered to the upload handler
 * in a batch of one; a failed message is delivered again after a pause, up to `maxReceiveCount`
 * times, then dropped (where AWS would move it to the dead-letter queue).
 */
export interface UploadQueue {
  /** Feed it s3rver's events. */
  accept(event: S3Notification): void;
  /** Resolves once every accepted message has been handled (or given up on). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Message {
  body: string;
  messageId: string;
  receiveCount: number;
}

export function createUploadQueue(options: {
  inputBucket: string;
  handler: (event: SqsEvent) => Promise<SqsBatchResponse>;
  maxReceiveCount: number;
  log: Logger;
  /** Upload handler invocations at once (Lambda's concurrency); default 2. */
  concurrency?: number;
  retryDelayMs?: number;
}): UploadQueue {
  const { inputBucket, handler, maxReceiveCount, log } = options;
  const concurrency = options.concurrency ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const waiting: Message[] = [];
  let running = 0;
  const retryTimers = new Set<NodeJS.Timeout>();
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  const settleIfIdle = () => {
    if (waiting.length === 0 && running === 0 && retryTimers.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  const pump = () => {
    while (!closed && running < concurrency && waiting.length > 0) {
      const message = waiting.shift() as Message;
      running++;
      deliver(message).finally(() => {
        running--;
        pump();
        settleIfIdle();
      });
    }
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
    if (!failed) return;
    if (message.receiveCount >= maxReceiveCount) {
      log.error("local.dead_letter", { messageId: message.messageId, body: message.body });
      return;
    }
    const timer = setTimeout(() => {
      retryTimers.delete(timer);
      waiting.push(message);
      pump();
      settleIfIdle();
    }, retryDelayMs);
    retryTimers.add(timer);
  };

  return {
    accept(event) {
      for (const record of event.Records ?? []) {
        const key = record.s3.object.key;
        // The stack's notification filters: created objects under incoming/ and jobs/ of the input bucket.
        const wanted =
          record.s3.bucket.name === inputBucket &&
          record.eventName.startsWith("ObjectCreated:") &&
          (key.startsWith(INCOMING_PREFIX) || key.startsWith(JOBS_PREFIX));
        if (!wanted || closed) continue;
        const encoded = { ...record, s3: { ...record.s3, object: { ...record.s3.object, key: encodeEventKey(key) } } };
        waiting.push({ body: JSON.stringify({ Records: [encoded] }), messageId: randomUUID(), receiveCount: 0 });
      }
      pump();
    },
    idle() {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        settleIfIdle();
      });
    },
    async close() {
      closed = true;
      waiting.length = 0;
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      await new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIfIdle();
      });
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
      eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:report-render-uploads",
      awsRegion: "us-east-1",
    };
  }
}
