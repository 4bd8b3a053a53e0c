import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerClientError, loopbackHosts, serveHttpEvents } from "../../functions/local/http-adapter.ts";
import { createHttpHandler } from "../../functions/http/handler.ts";
import { createLogger } from "../../functions/service/log.ts";
import { rawRequest, rawSocket } from "../helpers/http-raw.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { startTestService, type TestService } from "../helpers/local-service.ts";

// A client's x-request-id is never the request's id: not answered back, not what the log lines are
// found by. Only a well-formed one is logged, as clientRequestId. No Chromium is needed here.
let service: TestService;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

async function send(
  value: string,
): Promise<{ id: string; body: Record<string, unknown>; log?: Record<string, unknown> }> {
  const response = await rawRequest(service.url, {
    path: "/no/such/path",
    headers: { host: new URL(service.url).host, "x-request-id": value },
  });
  expect(response.status).toBe(404);
  const id = String(response.headers["x-request-id"]);
  const log = service.logs.find((l) => l.message === "http.request" && l.requestId === id);
  return { id, body: JSON.parse(response.body) as Record<string, unknown>, log };
}

describe("a client's x-request-id", () => {
  it("a forged one (another request's id) is not taken: the answer and the log have their own; it is logged as clientRequestId", async () => {
    const other = await send("abc");
    const forged = await send(other.id);
    expect(forged.id).toMatch(uuid);
    expect(forged.id).not.toBe(other.id);
    expect(forged.body.requestId).toBe(forged.id);
    expect(forged.log).toMatchObject({ requestId: forged.id, clientRequestId: other.id });
    // The other request's lines are still its own alone.
    expect(service.logs.filter((l) => l.requestId === other.id && l.message === "http.request")).toHaveLength(1);
  });

  it("huge, odd or repeated ones are not logged at all, and never answered back", async () => {
    const values = [
      "x".repeat(129),
      "y".repeat(8000),
      "has space",
      '"quoted"',
      "<script>alert(1)</script>",
      "a,b", // two headers, joined
      "ünïcödé",
      "tab\there",
      "",
    ];
    for (const value of values) {
      const answer = await send(value);
      expect(answer.id, value.slice(0, 20)).toMatch(uuid);
      expect(answer.log, value.slice(0, 20)).toBeDefined();
      expect(answer.log && "clientRequestId" in answer.log, value.slice(0, 20)).toBe(false);
    }
    const written = JSON.stringify(service.logs);
    expect(written).not.toContain("y".repeat(200));
    expect(written).not.toContain("<script>");
  });

  it("two x-request-id headers on the wire: still one id of its own", async () => {
    const answer = await rawSocket(
      service.url,
      `GET /health HTTP/1.1\r\nHost: ${new URL(service.url).host}\r\nx-request-id: a\r\nx-request-id: b\r\nConnection: close\r\n\r\n`,
    );
    const ids = [...answer.matchAll(/^x-request-id: (.*)\r$/gim)].map((m) => m[1]);
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(uuid);
  });

  it("on Lambda the id is API Gateway's (requestContext), whatever the header says", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger("info", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const handler = createHttpHandler(service.newService(service.config, log));
    const event = httpEvent("GET", "/nowhere", { headers: { "x-request-id": "forged-id" } });
    const result = await handler(event);
    expect(result.headers?.["x-request-id"]).toBe(event.requestContext.requestId);
    expect(JSON.parse(result.body ?? "{}")).toMatchObject({ requestId: event.requestContext.requestId });
    expect(lines.find((l) => l.message === "http.request")).toMatchObject({
      requestId: event.requestContext.requestId,
      clientRequestId: "forged-id",
    });
  });
});

describe("requests node:http refuses itself (a control character in a header, a header too large)", () => {
  // What server.ts installs as its server's clientError handler.
  let server: Server;
  let url: string;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const log = createLogger("info", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    server = createServer(
      serveHttpEvents(async () => ({ statusCode: 200, body: "" }), { allowedHosts: loopbackHosts(0), log }),
    );
    server.on("clientError", answerClientError(log));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it.each([
    ["a control character in x-request-id", "x-request-id: a\x01b\r\n", 400],
    ["a bare CR in x-request-id (header injection)", "x-request-id: a\rset-cookie: x=1\r\n", 400],
    ["a header larger than Node takes", `x-request-id: ${"z".repeat(20_000)}\r\n`, 431],
  ])("%s: %i, with an id of its own and nothing of the header echoed", async (_what, header, status) => {
    const answer = await rawSocket(url, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${header}Connection: close\r\n\r\n`);
    expect(answer.split("\r\n")[0]).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    const id = /^x-request-id: (.*)\r$/im.exec(answer)?.[1];
    expect(id).toMatch(uuid);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toMatchObject({
      error: "bad_request",
      requestId: id,
    });
    expect(answer).not.toContain("set-cookie");
    expect(answer).not.toContain("zzzz");
    expect(lines.find((l) => l.requestId === id)).toMatchObject({ message: "local.http_refused", status });
  });
});
