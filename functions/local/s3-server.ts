import { mkdir } from "node:fs/promises";
import S3rver from "s3rver";
import type { S3Notification } from "../events.ts";

/** The credentials s3rver accepts out of the box (its default account). */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/**
 * The web page fetches a PDF too large to return inline from its presigned URL, on another origin:
 * the output bucket lets any origin GET (the URL's signature is the access control).
 */
const OUTPUT_CORS = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>
<AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

export interface LocalS3 {
  endpoint: string;
  port: number;
  /** Called with each notification s3rver emits (PUT, POST, COPY, DELETE of an object). */
  onEvent(listener: (event: S3Notification) => void): void;
  close(): Promise<void>;
}

/** s3rver on loopback with the two buckets, its data in `directory` (kept between runs). */
export async function startLocalS3(options: {
  host: string;
  port: number;
  directory: string;
  inputBucket: string;
  outputBucket: string;
}): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: options.host,
    port: options.port,
    directory: options.directory,
    silent: true,
    configureBuckets: [{ name: options.inputBucket }, { name: options.outputBucket, configs: [OUTPUT_CORS] }],
  });
  const address = await server.run();
  return {
    endpoint: `http://${options.host}:${address.port}`,
    port: address.port,
    onEvent: (listener) => server.on("event", listener),
    close: () => server.close(),
  };
}
