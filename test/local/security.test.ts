import { LOCAL_KEY_FILE } from "../../functions/service/callbacks/local-key.ts";
import { LOCAL_SIGNING_FILE } from "../../functions/service/signing/local-signer.ts";
import { randomUUID } from "node:crypto";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest, rawSocket } from "../helpers/http-raw.ts";
import { startTestService, type TestService } from "../helpers/local-service.ts";

// The local server (npm start) against what a web page the user visits could send it: requests
// under another Host (DNS rebinding), cross-site form posts, cross-origin reads of outputs, and
// S3 keys that try to leave the data folder. No Chromium is needed here.
let service: TestService;
let httpPort: number;
let s3Port: number;

beforeAll(async () => {
  service = await startTestService();
  httpPort = Number(new URL(service.url).port);
  s3Port = Number(new URL(service.s3Endpoint).port);
});
afterAll(() => service?.stop());

async function stillAnswers(): Promise<void> {
  const health = await fetch(`${service.url}/health`);
  expect(health.status).toBe(200);
  expect(((await health.json()) as { status: string }).status).toBe("ok");
}

const handled = () => service.logs.filter((l) => l.message === "http.request").length;

describe("the HTTP server answers only to its own loopback name (DNS rebinding)", () => {
  it("421 for another Host, before the handler", async () => {
    const before = handled();
    for (const host of [
      "evil.example",
      `evil.example:${httpPort}`,
      `127.0.0.1:${httpPort + 1}`,
      "127.0.0.1",
      `0.0.0.0:${httpPort}`,
    ]) {
      const response = await rawRequest(service.url, { path: "/health", headers: { host } });
      expect(response.status, host).toBe(421);
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      expect(response.headers["x-content-type-options"]).toBe("nosniff");
      expect(JSON.parse(response.body)).toMatchObject({ error: "misdirected_request", errors: [] });
    }
    // A rebinding page posting JSON (it is same-origin to its own name) is refused the same way.
    const posted = await rawRequest(service.url, {
      method: "POST",
      path: "/v1/jobs",
      headers: { host: `rebind.example:${httpPort}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(posted.status).toBe(421);
    expect(handled()).toBe(before); // the handler never saw them
    await stillAnswers();
  });

  it("421 for a request with no Host at all (HTTP/1.0)", async () => {
    const answer = await rawSocket(service.url, "GET /health HTTP/1.0\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 421 /);
    await stillAnswers();
  });

  it("serves 127.0.0.1, localhost and [::1] with its port", async () => {
    for (const host of [
      `127.0.0.1:${httpPort}`,
      `localhost:${httpPort}`,
      `LOCALHOST:${httpPort}`,
      `[::1]:${httpPort}`,
    ]) {
      const response = await rawRequest(service.url, { path: "/health", headers: { host } });
      expect(response.status, host).toBe(200);
    }
  });

  it("JSON answers carry nosniff", async () => {
    for (const path of ["/health", "/v1/templates", "/v1/nothing", "/v1/jobs/00000000-0000-4000-8000-000000000000"]) {
      const response = await fetch(`${service.url}${path}`);
      expect(response.headers.get("content-type"), path).toMatch(/^application\/json/);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });
});

describe("a cross-site form cannot post to the API (415)", () => {
  it("refuses the three content types a form can send without a preflight, and none at all", async () => {
    const before = await service.storage.list(service.config.inputBucket, "jobs/");
    const form = new FormData();
    form.append("template", "gov-disclosure-annual-report");
    const attempts: [string, RequestInit][] = [
      [
        "text/plain",
        { body: '{"template":"gov-disclosure-annual-report","data":{}}', headers: { "content-type": "text/plain" } },
      ],
      ["urlencoded", { body: new URLSearchParams({ '{"template":"x"}': "" }) }],
      ["multipart", { body: form }],
      ["none", { body: new TextEncoder().encode("{}") }],
    ];
    for (const path of ["/v1/render", "/v1/jobs"]) {
      for (const [name, init] of attempts) {
        const response = await fetch(`${service.url}${path}`, {
          method: "POST",
          ...init,
          headers: { origin: "https://evil.example", ...init.headers },
        });
        expect(response.status, `${path} ${name}`).toBe(415);
        expect(response.headers.get("access-control-allow-origin")).toBeNull();
        expect(await response.json()).toMatchObject({ error: "unsupported_media_type", errors: [] });
      }
    }
    expect(await service.storage.list(service.config.inputBucket, "jobs/")).toEqual(before);
    await stillAnswers();
  });
});

describe("the output bucket's CORS: the web page's origins and nothing else", () => {
  let url: string;
  beforeAll(async () => {
    const key = `renders/${randomUUID()}/cors.pdf`;
    await service.storage.put(service.config.outputBucket, key, "%PDF-1.7 test", { contentType: "application/pdf" });
    url = await service.storage.presign(service.config.outputBucket, key, { expiresIn: 60, downloadName: "cors.pdf" });
  });

  it("another site gets no Access-Control-Allow-Origin, on GET or on a preflight", async () => {
    for (const origin of ["https://evil.example", "http://127.0.0.1", `http://127.0.0.1:${s3Port}`, "null"]) {
      const get = await fetch(url, { headers: { origin } });
      expect(get.status).toBe(200); // the URL's signature is valid; the browser just may not let the page read it
      expect(get.headers.get("access-control-allow-origin"), origin).toBeNull();
      const preflight = await fetch(url, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "accept" },
      });
      expect(preflight.status).toBe(403);
      expect(preflight.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });

  it("the page (127.0.0.1 or localhost with the HTTP port) may GET, and read the file name", async () => {
    for (const origin of [`http://127.0.0.1:${httpPort}`, `http://localhost:${httpPort}`]) {
      const get = await fetch(url, { headers: { origin } });
      expect(get.status).toBe(200);
      expect(get.headers.get("access-control-allow-origin")).toBe(origin);
      expect(get.headers.get("access-control-expose-headers")).toMatch(/content-disposition/i);
      const preflight = await fetch(url, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "accept" },
      });
      expect(preflight.status).toBe(200);
      expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
      // …but not write.
      const put = await fetch(url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "PUT" } });
      expect(put.headers.get("access-control-allow-origin")).toBeNull();
    }
  });
});

