import type { S3Event } from "aws-lambda";
import type { Logger } from "../service/log.ts";
import type { Storage } from "../service/storage/s3.ts";
import { INCOMING_PREFIX, JOBS_PREFIX } from "../service/storage/keys.ts";

/**
 * What a restart of `npm start` owes: every upload and job request in the input bucket is announced
 * to the queue again, as S3 announced it when it was written. On AWS, SQS keeps the messages of
 * uploads not yet answered across any crash; the local queue lives in memory, so without this a
 * process killed mid-work would leave the uploads it held (and a batch's lines) unanswered for ever.
 *
 * Announcing all of them is safe because the upload handler answers each version once: a version
 * already answered costs a read and is skipped ("upload.skipped"), a batch whose run is unfinished
 * gets the tasks of its lines again and renders only those without an outcome, an ended job's request
 * is gone from the bucket. Returns how many were announced.
 */
export async function offerStoredUploads(
  storage: Storage,
  inputBucket: string,
  accept: (event: S3Event) => void,
  log: Logger,
): Promise<number> {
  const stored = (await Promise.all([INCOMING_PREFIX, JOBS_PREFIX].map((prefix) => storage.list(inputBucket, prefix))))
    .flat()
    // Oldest first, as they were uploaded.
    .sort((a, b) => (a.lastModified?.getTime() ?? 0) - (b.lastModified?.getTime() ?? 0));
  for (const object of stored) {
    const eventTime = (object.lastModified ?? new Date()).toISOString();
    accept({
      Records: [
        {
          eventVersion: "2.1",
          eventSource: "aws:s3",
          awsRegion: "us-east-1",
          eventTime,
          eventName: "ObjectCreated:Put",
          userIdentity: { principalId: "local" },
          requestParameters: { sourceIPAddress: "127.0.0.1" },
          responseElements: { "x-amz-request-id": "restart", "x-amz-id-2": "restart" },
          s3: {
            s3SchemaVersion: "1.0",
            configurationId: "restart",
            bucket: { name: inputBucket, ownerIdentity: { principalId: "local" }, arn: `arn:aws:s3:::${inputBucket}` },
            // The key as the queue's accept() takes it from s3rver: decoded (it encodes it as S3 does).
            object: { key: object.key, size: object.size, eTag: object.eTag, sequencer: "0" },
          },
        },
      ],
    });
  }
  if (stored.length > 0) log.info("local.uploads_offered_again", { count: stored.length });
  return stored.length;
}
