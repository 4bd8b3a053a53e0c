import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpEvent, HttpResult } from "../../functions/service/events.ts";
import { createHttpHandler, type HttpHandler } from "../../functions/http/handler.ts";
import { createLogger } from "../../functions/service/log.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { startTestService, type TestService, waitFor } from "../helpers/local-service.ts";

// Jobs belong to their caller: the HTTP handler gets API Gateway events with the authorizer context
// IAM auth or a JWT authorizer puts in them, as on AWS. The jobs render through the local service.
let service: TestService;
let handler: HttpHandler;

beforeAll(async () => {
  service = await startTestService();
  handler = createHttpHandler(service.newService(service.config, createLogger("silent")));
});
afterAll(() => service?.stop());

type Caller = { iam: { userArn: string; identityId?: string } } | { jwt: { iss: string; sub: string } } | "none";

const ALICE_ARN = "arn:aws:sts::123456789012:assumed-role/Reports/alice@example.org";
const alice: Caller = { iam: { userArn: ALICE_ARN } };
const bob: Caller = { iam: { userArn: "arn:aws:sts::123456789012:assumed-role/Reports/bob@example.org" } };
const carol: Caller = { jwt: { iss: "https://idp.example.org", sub: "carol-123" } };
const carolElsewhere: Caller = { jwt: { iss: "https://other-idp.example.org", sub: "carol-123" } };
const poolUser = (identityId: string): Caller => ({
  iam: { userArn: "arn:aws:sts::123456789012:assumed-role/PoolRole/CognitoIdentityCredentials", identityId },
});

/** An event as API Gateway sends it for `caller`: IAM auth's or the JWT authorizer's context, or none. */
function eventAs(caller: Caller, method: string, path: string, body?: string): HttpEvent {
  const event = httpEvent(method, path, { body });
  if (caller === "none") return event;
  const authorizer =
    "iam" in caller
      ? {
          iam: {
            accessKey: "ASIAEXAMPLE",
            accountId: "123456789012",
            callerId: "AROAEXAMPLE:session",
            cognitoIdentity: caller.iam.identityId
              ? { amr: ["authenticated"], identityId: caller.iam.identityId, identityPoolId: "us-east-1:pool" }
              : null,
            principalOrgId: "o-example",
            userArn: caller.iam.userArn,
            userId: "AROAEXAMPLE:session",
          },
        }
      : {
          jwt: {
            claims: { iss: caller.jwt.iss, sub: caller.jwt.sub, aud: "report-render", exp: 4102444800 },
            scopes: null,
          },
          principalId: "",
          integrationLatency: 0,
        };
  return { ...event, requestContext: { ...event.requestContext, authorizer } } as HttpEvent;
}

const small = JSON.stringify({
  template: "report",
  data: { title: "归属", lang: "zh-CN", blocks: [{ type: "heading", level: 1, text: "归属" }] },
});

async function submitAs(caller: Caller): Promise<string> {
  const result = await handler(eventAs(caller, "POST", "/v1/jobs", small));
  expect(result.statusCode, String(result.body)).toBe(202);
  return (JSON.parse(String(result.body)) as { jobId: string }).jobId;
}

const getAs = (caller: Caller, jobId: string): Promise<HttpResult> =>
  handler(eventAs(caller, "GET", `/v1/jobs/${jobId}`));

/** What anyone gets for a job that does not exist, for comparison. */
const unknownJob = (jobId: string) => ({ error: "not_found", message: `no job ${jobId}`, errors: [] });

function expectNotFound(result: HttpResult, jobId: string): void {
  expect(result.statusCode).toBe(404);
  // Each answer names its own request (requestId), if the handler adds it; the rest is the same.
  const { requestId: _, ...body } = JSON.parse(String(result.body)) as Record<string, unknown>;
  expect(body).toEqual(unknownJob(jobId));
}

describe("jobs belong to their caller", () => {
  it("an IAM principal sees its job to the end; another principal gets 404, as for an unknown job", async () => {
    const jobId = await submitAs(alice);
    const done = await waitFor(async () => {
      const result = await getAs(alice, jobId);
      expect(result.statusCode).toBe(200);
      const body = JSON.parse(String(result.body)) as { status: string; url?: string };
      return body.status === "done" ? body : undefined;
    });
    expect(done.url).toMatch(/^http/);
    expectNotFound(await getAs(bob, jobId), jobId);
    expectNotFound(await getAs(carol, jobId), jobId);
    expectNotFound(await getAs("none", jobId), jobId);
    // The same answer as for a job that never existed.
    const never = "00000000-0000-4000-8000-000000000000";
    expectNotFound(await getAs(bob, never), never);
  });

  it("a JWT subject sees its own job; the same subject of another issuer does not", async () => {
    const jobId = await submitAs(carol);
    expect((await getAs(carol, jobId)).statusCode).toBe(200);
    expectNotFound(await getAs(carolElsewhere, jobId), jobId);
    expectNotFound(await getAs(alice, jobId), jobId);
  });

  it("users of one Cognito identity pool role are told apart by their identity", async () => {
    const jobId = await submitAs(poolUser("us-east-1:aaaa"));
    expect((await getAs(poolUser("us-east-1:aaaa"), jobId)).statusCode).toBe(200);
    expectNotFound(await getAs(poolUser("us-east-1:bbbb"), jobId), jobId);
  });

  it("without an authorizer (npm start) every job belongs to local: visible without auth only", async () => {
    const jobId = await submitAs("none");
    expect((await getAs("none", jobId)).statusCode).toBe(200);
    expectNotFound(await getAs(alice, jobId), jobId);
    // Through the local server's own HTTP door too.
    expect((await fetch(`${service.url}/v1/jobs/${jobId}`)).status).toBe(200);
  });

  it("the state records a hash of the owner, never the principal, and the answer does not show it", async () => {
    const jobId = await submitAs(alice);
    const got = await service.storage.get(service.config.outputBucket, `jobs/${jobId}/status.json`);
    if (!got.found || "tooLarge" in got) throw new Error("no state");
    const text = got.body.toString("utf8");
    expect(JSON.parse(text)).toMatchObject({ owner: expect.stringMatching(/^iam:[0-9a-f]{64}$/) });
    expect(text).not.toContain("alice");
    expect(text).not.toContain("123456789012");
    expect(String((await getAs(alice, jobId)).body)).not.toContain('"owner"');
  });
});