describe("s3rver: loopback Host only, web pages only read", () => {
  it("421 for another Host", async () => {
    const response = await rawRequest(service.s3Endpoint, {
      path: `/${service.config.inputBucket}`,
      headers: { host: `rebind.example:${s3Port}` },
    });
    expect(response.status).toBe(421);
    const ok = await rawRequest(service.s3Endpoint, {
      path: `/${service.config.inputBucket}`,
      headers: { host: `localhost:${s3Port}` },
    });
    expect(ok.status).toBe(200);
  });

  it("403 for a write that carries an Origin (a form post to the input bucket)", async () => {
    const id = randomUUID();
    const boundary = "----form";
    const body = [
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nincoming/${id}.json\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.json"\r\nContent-Type: application/json\r\n\r\n{}\r\n`,
      `--${boundary}--\r\n`,
    ].join("");
    const posted = await rawRequest(service.s3Endpoint, {
      method: "POST",
      path: `/${service.config.inputBucket}`,
      headers: { origin: "https://evil.example", "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(posted.status).toBe(403);
    const put = await rawRequest(service.s3Endpoint, {
      method: "PUT",
      path: `/${service.config.inputBucket}/incoming/${id}.json`,
      headers: { origin: `http://127.0.0.1:${httpPort}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(put.status).toBe(403);
    expect(await service.storage.head(service.config.inputBucket, `incoming/${id}.json`)).toBeUndefined();
  });
});

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe("s3rver keys cannot leave the data folder", () => {
  it("400 for .. segments however they are spelled; nothing is written outside the buckets", async () => {
    const id = randomUUID();
    const input = service.config.inputBucket;
    const output = service.config.outputBucket;
    const name = `escape-${id}.json`;
    const attempts = [
      `/${input}/incoming/../../../${name}`,
      `/${input}/incoming/../../../../${name}`,
      `/${input}/incoming/%2e%2e/%2E%2E/%2e%2e/${name}`,
      `/${input}/incoming%2F..%2F..%2F..%2F${name}`,
      `/${input}/incoming/..%5C..%5C..%5C${name}`,
      `/${input}/incoming/./${name}`,
      `/${output}/../${input}/incoming/${name}`,
      `/%2e%2e/${name}`,
      `/..%2F..%2F${name}`,
      `/${input}/%2e%2e`,
    ];
    for (const path of attempts) {
      const response = await rawRequest(service.s3Endpoint, {
        method: "PUT",
        path,
        headers: { "content-type": "application/json" },
        body: '{"template":"gov-disclosure-annual-report","data":{}}',
      });
      expect(response.status, path).toBe(400);
      expect(response.body).toContain("<Code>");
    }

    // The same through the SDK (signed requests).
    await expect(service.storage.put(input, `incoming/../../../${name}`, "{}")).rejects.toThrow();
    await expect(service.storage.put(output, `../${input}/incoming/${name}`, "{}")).rejects.toThrow();

    // A browser-style POST upload: the key is a form field, which only the store's own check sees.
    const boundary = "----form";
    const form = [
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nincoming/../../../${name}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.json"\r\nContent-Type: application/json\r\n\r\n{}\r\n`,
      `--${boundary}--\r\n`,
    ].join("");
    const posted = await rawRequest(service.s3Endpoint, {
      method: "POST",
      path: `/${input}`,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body: form,
    });
    expect(posted.status).toBe(400);

    // A copy from outside, and a multipart upload id that is a path.
    const copy = await rawRequest(service.s3Endpoint, {
      method: "PUT",
      path: `/${input}/incoming/copy-${id}.json`,
      headers: { "x-amz-copy-source": `/${input}/../../../etc/passwd` },
    });
    expect(copy.status).toBe(400);
    const part = await rawRequest(service.s3Endpoint, {
      method: "PUT",
      path: `/${input}/incoming/part-${id}.json?partNumber=1&uploadId=..%2F..%2F..%2F${name}`,
      body: "{}",
    });
    expect(part.status).toBeGreaterThanOrEqual(400);
    expect(part.status).toBeLessThan(500);
    const partNumber = await rawRequest(service.s3Endpoint, {
      method: "PUT",
      path: `/${input}/incoming/part-${id}.json?partNumber=..%2F..%2F${name}&uploadId=0123abcd`,
      body: "{}",
    });
    expect(partNumber.status).toBe(400);

    // Deleting the bucket ".." would remove the folder above the data folder.
    const deleted = await rawRequest(service.s3Endpoint, { method: "DELETE", path: "/%2e%2e" });
    expect(deleted.status).toBe(400);

    // Nothing outside the two bucket folders but the service's own keys (files, never buckets),
    // nothing named escape-… anywhere near.
    const dataDir = join(service.dir, "s3");
    const keys = [LOCAL_KEY_FILE, LOCAL_SIGNING_FILE];
    expect((await readdir(dataDir)).filter((f) => !keys.includes(f)).sort()).toEqual([input, output].sort());
    const outside = (await filesUnder(service.dir)).filter(
      (f) =>
        !f.startsWith(`s3${sep}${input}${sep}`) &&
        !f.startsWith(`s3${sep}${output}${sep}`) &&
        !keys.some((k) => f === `s3${sep}${k}`),
    );
    expect(outside).toEqual([]);
    const everywhere = [...(await filesUnder(service.dir)), ...(await readdir(tmpdir()))];
    expect(everywhere.filter((f) => f.includes(id))).toEqual([]);
    await stillAnswers();
  });

  it("ordinary keys still work", async () => {
    const key = `notes/a..b/.hidden/${randomUUID()} 年报..txt`;
    await service.storage.put(service.config.inputBucket, key, "{}");
    expect(await service.storage.head(service.config.inputBucket, key)).toBeDefined();
    const got = await service.storage.get(service.config.inputBucket, key);
    expect(got.found).toBe(true);
  });
});
