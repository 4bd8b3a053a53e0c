import { createHash, randomUUID } from "node:crypto";
import type { S3Event, SQSRecord } from "aws-lambda";
import type { HttpEvent, SqsEvent } from "../../functions/service/events.ts";
import { encodeEventKey } from "../../functions/service/storage/keys.ts";
import type { UploadHandler } from "../../functions/upload/handler.ts";
import type { LineTaskQueue } from "../../functions/upload/line-queue.ts";
import { type LineTask, lineTaskBody } from "../../functions/upload/line-task.ts";

const API_HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com";

/** What API Gateway (HTTP API, payload 2.0, $default route) sends the HTTP function. */
export function httpEvent(
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): HttpEvent {
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: {
      host: API_HOST,
      "x-forwarded-proto": "https",
      "x-forwarded-for": "203.0.113.7",
      "user-agent": "artifact-test",
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdef1234",
      domainName: API_HOST,
      domainPrefix: "abcdef1234",
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "artifact-test" },
    },
    body: options.body,
    isBase64Encoded: false,
  };
}

/**
 * What the SQS event source sends the upload function for one S3 ObjectCreated notification.
 * Without `eTag`, the notification's is empty, which the handler takes as none (it then goes by
 * the object it reads).
 */
export function sqsS3Event(
  bucket: string,
  key: string,
  options: { receiveCount?: number; eTag?: string } = {},
): SqsEvent {
  const notification: S3Event = {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: new Date().toISOString(),
        eventName: "ObjectCreated:Put",
        userIdentity: { principalId: "AWS:AIDAEXAMPLE" },
        requestParameters: { sourceIPAddress: "203.0.113.7" },
        responseElements: { "x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "artifact-test" },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "uploads",
          bucket: { name: bucket, ownerIdentity: { principalId: "A3NL1KOZZKExample" }, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeEventKey(key), size: 1, eTag: options.eTag ?? "", sequencer: "0A1B2C3D4E5F678901" },
        },
      },
    ],
  };
  return sqsMessage(JSON.stringify(notification), {
    receiveCount: options.receiveCount,
    sender: "AIDAS3",
    queueArn: "arn:aws:sqs:us-east-1:123456789012:ReportRender-Uploads",
  });
}

/**
 * What the line queue's event source sends the upload function for one line task; `body` as it is
 * when a string (a forged or broken message).
 */
export function sqsLineTaskEvent(body: LineTask | string, options: { receiveCount?: number } = {}): SqsEvent {
  return sqsMessage(typeof body === "string" ? body : lineTaskBody(body), {
    receiveCount: options.receiveCount,
    sender: "AROAUPLOADFUNCTION:ReportRender-UploadFunction",
    queueArn: "arn:aws:sqs:us-east-1:123456789012:ReportRender-batch-lines",
  });
}

/** A line queue that keeps what is sent, for a test to deliver when, how often and in what order it likes. */
export function keptLineTasks(): LineTaskQueue & { sent: LineTask[]; take(): LineTask[] } {
  const sent: LineTask[] = [];
  return {
    sent,
    async send(tasks) {
      sent.push(...tasks);
    },
    take: () => sent.splice(0, sent.length),
  };
}

/**
 * A line queue that delivers each task to the handler at once, as SQS would (a failed one again,
 * up to `maxReceiveCount` times); `send` resolves when every task is handled, so a batch message's
 * handler returns when the whole batch is.
 */
export function deliveredLineTasks(handler: () => UploadHandler, maxReceiveCount = 3): LineTaskQueue {
  return {
    async send(tasks) {
      await Promise.all(
        tasks.map(async (task) => {
          for (let receiveCount = 1; receiveCount <= maxReceiveCount; receiveCount++) {
            const response = await handler()(sqsLineTaskEvent(task, { receiveCount }));
            if (response.batchItemFailures.length === 0) return;
          }
        }),
      );
    },
  };
}

function sqsMessage(body: string, options: { receiveCount?: number; sender: string; queueArn: string }): SqsEvent {
  const record: SQSRecord = {
    messageId: randomUUID(),
    receiptHandle: "AQEB-artifact-test",
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: options.sender,
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: options.queueArn,
    awsRegion: "us-east-1",
  };
  return { Records: [record] };
}
