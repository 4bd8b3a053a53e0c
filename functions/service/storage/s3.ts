import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { S3Config } from "../settings.ts";
import { contentDisposition } from "./content-disposition.ts";
import { captureAwsClient } from "../tracing.ts";

/** The few S3 operations the service uses, over any S3-compatible endpoint. */
export interface Storage {
  /** The endpoint URL when it is not AWS's (local mode), for /health. */
  readonly endpoint?: string;
  get(bucket: string, key: string, options?: { maxBytes?: number }): Promise<GetResult>;
  put(bucket: string, key: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** A GET URL valid for `expiresIn` seconds; `downloadName` becomes the saved file's name. */
  presign(bucket: string, key: string, options: { expiresIn: number; downloadName?: string }): Promise<string>;
  list(bucket: string, prefix: string): Promise<ObjectInfo[]>;
  delete(bucket: string, key: string): Promise<void>;
  /**
   * Delete `key` for good: in a bucket that keeps versions, every version of it and every delete
   * marker (a plain delete only hides the object behind a marker); elsewhere the object.
   */
  erase(bucket: string, key: string): Promise<void>;
  /**
   * Put JSON `body` and return the new object's ETag. With a condition, only if `key` does not
   * exist yet (`{ ifNoneMatch: "*" }`) or still has the ETag `ifMatch` — the one way S3 lets
   * concurrent writers agree on who came first; undefined when another write came first (412, 409,
   * or 404 for `ifMatch` on a key gone since).
   */
  putJson(bucket: string, key: string, body: string, condition?: PutCondition): Promise<string | undefined>;
  /**
   * Bytes [start, end) of the object and the ETag of the version they were read from; undefined if
   * it is gone or now too short for the range (a newer version). `end` must be greater than `start`.
   */
  getRange(
    bucket: string,
    key: string,
    start: number,
    end: number,
  ): Promise<{ body: Buffer; eTag: string } | undefined>;
}

export type PutCondition = { ifNoneMatch: "*" } | { ifMatch: string };

export type GetResult =
  | { found: true; body: Buffer; eTag: string; size: number }
  | { found: false }
  /** Larger than `maxBytes`: not downloaded. */
  | { found: true; tooLarge: true; eTag: string; size: number };

export interface PutOptions {
  contentType?: string;
  /** The file name browsers save the object as (stored as Content-Disposition). */
  downloadName?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** Without the quotes S3 puts around it. */
  eTag: string;
  lastModified?: Date;
}

export function createStorage(config: S3Config): Storage {
  const client = captureAwsClient(
    new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      credentials: config.credentials,
      // Checksums only where S3 requires them: bodies are buffers of known size, and S3-compatible
      // servers such as s3rver do not understand the aws-chunked trailers the SDK would otherwise send.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    }),
  );

  const storage: Storage = {
    endpoint: config.endpoint,

    async get(bucket, key, options = {}) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const size = out.ContentLength ?? 0;
        const eTag = unquote(out.ETag);
        if (options.maxBytes !== undefined && size > options.maxBytes) {
          // Do not download what will be refused anyway; release the connection.
          await out.Body?.transformToWebStream()
            .cancel()
            .catch(() => undefined);
          return { found: true, tooLarge: true, eTag, size };
        }
        const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
        return { found: true, body: Buffer.from(bytes), eTag, size: bytes.byteLength };
      } catch (e) {
        if (isNotFound(e)) return { found: false };
        // S3 answers a GET of a missing key 403, not 404, unless the caller may list the whole bucket;
        // a role whose ListBucket has a prefix condition (the HTTP function's, infra/constructs/access.ts)
        // gets 403 for a job or template that is not there. Its listing tells missing from refused.
        if (isAccessDenied(e) && !(await isListed(bucket, key))) return { found: false };
        throw e;
      }
    },

    async put(bucket, key, body, options = {}) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: typeof body === "string" ? Buffer.from(body, "utf8") : body,
          ContentType: options.contentType,
          ContentDisposition: options.downloadName ? contentDisposition("attachment", options.downloadName) : undefined,
        }),
      );
    },

    async head(bucket, key) {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { key, size: out.ContentLength ?? 0, eTag: unquote(out.ETag), lastModified: out.LastModified };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },

    async presign(bucket, key, { expiresIn, downloadName }) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ResponseContentDisposition: downloadName ? contentDisposition("attachment", downloadName) : undefined,
      });
      return getSignedUrl(client, command, { expiresIn });
    },

    async list(bucket, prefix) {
      const found: ObjectInfo[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of out.Contents ?? []) {
          if (o.Key) found.push({ key: o.Key, size: o.Size ?? 0, eTag: unquote(o.ETag), lastModified: o.LastModified });
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
      return found;
    },

    async delete(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async erase(bucket, key) {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      try {
        do {
          const out = await client.send(
            new ListObjectVersionsCommand({
              Bucket: bucket,
              Prefix: key,
              KeyMarker: keyMarker,
              VersionIdMarker: versionIdMarker,
            }),
          );
          // The prefix also matches longer keys (jobs/<id>.json.old): only `key` itself goes.
          for (const version of [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]) {
            if (version.Key !== key || version.VersionId === undefined) continue;
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: version.VersionId }));
          }
          keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
          versionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
        } while (keyMarker !== undefined);
      } catch (e) {
        // An S3-compatible server without versions (s3rver: 405) keeps none but the object itself.
        const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
        if (status !== 405 && status !== 501) throw e;
      }
      // Written again since it was listed, or a server that lists no versions: still there.
      if (await storage.head(bucket, key)) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async putJson(bucket, key, body, condition) {
      const precondition =
        condition === undefined
          ? {}
          : "ifMatch" in condition
            ? { IfMatch: `"${condition.ifMatch}"` }
            : { IfNoneMatch: "*" };
      try {
        const out = await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: Buffer.from(body, "utf8"),
            ContentType: "application/json",
            ...precondition,
          }),
        );
        return unquote(out.ETag);
      } catch (e) {
        const lost = condition !== undefined && e instanceof S3ServiceException;
        if (lost && [404, 409, 412].includes(e.$metadata.httpStatusCode ?? 0)) return undefined;
        throw e;
      }
    },

    async getRange(bucket, key, start, end) {
      try {
        const out = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
        );
        const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
        return { body: Buffer.from(bytes), eTag: unquote(out.ETag) };
      } catch (e) {
        if (e instanceof S3ServiceException && [404, 416].includes(e.$metadata.httpStatusCode ?? 0)) return undefined;
        throw e;
      }
    },
  };
  /** Whether `key` is in the bucket's listing; a listing refused too leaves the refusal standing. */
  async function isListed(bucket: string, key: string): Promise<boolean> {
    return storage.list(bucket, key).then(
      (objects) => objects.some((o) => o.key === key),
      () => true,
    );
  }

  return storage;
}

function isNotFound(e: unknown): boolean {
  return (
    e instanceof S3ServiceException &&
    (e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata.httpStatusCode === 404)
  );
}

function isAccessDenied(e: unknown): boolean {
  return e instanceof S3ServiceException && (e.name === "AccessDenied" || e.$metadata.httpStatusCode === 403);
}

function unquote(eTag: string | undefined): string {
  return (eTag ?? "").replace(/^"|"$/g, "");
}
