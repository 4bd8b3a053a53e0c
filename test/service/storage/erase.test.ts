import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStorage, type Storage } from "../../../functions/service/storage/s3.ts";

/**
 * Storage.erase against a bucket that keeps versions, as S3's input bucket does: a small server that
 * answers the S3 REST calls erase makes (ListObjectVersions, two entries a page so that it pages;
 * DELETE with and without versionId; HEAD) from its own table of versions. s3rver keeps no versions;
 * erase over s3rver is in test/http/jobs.test.ts.
 */
interface Version {
  versionId: string;
  deleteMarker: boolean;
}

const BUCKET = "input";
const versions = new Map<string, Version[]>();
const calls: string[] = [];
let server: Server;
let storage: Storage;
let nextId = 0;

function write(key: string, deleteMarker = false): void {
  versions.set(key, [...(versions.get(key) ?? []), { versionId: `v${++nextId}`, deleteMarker }]);
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://s3.test");
  const key = decodeURIComponent(url.pathname.slice(`/${BUCKET}/`.length));
  calls.push(`${req.method} ${url.pathname}${url.search}`);
  if (req.method === "GET" && url.searchParams.has("versions")) {
    listVersions(url, res);
    return;
  }
  const list = versions.get(key) ?? [];
  if (req.method === "HEAD") {
    const latest = list.at(-1);
    res.writeHead(latest && !latest.deleteMarker ? 200 : 404, { etag: '"e"', "content-length": "1" }).end();
    return;
  }
  if (req.method === "DELETE") {
    const versionId = url.searchParams.get("versionId");
    if (versionId === null) write(key, true);
    else
      versions.set(
        key,
        list.filter((v) => v.versionId !== versionId),
      );
    res.writeHead(204).end();
    return;
  }
  res.writeHead(400).end();
}

/** ListObjectVersions: every version and delete marker under the prefix, key order then newest first. */
function listVersions(url: URL, res: ServerResponse): void {
  const prefix = url.searchParams.get("prefix") ?? "";
  const all = [...versions.entries()]
    .filter(([key]) => key.startsWith(prefix))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([key, list]) => [...list].reverse().map((v) => ({ key, ...v })));
  const keyMarker = url.searchParams.get("key-marker");
  const idMarker = url.searchParams.get("version-id-marker");
  const from = keyMarker === null ? 0 : all.findIndex((v) => v.key === keyMarker && v.versionId === idMarker) + 1;
  const page = all.slice(from, from + 2);
  const truncated = from + 2 < all.length;
  const last = page.at(-1);
  const entries = page.map((v) => {
    const tag = v.deleteMarker ? "DeleteMarker" : "Version";
    return `<${tag}><Key>${v.key}</Key><VersionId>${v.versionId}</VersionId><IsLatest>false</IsLatest></${tag}>`;
  });
  const next =
    truncated && last
      ? `<NextKeyMarker>${last.key}</NextKeyMarker><NextVersionIdMarker>${last.versionId}</NextVersionIdMarker>`
      : "";
  res.writeHead(200, { "content-type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult><Name>${BUCKET}</Name><Prefix>${prefix}</Prefix>` +
      `<IsTruncated>${truncated}</IsTruncated>${next}${entries.join("")}</ListVersionsResult>`,
  );
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  storage = createStorage({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("Storage.erase in a bucket that keeps versions", () => {
  it("deletes every version and delete marker of the key, and nothing of a longer key it prefixes", async () => {
    const key = "jobs/00000000-0000-4000-8000-000000000001.json";
    write(key);
    write(key);
    write(key, true);
    write(key);
    write(`${key}.old`);
    calls.length = 0;

    await storage.erase(BUCKET, key);

    expect(versions.get(key)).toEqual([]);
    expect(versions.get(`${key}.old`)).toHaveLength(1);
    // It paged through the listing (two entries a page) and deleted each version by its id.
    expect(calls.filter((c) => c.startsWith("GET")).length).toBeGreaterThanOrEqual(3);
    expect(calls.filter((c) => c.startsWith("DELETE") && c.includes("versionId="))).toHaveLength(4);
    // No plain DELETE: that would only have added a delete marker.
    expect(calls.filter((c) => c.startsWith("DELETE") && !c.includes("versionId="))).toEqual([]);
    expect(await storage.head(BUCKET, key)).toBeUndefined();
  });

  it("a key with no versions at all: nothing to delete, no error", async () => {
    calls.length = 0;
    await storage.erase(BUCKET, "jobs/00000000-0000-4000-8000-000000000002.json");
    expect(calls.filter((c) => c.startsWith("DELETE"))).toEqual([]);
  });
});
