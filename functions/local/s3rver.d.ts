/** The part of s3rver (no types of its own) that the local server uses. */
declare module "s3rver" {
  import type { EventEmitter } from "node:events";
  import type { AddressInfo } from "node:net";

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /** The part of Koa's context (s3rver is a Koa app) a middleware of ours uses. */
  export interface KoaContext {
    method: string;
    /** The URL's path, still %-encoded. */
    path: string;
    query: Record<string, string | string[] | undefined>;
    status: number;
    type: string;
    body: unknown;
    response: { get(name: string): string };
    /** Node's response: "close" once the answer is sent or the client has gone. */
    res: import("node:http").ServerResponse;
    get(name: string): string;
    set(name: string, value: string): void;
    remove(name: string): void;
    vary(name: string): void;
  }

  export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void;

  /** s3rver's FilesystemStore: buckets are folders of `rootDirectory`, keys paths below them. */
  export interface FilesystemStore {
    rootDirectory: string;
    getBucketPath(bucket: string): string;
    getResourcePath(bucket: string, key?: string, resource?: string): string;
    deleteSubresource(bucket: string, key: string | undefined, resourceType: string): Promise<void>;
    /** An object's metadata (`etag` with its quotes); rejects if there is no such object. */
    getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
    /** Writes an object's metadata file (and its MD5's). */
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
    /** Writes an object (its file, then its metadata): PUTs and multipart uploads end here. */
    putObject(object: S3ObjectToStore): Promise<{ size: number; md5: string }>;
  }

  /** s3rver's S3Object, as putObject is given one. */
  export interface S3ObjectToStore {
    bucket: string;
    key: string;
    content: Buffer | NodeJS.ReadableStream;
    metadata: Record<string, string>;
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rverOptions);
    /** Koa's middleware list; composed when the server starts (run). */
    middleware: KoaMiddleware[];
    store: FilesystemStore;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }

  export default S3rver;
}
