import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  S3Event,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from "aws-lambda";

/**
 * The Lambda events and results this service handles, under the names the code uses: the
 * @types/aws-lambda shapes, plus what that package does not give. The local server builds the
 * same shapes, so a handler cannot tell where it runs.
 */

/** API Gateway HTTP API, payload format 2.0. Header names are lower-case; repeated headers joined with commas. */
export type HttpEvent = APIGatewayProxyEventV2;

/**
 * What the HTTP handler answers: the package's structured payload 2.0 result, with the status
 * always given and string-valued headers (the handler adds to them, the local server writes them).
 */
export interface HttpResult extends APIGatewayProxyStructuredResultV2 {
  statusCode: number;
  headers?: Record<string, string>;
}

export type SqsEvent = SQSEvent;
export type SqsRecord = SQSRecord;
export type SqsBatchResponse = SQSBatchResponse;

/**
 * What S3 sends once, on the queue, when a bucket notification is configured; @types/aws-lambda
 * has no type for it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
 */
export interface S3TestEvent {
  Service: "Amazon S3";
  Event: "s3:TestEvent";
  Time: string;
  Bucket: string;
  RequestId: string;
  HostId: string;
}

/**
 * An S3 event notification (what an SQS message body holds). Keys are URL-encoded, spaces as `+`.
 * Not every record has everything the package's type says: a removal has no size or ETag, and
 * s3rver's copies have no ETag.
 */
export type S3Notification = S3Event | S3TestEvent;
