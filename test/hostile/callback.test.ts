import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CALLBACK_DELIVERY,
  type CallbackSettings,
  callbackSettings,
} from "../../functions/service/callbacks/callback-settings.ts";
import { deliverCallback } from "../../functions/service/callbacks/deliver.ts";
import { checkCallbackUrl, type Lookup } from "../../functions/service/callbacks/target.ts";
import { createLogger } from "../../functions/service/log.ts";
import { postJson, startTestService, type TestService, waitFor } from "../helpers/local-service.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";

// Callbacks attacked from both ends: URLs and callback objects that try to reach what they must not
// or to break the request, and receivers that hang, redirect, flood or hang up. Whatever they do, the
// render completes and the job records what became of its callback.

/** A receiver whose behaviour is its path; counts what it was sent and what it wrote back. */
function startReceiver() {
  const hits: string[] = [];
  const sockets = new Set<Socket>();
  let floodBytes = 0;
  const flood = (res: ServerResponse, status: number) => {
    res.writeHead(status, { "content-type": "application/octet-stream" });
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const more = () => {
      // Up to 1 GB, as long as the client reads it.
      while (!res.destroyed && floodBytes < 1024 ** 3) {
        floodBytes += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", more);
      }
      res.end();
    };
    more();
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const path = req.url ?? "";
      hits.push(path);
      if (path === "/hang") return; // never answers
      if (path === "/close") return void req.socket.destroy();
      if (path === "/redirect") return void res.writeHead(302, { location: "/ok" }).end();
      if (path === "/flood") return flood(res, 200);
      if (path === "/flood-500") return flood(res, 500);
      if (path === "/huge-headers") return void res.writeHead(200, { "x-pad": "a".repeat(64 * 1024) }).end();
      res.writeHead(200).end();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return new Promise<{ port: number; hits: string[]; flooded: () => number; close: () => void }>((done) =>
    server.listen(0, "127.0.0.1", () =>
      done({
        port: (server.address() as AddressInfo).port,
        hits,
        flooded: () => floodBytes,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let service: TestService;

beforeAll(async () => {
  receiver = await startReceiver();
  service = await startTestService({
    callback: {
      ...CALLBACK_DELIVERY,
      allowedHosts: [`127.0.0.1:${receiver.port}`, "example.com"],
      timeoutMs: 1000,
      attempts: 2,
      backoffMs: 10,
    },
  });
});
afterAll(async () => {
  await service?.stop();
  receiver?.close();
});

const hook = (path: string) => `http://127.0.0.1:${receiver.port}${path}`;

function small(text: string, callback: unknown): Record<string, unknown> {
  return {
    template: "report",
    data: { title: text, lang: "zh-CN", blocks: [{ type: "heading", level: 1, text }] },
    options: { callback },
  };
}

/** Submit a job calling back to `path`; its final state once the callback is no longer pending. */
async function jobCallingBack(path: string): Promise<Record<string, unknown> & { callback: Record<string, unknown> }> {
  const response = await postJson(`${service.url}/v1/jobs`, small(`回调${path}`, { url: hook(path) }));
  expect(response.status).toBe(202);
  const { statusUrl } = (await response.json()) as { statusUrl: string };
  return waitFor(async () => {
    const response = await fetch(statusUrl);
    // s3rver writes a state in place: a read in that instant may find it half written (500).
    if (response.status !== 200) return undefined;
    const body = (await response.json()) as Record<string, unknown> & { callback: Record<string, unknown> };
    return body.callback.status === "pending" ? undefined : body;
  });
}

/** The render completed whatever the receiver did: the job is done and its PDF downloads. */
async function expectRendered(state: Record<string, unknown>, text: string): Promise<void> {
  expect(state.status).toBe("done");
  const pdf = new Uint8Array(await (await fetch(String(state.url))).arrayBuffer());
  expect(squash((await pageTexts(pdf)).join(""))).toContain(text);
}

describe("receivers that misbehave", () => {
  it("one that never answers: each attempt times out, the callback fails, the job is done", async () => {
    const started = Date.now();
    const state = await jobCallingBack("/hang");
    expect(state.callback).toMatchObject({ status: "failed", attempts: 2, lastError: "no answer within 1 s" });
    expect(state.callback).not.toHaveProperty("lastStatus");
    expect(Date.now() - started).toBeLessThan(15_000);
    await expectRendered(state, "回调/hang");
  });

  it("one that redirects: the redirect is not followed; a failed callback, not retried", async () => {
    const before = receiver.hits.filter((h) => h === "/ok").length;
    const state = await jobCallingBack("/redirect");
    expect(state.callback).toMatchObject({ status: "failed", attempts: 1, lastStatus: 302 });
    expect(receiver.hits.filter((h) => h === "/ok").length).toBe(before);
    await expectRendered(state, "回调/redirect");
  });

  it("one that answers 200 and a gigabyte: delivered on its status, the body left unread", async () => {
    const state = await jobCallingBack("/flood");
    expect(state.callback).toMatchObject({ status: "delivered", attempts: 1, lastStatus: 200 });
    // What it managed to write before the service hung up: socket buffers, not the gigabyte.
    expect(receiver.flooded()).toBeLessThan(64 * 1024 * 1024);
    await expectRendered(state, "回调/flood");
  });

  it("one that answers 500 and a gigabyte: retried, then failed, never read", async () => {
    const state = await jobCallingBack("/flood-500");
    expect(state.callback).toMatchObject({ status: "failed", attempts: 2, lastStatus: 500 });
    expect(receiver.flooded()).toBeLessThan(128 * 1024 * 1024);
    await expectRendered(state, "回调/flood-500");
  });

  it("one that closes the socket: retried, then failed with the network error", async () => {
    const state = await jobCallingBack("/close");
    expect(state.callback).toMatchObject({ status: "failed", attempts: 2 });
    expect(String(state.callback.lastError)).toMatch(/socket hang up|ECONNRESET/);
    expect(receiver.hits.filter((h) => h === "/close")).toHaveLength(2);
    await expectRendered(state, "回调/close");
  });

  it("one whose headers are 64 KB: refused by the parser, failed", async () => {
    const state = await jobCallingBack("/huge-headers");
    expect(state.callback).toMatchObject({ status: "failed", attempts: 2 });
    expect(String(state.callback.lastError)).toMatch(/header/i);
    await expectRendered(state, "回调/huge-headers");
  });
});

describe("callback objects that are not { url }", () => {
  const refusedAt = async (callback: unknown, path: string, message: RegExp) => {
    const response = await postJson(`${service.url}/v1/jobs`, small("垃圾", callback));
    const body = (await response.json()) as { error: string; errors: { path: string; message: string }[] };
    expect(response.status, JSON.stringify(body).slice(0, 500)).toBe(422);
    expect(body.error).toBe("invalid_options");
    expect(body.errors[0]?.path).toBe(path);
    expect(body.errors[0]?.message).toMatch(message);
    return body;
  };

  it.each([
    ["a string", "https://example.com/cb", /must be an object/],
    ["null", null, /must be an object .*, not null/],
    ["an array", [{ url: "https://example.com/cb" }], /not an array/],
    ["a number", 42, /not a number/],
  ])("%s", async (_name, callback, message) => {
    await refusedAt(callback, "/options/callback", message);
  });

  it.each([
    ["a url that is a number", { url: 42 }, /must be a string/],
    ["a url that is an object", { url: { href: "https://example.com" } }, /must be a string/],
    ["no url", {}, /must be a string/],
    ["3 MB of url", { url: `https://example.com/${"a".repeat(3 * 1024 * 1024)}` }, /at most 2,000 characters/],
    ["a javascript: url", { url: "javascript:alert(1)" }, /https URL/],
    ["a data: url", { url: "data:text/plain,x" }, /https URL/],
    ["a url with control characters", { url: "https://exa\u0000mple.com/" }, /absolute https URL/],
  ])("%s", async (_name, callback, message) => {
    await refusedAt(callback, "/options/callback/url", message);
  });

  it("unknown fields are named, one issue each, listed up to the limit", async () => {
    const callback: Record<string, unknown> = { url: "https://example.com/cb", secret: "x", "a/b~c": 1 };
    for (let i = 0; i < 5000; i++) callback[`k${i}`] = i;
    const body = await refusedAt(callback, "/options/callback/secret", /unknown property "secret"/);
    expect(body.errors[1]?.path).toBe("/options/callback/a~1b~0c");
    expect(body.errors.length).toBeLessThanOrEqual(100);
    expect((body as { truncated?: number }).truncated).toBeGreaterThan(4000);
  });

  it("a callback on a batch line is refused for that line, with where to put it instead", async () => {
    const line = JSON.stringify(small("批", { url: hook("/batch") }));
    await service.storage.put(service.config.inputBucket, "incoming/cb-batch.jsonl", `${line}\n`, {
      contentType: "application/x-ndjson",
    });
    await service.uploadsIdle();
    const got = await service.storage.get(service.config.outputBucket, "cb-batch.summary.json");
    if (!got.found || "tooLarge" in got) throw new Error("no summary");
    const summary = JSON.parse(got.body.toString("utf8")) as { items: Record<string, unknown>[] };
    expect(summary.items[0]).toMatchObject({ error: "invalid_options", errors: [{ path: "/options/callback" }] });
    expect(receiver.hits).not.toContain("/batch");
  });
});

describe("callback URLs that try to reach what they must not", () => {
  const settings: CallbackSettings = {
    ...CALLBACK_DELIVERY,
    allowedHosts: ["hooks.example.org", "rebind.example.org", "mixed.example.org", "10.1.2.3:8080"],
    secret: "k".repeat(32),
    timeoutMs: 500,
    attempts: 2,
    backoffMs: 1,
  };
  /** A resolver with fixed answers (what a hostile DNS server may say). */
  const dns =
    (table: Record<string, string[]>): Lookup =>
    async (hostname) => {
      const addresses = table[hostname];
      if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
  const publicDns = dns({ "hooks.example.org": ["93.184.215.14"], "mixed.example.org": ["93.184.215.14", "10.0.0.7"] });
  const refused = async (url: string, lookup: Lookup = publicDns) => {
    try {
      await checkCallbackUrl(url, settings, lookup);
    } catch (e) {
      return (e as { issues: { path: string; message: string }[] }).issues[0];
    }
    throw new Error(`${url} was accepted`);
  };

  it.each([
    ["octal 127.0.0.1", "https://0177.0.0.1/", /127\.0\.0\.1 is a loopback/],
    ["hex 127.0.0.1", "https://0x7f000001/", /loopback/],
    ["short 127.1", "https://127.1/", /loopback/],
    ["IPv4-mapped in hex", "https://[::ffff:7f00:1]/", /loopback/],
    ["NAT64 of the metadata endpoint", "https://[64:ff9b::a9fe:a9fe]/", /link-local/],
    ["6to4 of a private address", "https://[2002:a00:1::]/", /private/],
    ["IPv6 link-local", "https://[fe80::1]/", /link-local/],
    ["IPv6 unique-local (EC2's IPv6 metadata)", "https://[fd00:ec2::254]/", /unique-local/],
    ["IPv6 unspecified", "https://[::]/", /unspecified/],
    ["carrier-grade NAT", "https://100.64.0.1/", /carrier-grade NAT/],
    ["multicast", "https://224.0.0.1/", /multicast/],
    ["a listed address on another port", "http://10.1.2.3:8081/", /private address/],
    ["a trailing dot", "https://hooks.example.org./", /not a host/],
    ["a listed name with a port not listed", "https://hooks.example.org:8443/", /not a host/],
    ["a name with a private address among public ones", "https://mixed.example.org/", /10\.0\.0\.7, a private/],
    ["a name that does not resolve", "https://rebind.example.org/", /does not resolve/],
    ["userinfo before a listed host", "https://hooks.example.org:x@evil.example/", /not a host|credentials/],
    ["a backslash trick", "https://evil.example\\@hooks.example.org/", /credentials|not a host/],
  ])("%s", async (_name, url, message) => {
    expect((await refused(url))?.message).toMatch(message);
  });

  it("what passes: a listed name resolving to public addresses (any case), a listed private address", async () => {
    await expect(checkCallbackUrl("https://HOOKS.example.org/cb?x=1#f", settings, publicDns)).resolves.toMatchObject({
      address: "93.184.215.14",
      url: new URL("https://hooks.example.org/cb?x=1"),
    });
    await expect(checkCallbackUrl("http://10.1.2.3:8080/cb", settings, publicDns)).resolves.toMatchObject({
      address: "10.1.2.3",
    });
  });

  it("DNS rebinding: a name public when the job was accepted, loopback at delivery, is not called", async () => {
    let lookups = 0;
    const rebinding: Lookup = async () => {
      lookups++;
      return [{ address: lookups === 1 ? "93.184.215.14" : "127.0.0.1", family: 4 }];
    };
    await checkCallbackUrl("https://rebind.example.org/cb", settings, rebinding);
    const hitsBefore = receiver.hits.length;
    const record = await deliverCallback({
      settings,
      owner: "local",
      url: "https://rebind.example.org/cb",
      body: "{}",
      requestId: "r",
      log: createLogger("silent"),
      lookup: rebinding,
    });
    expect(record).toMatchObject({ status: "failed", attempts: 0 });
    expect(record.lastError).toMatch(/resolves to 127\.0\.0\.1, a loopback address/);
    expect(receiver.hits.length).toBe(hitsBefore);
  });
});

describe("callback settings that would open more than they say stop the start-up", () => {
  const names = { allowedHosts: "CALLBACK_ALLOWED_HOSTS", secret: "CALLBACK_SECRET", secretArn: "CALLBACK_SECRET_ARN" };
  const load = (env: Record<string, string>) => callbackSettings(env, names);

  it.each([
    ["a path", "hooks.example.org/cb"],
    ["userinfo", "user@hooks.example.org"],
    ["a wildcard", "*.example.org"],
    ["a short IPv4 spelling", "127.1"],
    ["a port out of range", "hooks.example.org:99999"],
    ["a scheme", "https://hooks.example.org"],
  ])("an allowed host with %s", (_name, entry) => {
    expect(() => load({ CALLBACK_ALLOWED_HOSTS: `example.com,${entry}` })).toThrow(/CALLBACK_ALLOWED_HOSTS/);
  });

  it("entries are trimmed, lower-cased and written as a URL names their host", () => {
    const settings = load({ CALLBACK_ALLOWED_HOSTS: " Hooks.Example.org , 10.0.0.5:8080,[::1]:9000,," });
    expect(settings.allowedHosts).toEqual(["hooks.example.org", "10.0.0.5:8080", "[::1]:9000"]);
  });

  it("a guessable key or an ARN that is not a secret's", () => {
    expect(() => load({ CALLBACK_SECRET: "short" })).toThrow(/CALLBACK_SECRET must be at least 32/);
    expect(() => load({ CALLBACK_SECRET_ARN: "arn:aws:s3:::bucket" })).toThrow(/CALLBACK_SECRET_ARN/);
    expect(
      load({ CALLBACK_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cb-AbCdEf" }).secretArn,
    ).toMatch(/^arn:aws:secretsmanager:eu-west-1:/);
  });
});
