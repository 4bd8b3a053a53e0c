import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, resolve, sep } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import S3rver, { type FilesystemStore, type KoaContext } from "s3rver";
import type { S3Notification } from "../service/events.ts";

/** The credentials s3rver accepts out of the box (its default account). */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** s3rver's own error type: thrown from a middleware, it becomes an S3 XML error with its status. */
const S3Error = createRequire(import.meta.url)("s3rver/lib/models/error") as new (
  code: string,
  message: string,
  detail?: Record<string, unknown>,
) => Error;

/**
 * The web page fetches a PDF too large to return inline from its presigned URL, on another origin
 * (another port): the output bucket lets exactly the page's origins GET, and tells them the
 * download's name. No other site can read an output, even with a URL.
 */
function outputCors(origins: readonly string[]): string {
  const allowed = origins.map((o) => `<AllowedOrigin>${escapeXml(o)}</AllowedOrigin>`).join("");
  return (
    `<CORSConfiguration><CORSRule>${allowed}<AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>` +
    `<AllowedHeader>*</AllowedHeader><ExposeHeader>Content-Disposition</ExposeHeader>` +
    `<MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`
  );
}

export interface LocalS3 {
  endpoint: string;
  port: number;
  /** Called with each notification s3rver emits (PUT, POST, COPY, DELETE of an object). */
  onEvent(listener: (event: S3Notification) => void): void;
  close(): Promise<void>;
}

/**
 * s3rver on loopback with the two buckets, its data in `directory` (kept between runs), hardened
 * for a laptop where a browser visits other sites:
 * - only requests addressed to it by its loopback name and port (Host) are served (DNS rebinding);
 * - a request sent by a web page (it carries Origin) may only read, and only the origins in
 *   `corsOrigins` may read the output bucket cross-origin (none if not given);
 * - no bucket name, key, copy source or multipart upload id can reach outside `directory`'s
 *   bucket folders (`..`, `%2e%2e`, `%2F`…): 400;
 * - a PUT with If-None-Match: * or If-Match is honoured as S3 does (s3rver ignores both).
 */
export async function startLocalS3(options: {
  host: string;
  port: number;
  directory: string;
  inputBucket: string;
  outputBucket: string;
  /** Origins (e.g. http://127.0.0.1:3000) allowed to GET outputs cross-origin. Default: none. */
  corsOrigins?: readonly string[];
}): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  const corsOrigins = options.corsOrigins ?? [];
  const server = new S3rver({
    address: options.host,
    port: options.port,
    directory: options.directory,
    silent: true,
    configureBuckets: [
      { name: options.inputBucket },
      { name: options.outputBucket, configs: corsOrigins.length > 0 ? [outputCors(corsOrigins)] : [] },
    ],
  });
  // configureBuckets replaces a configuration but never removes one: drop one an earlier run left.
  if (corsOrigins.length === 0) await server.store.deleteSubresource(options.outputBucket, undefined, "cors");

  confineStore(server.store, options.directory);
  wholeWrites(server.store);
  const writes = conditionalWrites(server.store);
  let port = options.port;
  const hosts = () => new Set([options.host, "127.0.0.1", "localhost"].map((h) => (port === 80 ? h : `${h}:${port}`)));
  // Before s3rver's own middleware (Koa composes the list when the server starts).
  server.middleware.unshift(async (ctx, next) => {
    const host = ctx.get("host").toLowerCase();
    if (!hosts().has(host)) {
      ctx.status = 421;
      ctx.type = "application/xml";
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>MisdirectedRequest</Code><Message>this server answers to ${[...hosts()].join(", ")} only</Message></Error>`;
      return;
    }
    const origin = ctx.get("origin");
    if (origin && !["GET", "HEAD", "OPTIONS"].includes(ctx.method)) {
      // Browsers send Origin with every POST, PUT and DELETE (a form post too); the SDK and the CLI never do.
      throw new S3Error("AccessDenied", "requests from web pages may only read");
    }
    refuseEscapingPaths(ctx);
    await writes(ctx, next);
    // s3rver answers a CORS preflight with "*" once a rule matched: name the origin instead.
    if (ctx.method === "OPTIONS" && ctx.response.get("access-control-allow-origin") === "*") {
      if (corsOrigins.includes(origin)) ctx.set("access-control-allow-origin", origin);
      else ctx.remove("access-control-allow-origin");
      ctx.vary("Origin");
    }
  });

  const address = await server.run();
  port = address.port;
  return {
    endpoint: `http://${options.host}:${address.port}`,
    port: address.port,
    onEvent: (listener) => server.on("event", listener),
    close: () => server.close(),
  };
}

/** `.`/`..` segments (also %-encoded, or behind an encoded `/`) in the path, the copy source or an upload id: 400. */
function refuseEscapingPaths(ctx: KoaContext): void {
  const segments = (raw: string, decode: (s: string) => string) => {
    let decoded: string;
    try {
      decoded = decode(raw);
    } catch {
      throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
    }
    return decoded.split(/[/\\]/);
  };
  const escapes = (parts: string[]) => parts.some((p) => p === "." || p === ".." || p.includes("\0"));

  const pathParts = ctx.path.split("/").flatMap((segment) => segments(segment, decodeURIComponent));
  if (escapes(pathParts)) {
    throw new S3Error("InvalidArgument", "A bucket name or key may not have . or .. segments.", {
      ArgumentName: "key",
    });
  }
  const copySource = ctx.get("x-amz-copy-source");
  if (copySource && escapes(segments(copySource.split("?")[0] ?? "", decodeURIComponent))) {
    throw new S3Error("InvalidArgument", "A copy source may not have . or .. segments.", {
      ArgumentName: "x-amz-copy-source",
    });
  }
  const { uploadId, partNumber } = ctx.query;
  if (uploadId !== undefined && (typeof uploadId !== "string" || !/^[0-9a-f]{1,64}$/i.test(uploadId))) {
    throw new S3Error("NoSuchUpload", "The specified upload does not exist.", { UploadId: String(uploadId) });
  }
  if (partNumber !== undefined && (typeof partNumber !== "string" || !/^\d{1,5}$/.test(partNumber))) {
    throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.", {
      ArgumentName: "partNumber",
    });
  }
}

