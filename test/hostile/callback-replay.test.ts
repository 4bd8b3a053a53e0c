import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpHandler, type HttpHandler } from "../../functions/http/handler.ts";
import { CALLBACK_DELIVERY } from "../../functions/service/callbacks/callback-settings.ts";
import {
  ReplayGuard,
  SIGNATURE_TOLERANCE_SECONDS as RECEIVERS_TOLERANCE,
  verifyCallback,
} from "../../examples/callbacks/verify-callback.ts";
import { SIGNATURE_TOLERANCE_SECONDS } from "../../functions/service/callbacks/signature.ts";
import type { HttpEvent } from "../../functions/service/events.ts";
import { createLogger } from "../../functions/service/log.ts";
import { createService } from "../../functions/service/service.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { startTestService, type TestService, waitFor } from "../helpers/local-service.ts";

// Callbacks bound to their caller: each portal verifies with its own key, sees its own owner in
// what is signed, and refuses a delivery replayed, aged, altered or meant for another portal. The
// jobs are submitted as API Gateway events with IAM auth's context (as on AWS) and rendered by the
// local service, whose callbacks go to receivers on loopback that check them as README.md says
// (examples/callbacks/verify-callback.ts).

type Caller = { arn: string };
const alice: Caller = { arn: "arn:aws:sts::123456789012:assumed-role/PortalA/alice" };
const bob: Caller = { arn: "arn:aws:sts::123456789012:assumed-role/PortalB/bob" };

function eventAs(caller: Caller, method: string, path: string, body?: string): HttpEvent {
  const event = httpEvent(method, path, { body });
  const iam = { accessKey: "ASIAEXAMPLE", accountId: "123456789012", cognitoIdentity: null, userArn: caller.arn };
  return { ...event, requestContext: { ...event.requestContext, authorizer: { iam } } } as HttpEvent;
}

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  verdict: ReturnType<typeof verifyCallback>;
}

interface Portal {
  owner: string;
  key: string;
}

/**
 * Two portals' receivers on one loopback server, `/a` and `/b`: each verifies with its own portal's
 * key and owner, remembers what it took (one guard each), answers 204 when it takes a callback and
 * 401 when it does not.
 */
function startReceivers(portals: () => Record<string, Portal>) {
  const deliveries: Delivery[] = [];
  const guards: Record<string, ReplayGuard> = { "/a": new ReplayGuard(), "/b": new ReplayGuard() };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      const body = Buffer.concat(chunks);
      const portal = portals()[path];
      const guard = guards[path];
      const verdict =
        portal && guard
          ? verifyCallback({
              header: req.headers["x-report-render-signature"] as string | undefined,
              body,
              key: portal.key,
              owner: portal.owner,
              seen: guard,
            })
          : ({ ok: false, reason: "no such receiver" } as const);
      deliveries.push({ path, headers: req.headers, body, verdict });
      res.writeHead(verdict.ok ? 204 : 401).end();
    });
  });
  return new Promise<{ port: number; deliveries: Delivery[]; close: () => void }>((done) =>
    server.listen(0, "127.0.0.1", () =>
      done({ port: (server.address() as AddressInfo).port, deliveries, close: () => server.close() }),
    ),
  );
}

let receivers: Awaited<ReturnType<typeof startReceivers>>;
let service: TestService;
let handler: HttpHandler;
const portals: Record<string, Portal> = {};

beforeAll(async () => {
  receivers = await startReceivers(() => portals);
  service = await startTestService({
    callback: { ...CALLBACK_DELIVERY, allowedHosts: [`127.0.0.1:${receivers.port}`], attempts: 1 },
  });
  handler = createHttpHandler(createService(service.config, createLogger("silent")));
  portals["/a"] = await keyOf(alice);
  portals["/b"] = await keyOf(bob);
});
afterAll(async () => {
  await service?.stop();
  receivers?.close();
});

async function keyOf(caller: Caller): Promise<Portal> {
  const result = await handler(eventAs(caller, "GET", "/v1/callbacks/key"));
  expect(result.statusCode).toBe(200);
  return JSON.parse(String(result.body)) as Portal;
}

const url = (path: string) => `http://127.0.0.1:${receivers.port}${path}`;

/** A job of `caller` calling back to `path`; its final state (as its owner reads it) once the callback ended. */
async function jobOf(caller: Caller, path: string, text: string): Promise<Record<string, unknown>> {
  const envelope = {
    template: "report",
    data: { title: text, lang: "zh-CN", blocks: [{ type: "heading", level: 1, text }] },
    options: { callback: { url: url(path) } },
  };
  const posted = await handler(eventAs(caller, "POST", "/v1/jobs", JSON.stringify(envelope)));
  expect(posted.statusCode, String(posted.body)).toBe(202);
  const { jobId } = JSON.parse(String(posted.body)) as { jobId: string };
  return waitFor(async () => {
    const got = await handler(eventAs(caller, "GET", `/v1/jobs/${jobId}`));
    if (got.statusCode !== 200) return undefined;
    const state = JSON.parse(String(got.body)) as Record<string, unknown> & { callback?: { status: string } };
    return state.callback && state.callback.status !== "pending" ? state : undefined;
  });
}

