import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStorage, type Storage } from "../../../functions/service/storage/s3.ts";

/**
 * Storage.get as the HTTP function meets S3: its ListBucket has a prefix condition, so S3 answers a
 * GET of a missing key 403 AccessDenied, not 404. A small server plays that S3: every GET of an object
 * is refused, and the listing holds only `there`.
 */
const BUCKET = "output";
let server: Server;
let storage: Storage;
let listing = true;
const calls: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://s3.test");
    calls.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.searchParams.get("list-type") === "2") {
      if (!listing) {
        res.writeHead(403, { "content-type": "application/xml" }).end(refusal);
        return;
      }
      const prefix = url.searchParams.get("prefix") ?? "";
      const contents = ["jobs/there.json"]
        .filter((key) => key.startsWith(prefix))
        .map((key) => `<Contents><Key>${key}</Key><Size>2</Size><ETag>"e"</ETag></Contents>`)
        .join("");
      res
        .writeHead(200, { "content-type": "application/xml" })
        .end(`<ListBucketResult><Name>${BUCKET}</Name><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
      return;
    }
    res.writeHead(403, { "content-type": "application/xml" }).end(refusal);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  storage = createStorage({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: "k", secretAccessKey: "s" },
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const refusal = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";

describe("Storage.get refused (403) by S3", () => {
  it("a key the listing does not hold is not found: one GET, one listing of that key", async () => {
    calls.length = 0;
    expect(await storage.get(BUCKET, "jobs/missing.json")).toEqual({ found: false });
    expect(calls).toEqual([
      `GET /${BUCKET}/jobs/missing.json?x-id=GetObject`,
      `GET /${BUCKET}/?list-type=2&prefix=jobs%2Fmissing.json`,
    ]);
  });

  it("a key the listing holds is refused for real: the 403 stands", async () => {
    await expect(storage.get(BUCKET, "jobs/there.json")).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("a listing refused too leaves the refusal standing", async () => {
    listing = false;
    try {
      await expect(storage.get(BUCKET, "jobs/missing.json")).rejects.toMatchObject({ name: "AccessDenied" });
    } finally {
      listing = true;
    }
  });
});
