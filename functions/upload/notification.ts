import type { S3Notification } from "../service/events.ts";
import { decodeEventKey } from "../service/storage/keys.ts";

/** An object S3 said was created. */
export interface CreatedObject {
  bucket: string;
  key: string;
  eTag?: string;
}

/**
 * The created objects an SQS message body (parsed JSON) announces. S3's one-off `s3:TestEvent` and
 * removals announce none. A body that is not an S3 notification throws: it goes back to the queue
 * and, after the last attempt, to the dead-letter queue where someone can look at it.
 */
export function createdObjects(messageId: string, body: unknown): CreatedObject[] {
  const notS3 = () => new Error(`message ${messageId} is not an S3 notification`);
  if (typeof body !== "object" || body === null) throw notS3();
  const notification = body as S3Notification;
  if ("Event" in notification && notification.Event === "s3:TestEvent") return [];
  if (!("Records" in notification) || !Array.isArray(notification.Records)) throw notS3();
  return notification.Records.filter((r) => r.eventSource === "aws:s3" && r.eventName.startsWith("ObjectCreated:")).map(
    (r) => ({ bucket: r.s3.bucket.name, key: decodeEventKey(r.s3.object.key), eTag: r.s3.object.eTag }),
  );
}
