import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpHandler, type HttpHandler } from "../../functions/http/handler.ts";
import type { HttpEvent } from "../../functions/service/events.ts";
import { createLogger } from "../../functions/service/log.ts";
import { rawRequest } from "../helpers/http-raw.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { startTestService, type TestService } from "../helpers/local-service.ts";

// The URL a job's answer points to (Location, statusUrl) is made from what the request came with:
// X-Forwarded-Proto and the API's domain name. Whatever a client writes there, the link is an
// http(s) URL of this API, or a path on it; never a javascript: URL or another host's.
let service: TestService;
let handler: HttpHandler;
beforeAll(async () => {
  service = await startTestService();
  handler = createHttpHandler(service.newService(service.config, createLogger("silent")));
});
afterAll(() => service?.stop());

const API_HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com";
const JOB = JSON.stringify({
  template: "report",
  data: { title: "链接", lang: "zh-CN", blocks: [{ type: "heading", level: 1, text: "链接" }] },
});
const JOB_PATH = /^\/v1\/jobs\/[0-9a-f-]{36}$/;

/** POST /v1/jobs as API Gateway would send it, with the headers and domain name given. */
async function postJob(headers: Record<string, string>, domainName = API_HOST) {
  const event = httpEvent("POST", "/v1/jobs", { body: JOB, headers });
  const sent: HttpEvent = { ...event, requestContext: { ...event.requestContext, domainName } };
  const result = await handler(sent);
  const body = JSON.parse(String(result.body)) as { statusUrl: string };
  return { status: result.statusCode, location: result.headers?.location, statusUrl: body.statusUrl };
}

describe("X-Forwarded-Proto on AWS (the HTTP function's events)", () => {
  it.each([
    ["javascript", "https"],
    ["data", "https"],
    ["javascript, https", "https"],
    ["", "https"],
    ["https", "https"],
    ["HTTP", "http"],
    ["http, https", "http"],
  ])("%j gives a %s link", async (proto, scheme) => {
    const answer = await postJob({ "x-forwarded-proto": proto });
    expect(answer.status).toBe(202);
    expect(answer.location).toBe(answer.statusUrl);
    const url = new URL(answer.statusUrl);
    expect(url.protocol).toBe(`${scheme}:`);
    expect(url.host).toBe(API_HOST);
    expect(url.pathname).toMatch(JOB_PATH);
  });

  it("the Host and X-Forwarded-Host a client sends are not what the link names: API Gateway's domain name is", async () => {
    const answer = await postJob({ host: "evil.example", "x-forwarded-host": "evil.example" });
    expect(answer.status).toBe(202);
    expect(new URL(answer.statusUrl).host).toBe(API_HOST);
  });

  it.each([
    "evil.example/phish?",
    "user@evil.example",
    "evil.example:99999",
    "evil.example:80:80",
    "evil example",
    "-evil.example",
    "",
  ])("a domain name that is no host[:port] (%j) is not echoed: the link is a path", async (domainName) => {
    const answer = await postJob({}, domainName);
    expect(answer.status).toBe(202);
    expect(answer.statusUrl).toMatch(JOB_PATH);
    expect(answer.location).toBe(answer.statusUrl);
  });

  it("a host with a port, an IPv4 and an IPv6 address are links as they are", async () => {
    for (const host of ["reports.example.org:8443", "192.0.2.10:3000", "[2001:db8::1]:3000"]) {
      const answer = await postJob({}, host);
      expect(answer.statusUrl.startsWith(`https://${host}/v1/jobs/`), answer.statusUrl).toBe(true);
    }
  });
});

describe("X-Forwarded-Proto on the local server (npm start)", () => {
  it("is not taken from the client: the link is the server's own http URL", async () => {
    for (const proto of ["javascript", "https", "ftp"]) {
      const response = await rawRequest(service.url, {
        method: "POST",
        path: "/v1/jobs",
        headers: { "content-type": "application/json", "x-forwarded-proto": proto },
        body: JOB,
      });
      expect(response.status, response.body).toBe(202);
      const { statusUrl } = JSON.parse(response.body) as { statusUrl: string };
      expect(response.headers.location).toBe(statusUrl);
      expect(statusUrl.startsWith(`${service.url}/v1/jobs/`), statusUrl).toBe(true);
    }
  });

  it("another Host is refused before any link is made (421)", async () => {
    const response = await rawRequest(service.url, {
      method: "POST",
      path: "/v1/jobs",
      headers: { "content-type": "application/json", host: "evil.example" },
      body: JOB,
    });
    expect(response.status).toBe(421);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).not.toContain("evil.example/v1/jobs");
  });
});
