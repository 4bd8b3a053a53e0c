import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import S3rver, { type FilesystemStore } from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wholeWrites } from "../../functions/local/s3-server.ts";

/**
 * The local S3 (`npm start`, the tests) answers a PUT only once the object's file is written whole.
 * s3rver's own putObject wrote the metadata (and the answer followed) while its file stream still
 * held the last bytes: a GET straight after could read an empty or short file, as a callback test
 * did once under load. Here each metadata write records the object file's size at that moment.
 */
let directory: string;
let store: FilesystemStore;
const sizesAtMetadata: number[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "local-s3-writes-"));
  store = new S3rver({ directory, silent: true }).store;
  wholeWrites(store);
  const putMetadata = store.putMetadata.bind(store);
  store.putMetadata = async (bucket, key, metadata, md5) => {
    sizesAtMetadata.push((await stat(store.getResourcePath(bucket, key, "object"))).size);
    return putMetadata(bucket, key, metadata, md5);
  };
});
afterAll(() => rm(directory, { recursive: true, force: true }));

describe("the local S3's object writes", () => {
  it("an object sent as a stream (a PUT's body) is on disk whole before its metadata is written", async () => {
    for (const chunks of [
      [Buffer.from('{"callback":{"status":"pending"}}')],
      Array(24).fill(Buffer.alloc(1 << 20, "x")),
    ]) {
      const length = chunks.reduce((sum: number, c: Buffer) => sum + c.length, 0);
      sizesAtMetadata.length = 0;
      const written = await store.putObject({
        bucket: "bucket",
        key: "a/stream.json",
        content: Readable.from(chunks),
        metadata: { "content-type": "application/json" },
      });
      expect(written.size).toBe(length);
      expect(sizesAtMetadata).toEqual([length]);
    }
  });

  it("an object given as bytes is too, with their MD5 and its metadata", async () => {
    const bytes = Buffer.from('{"status":"delivered"}');
    sizesAtMetadata.length = 0;
    const written = await store.putObject({
      bucket: "bucket",
      key: "a/bytes.json",
      content: bytes,
      metadata: { "content-type": "application/json" },
    });
    expect(written).toEqual({ size: bytes.length, md5: createHash("md5").update(bytes).digest("hex") });
    expect(sizesAtMetadata).toEqual([bytes.length]);
    expect(await readFile(store.getResourcePath("bucket", "a/bytes.json", "object"))).toEqual(bytes);
    expect(await store.getMetadata("bucket", "a/bytes.json")).toMatchObject({ "content-type": "application/json" });
  });
});
