/**
 * The shapes of the Lambda events and results this service handles: only the fields it reads or
 * writes, after @types/aws-lambda (APIGatewayProxyEventV2, SQSEvent, S3Event, SQSBatchResponse).
 * The local server builds the same shapes, so a handler cannot tell where it runs.
 */

/** API Gateway HTTP API, payload format 2.0. */
export interface HttpEvent {
  version: "2.0";
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  /** Lower-case names; repeated headers joined with commas. */
  headers: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  pathParameters?: Record<string, string | undefined>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix?: string;
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
  };
  body?: string;
  isBase64Encoded: boolean;
}

export interface HttpResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount: string; SentTimestamp: string } & Record<string, string>;
  messageAttributes: Record<string, unknown>;
  md5OfBody: string;
  eventSource: "aws:sqs";
  eventSourceARN: string;
  awsRegion: string;
}

export interface SqsEvent {
  Records: SqsRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** An S3 event notification (what an SQS message body holds). Keys are URL-encoded, spaces as `+`. */
export interface S3Notification {
  Records?: S3NotificationRecord[];
  /** S3 sends `s3:TestEvent` once when a notification is configured. */
  Event?: string;
}

export interface S3NotificationRecord {
  eventSource: string;
  eventName: string;
  eventTime?: string;
  s3: {
    bucket: { name: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer?: string };
  };
}