/** Send a captured delivery again, as an attacker who saw it would: the same bytes, the same signature. */
async function replay(delivery: Delivery, path = delivery.path, body: Buffer | string = delivery.body) {
  const response = await fetch(url(path), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-report-render-signature": String(delivery.headers["x-report-render-signature"]),
    },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  return { status: response.status, verdict: (receivers.deliveries.at(-1) as Delivery).verdict };
}

let taken: Delivery;

describe("each portal's callbacks are its own", () => {
  it("each caller gets a key of its own, which names its owner; no two callers share one", async () => {
    const a = portals["/a"] as Portal;
    const b = portals["/b"] as Portal;
    expect(a.owner).toMatch(/^iam:[0-9a-f]{64}$/);
    expect(a.owner).not.toBe(b.owner);
    expect(a.key).not.toBe(b.key);
    const whoami = await handler(eventAs(alice, "GET", "/v1/whoami"));
    expect(JSON.parse(String(whoami.body))).toEqual({ owner: a.owner });
    // The same caller asking again gets the same key (receivers set up once keep verifying).
    expect((await keyOf(alice)).key).toBe(a.key);
  });

  it("alice's job calls back to alice's receiver, which takes it: her key, her owner, her job", async () => {
    const state = await jobOf(alice, "/a", "甲方回调");
    expect(state.callback).toMatchObject({ status: "delivered", lastStatus: 204 });
    taken = receivers.deliveries.find((d) => d.path === "/a") as Delivery;
    expect(taken.verdict).toMatchObject({ ok: true, body: { owner: portals["/a"]?.owner, jobId: state.jobId } });
  });

  it("a job of bob's sent to alice's receiver is refused there (another key), taken at bob's", async () => {
    const misdirected = await jobOf(bob, "/a", "乙方错投");
    expect(misdirected.callback).toMatchObject({ status: "failed", lastStatus: 401 });
    const refused = receivers.deliveries.filter((d) => d.path === "/a").at(-1) as Delivery;
    expect(refused.verdict).toEqual({ ok: false, reason: "the signature is not made with this key over this body" });
    const own = await jobOf(bob, "/b", "乙方回调");
    expect(own.callback).toMatchObject({ status: "delivered" });
  });
});

describe("what a receiver refuses", () => {
  it("the example receiver keeps the window the service announces (GET /v1/callbacks/key)", () => {
    expect(RECEIVERS_TOLERANCE).toBe(SIGNATURE_TOLERANCE_SECONDS);
  });

  it("the same delivery sent again (a replay inside the window)", async () => {
    const again = await replay(taken);
    expect(again.status).toBe(401);
    expect(again.verdict).toEqual({ ok: false, reason: "this delivery was taken before (a replay)" });
  });

  it("a delivery older than 5 minutes, even at a receiver that never saw it", () => {
    const header = String(taken.headers["x-report-render-signature"]);
    const t = Number(/t=(\d+)/.exec(header)?.[1]) * 1000;
    const portal = portals["/a"] as Portal;
    const at = (now: number) => verifyCallback({ header, body: taken.body, ...portal, seen: new ReplayGuard(), now });
    expect(at(t + 299_000)).toMatchObject({ ok: true });
    expect(at(t + 301_000)).toEqual({ ok: false, reason: "its timestamp is 301 s from now" });
    expect(at(t - 301_000)).toEqual({ ok: false, reason: "its timestamp is -301 s from now" });
  });

  it("alice's delivery replayed to bob's receiver", async () => {
    const elsewhere = await replay(taken, "/b");
    expect(elsewhere.verdict).toEqual({ ok: false, reason: "the signature is not made with this key over this body" });
  });

  it("the body changed under the signature (another job id, another status)", async () => {
    const body = JSON.parse(taken.body.toString("utf8")) as Record<string, unknown>;
    for (const forged of [
      { ...body, status: "failed" },
      { ...body, jobId: "00000000-0000-4000-8000-000000000000" },
    ]) {
      const result = await replay(taken, "/a", JSON.stringify(forged));
      expect(result.status).toBe(401);
      expect(result.verdict).toMatchObject({ ok: false, reason: expect.stringMatching(/signature is not made/) });
    }
  });

  it("a delivery bob signs with his own key, claiming to be about alice's job", async () => {
    const body = JSON.stringify({ ...JSON.parse(taken.body.toString("utf8")), status: "failed" });
    const t = Math.floor(Date.now() / 1000);
    const bobs = createHmac("sha256", (portals["/b"] as Portal).key)
      .update(`${t}.${body}`)
      .digest("hex");
    const forged = { ...taken, headers: { "x-report-render-signature": `t=${t},v1=${bobs}` } };
    const result = await replay(forged, "/a", body);
    expect(result.verdict).toMatchObject({ ok: false, reason: expect.stringMatching(/signature is not made/) });
  });

  it("a signature without its timestamp, or the old unstamped form", async () => {
    const v1 = /v1=([0-9a-f]{64})/.exec(String(taken.headers["x-report-render-signature"]))?.[1];
    for (const header of [`v1=${v1}`, `sha256=${v1}`, `t=,v1=${v1}`, ""]) {
      const result = await replay({ ...taken, headers: { "x-report-render-signature": header } });
      expect(result.status, header).toBe(401);
      expect(result.verdict).toMatchObject({ ok: false, reason: expect.stringMatching(/no signature header/) });
    }
  });
});