/**
 * The last line: s3rver's file store joins bucket names and keys into paths (a key `a/../../x` would
 * be written above its bucket). Every path it makes must be a bucket folder directly in `directory`,
 * or lie inside one; anything else is refused with 400 before the file system is touched. (This also
 * covers what no middleware sees: the key field of a browser-style POST upload.)
 */
function confineStore(store: S3rver["store"], directory: string): void {
  const root = resolve(directory);
  const refuse = () =>
    new S3Error("InvalidArgument", "The bucket name or key is not allowed here.", { ArgumentName: "key" });
  const bucketDir = (bucket: string) => {
    const dir = resolve(root, bucket);
    if (dirname(dir) !== root || bucket.includes("/") || bucket.includes("\\")) throw refuse();
    return dir;
  };
  const getBucketPath = store.getBucketPath.bind(store);
  const getResourcePath = store.getResourcePath.bind(store);
  store.getBucketPath = (bucket) => {
    bucketDir(bucket);
    return getBucketPath(bucket);
  };
  store.getResourcePath = (bucket, key, resource) => {
    const dir = bucketDir(bucket);
    const path = getResourcePath(bucket, key, resource);
    if (!resolve(path).startsWith(dir + sep)) throw refuse();
    return path;
  };
}

/**
 * An object's file is written whole before its metadata, and so before the PUT is answered.
 * s3rver's own putObject resolves once its input has been read (the "finish" of the stream that
 * counts the bytes), not once the file stream has written them: under load a GET straight after
 * the PUT's answer found the file empty or cut short. Multipart uploads end here too.
 */
export function wholeWrites(store: FilesystemStore): void {
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, "object");
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash("md5");
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    await pipeline(content, counted, createWriteStream(path));
    const digest = md5.digest("hex");
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}

/**
 * S3 honours If-None-Match: * and If-Match on PutObject (since 2024); s3rver ignores both, and a
 * batch's finishing step depends on them to write each line's outcome and the summary once. So
 * they are checked here, and every write of one key waits for the one before it, so that the check
 * and the write are one step, as on S3. Writes that fail the check answer 412 (404 for If-Match on
 * a missing key, as S3 does).
 */
function conditionalWrites(store: S3rver["store"]): (ctx: KoaContext, next: () => Promise<void>) => Promise<void> {
  const queues = new Map<string, Promise<void>>();
  /** Reads of each key being answered: a write waits for them (s3rver rewrites a file in place). */
  const reading = new Map<string, Set<Promise<void>>>();
  return async (ctx, next) => {
    const [, bucket, ...rest] = ctx.path.split("/");
    const isObject = bucket && rest.length > 0 && rest.join("/") !== "";
    const isObjectWrite = (ctx.method === "PUT" || ctx.method === "DELETE") && isObject;
    if ((ctx.method === "GET" || ctx.method === "HEAD") && isObject) {
      // As on S3, a read sees a whole object: never one half rewritten.
      const id = `${bucket}/${decodeURIComponent(rest.join("/"))}`;
      await queues.get(id);
      const done = new Promise<void>((resolve) => {
        ctx.res.once("close", resolve);
      });
      const set = reading.get(id) ?? new Set();
      reading.set(id, set.add(done));
      void done.then(() => {
        set.delete(done);
        if (set.size === 0 && reading.get(id) === set) reading.delete(id);
      });
      return next();
    }
    if (!isObjectWrite || ctx.query.uploadId !== undefined) return next();
    const key = decodeURIComponent(rest.join("/"));
    const id = `${bucket}/${key}`;
    const before = (queues.get(id) ?? Promise.resolve()).then(() => Promise.all(reading.get(id) ?? []));
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const turn = before.then(() => mine);
    queues.set(id, turn);
    await before;
    try {
      if (ctx.method === "PUT") await checkPreconditions(store, ctx, decodeURIComponent(bucket), key);
      await next();
    } finally {
      release();
      if (queues.get(id) === turn) queues.delete(id);
    }
  };
}

async function checkPreconditions(store: S3rver["store"], ctx: KoaContext, bucket: string, key: string) {
  const noneMatch = ctx.get("if-none-match");
  const match = ctx.get("if-match");
  if (!noneMatch && !match) return;
  const eTag = await store.getMetadata(bucket, key).then(
    (metadata) => String(metadata.etag).replace(/"/g, ""),
    () => undefined,
  );
  const failed = () =>
    new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
      Condition: noneMatch ? "If-None-Match" : "If-Match",
    });
  if (noneMatch === "*" && eTag !== undefined) throw failed();
  if (match) {
    if (eTag === undefined) throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: key });
    if (match.replace(/"/g, "") !== eTag) throw failed();
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
