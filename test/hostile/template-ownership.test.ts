import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpHandler, type HttpHandler } from "../../functions/http/handler.ts";
import { writeZip } from "../../functions/packages/index.ts";
import type { HttpEvent, HttpResult } from "../../functions/service/events.ts";
import { createLogger } from "../../functions/service/log.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { startTestService, type TestService } from "../helpers/local-service.ts";
import { rawZip, text } from "../helpers/package-zips.ts";

// A published template is its first publisher's: other publishers (who hold the same publish
// permission) can neither replace nor withdraw it; only an administrator hands it over. The HTTP
// handler gets API Gateway events with the authorizer context IAM auth puts in them, as on AWS;
// the packages land in the local service's S3.
let service: TestService;
let handler: HttpHandler;

beforeAll(async () => {
  service = await startTestService();
  handler = createHttpHandler(service.newService(service.config, createLogger("silent")));
});
afterAll(() => service?.stop());

/** An IAM principal (SigV4), a JWT's subject (a stack with a JWT authorizer), or nobody (npm start). */
type Caller = { arn: string } | { jwt: { sub: string; scope?: string } } | "none";

const ALICE_ARN = "arn:aws:sts::123456789012:assumed-role/Publishers/alice@portal-a.example.org";
const alice: Caller = { arn: ALICE_ARN };
const bob: Caller = { arn: "arn:aws:sts::123456789012:assumed-role/Publishers/bob@portal-b.example.org" };
const admin: Caller = { arn: "arn:aws:sts::123456789012:assumed-role/Administrators/root-of-templates" };
const ADMIN_ROUTE = "PUT /v1/admin/templates/{id}/owner";

const POOL = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123";

/**
 * An event as API Gateway sends it: by `routeKey` (the route API Gateway matched, and authorized as
 * that route requires), signed by `caller` with IAM auth, with a JWT the authorizer took (its
 * context as API Gateway puts it), or with no authorizer (npm start).
 */
function eventAs(
  caller: Caller,
  method: string,
  path: string,
  options: { body?: Uint8Array | string; routeKey?: string } = {},
): HttpEvent {
  const zip = options.body instanceof Uint8Array;
  const event = httpEvent(method, path, {
    ...(options.body === undefined
      ? {}
      : { body: zip ? Buffer.from(options.body as Uint8Array).toString("base64") : (options.body as string) }),
    headers: { "content-type": zip ? "application/zip" : "application/json" },
  });
  const routeKey = options.routeKey ?? "$default";
  const authorizer =
    caller === "none"
      ? undefined
      : "jwt" in caller
        ? {
            jwt: {
              claims: { iss: POOL, sub: caller.jwt.sub, client_id: "page-client", token_use: "access" },
              scopes: caller.jwt.scope?.split(" ") ?? ["openid", "email"],
            },
          }
        : {
            iam: {
              accessKey: "ASIAEXAMPLE",
              accountId: "123456789012",
              callerId: "AROAEXAMPLE:session",
              cognitoIdentity: null,
              principalOrgId: "o-example",
              userArn: caller.arn,
              userId: "AROAEXAMPLE:session",
            },
          };
  return {
    ...event,
    routeKey,
    isBase64Encoded: zip,
    requestContext: { ...event.requestContext, routeKey, ...(authorizer ? { authorizer } : {}) },
  } as HttpEvent;
}

const PUBLISH_ROUTE = "PUT /v1/templates/{id}";

function files(id: string, heading = "通知"): Map<string, Uint8Array> {
  return new Map(
    Object.entries({
      "template.json": JSON.stringify({ id, title: `Notice ${id}` }),
      "template.hbs": `<h1>${heading}</h1>\n<p>{{title}}</p>\n`,
      "schema.json": '{ "type": "object", "properties": { "title": { "type": "string" } } }',
      "example.json": '{ "title": "x" }',
    }).map(([name, value]) => [name, text(value)]),
  );
}

const publish = (caller: Caller, id: string, zip: Uint8Array) =>
  handler(eventAs(caller, "PUT", `/v1/templates/${id}`, { body: zip, routeKey: PUBLISH_ROUTE }));
const withdraw = (caller: Caller, id: string) =>
  handler(eventAs(caller, "DELETE", `/v1/templates/${id}`, { routeKey: "DELETE /v1/templates/{id}" }));
const transfer = (caller: Caller, id: string, body: unknown, routeKey = ADMIN_ROUTE) =>
  handler(eventAs(caller, "PUT", `/v1/admin/templates/${id}/owner`, { body: JSON.stringify(body), routeKey }));

const bodyOf = (result: HttpResult) => JSON.parse(String(result.body)) as Record<string, unknown>;

async function ownerIdOf(caller: Caller): Promise<string> {
  const result = await handler(eventAs(caller, "GET", "/v1/whoami"));
  expect(result.statusCode).toBe(200);
  return String(bodyOf(result).owner);
}

async function described(id: string): Promise<{ latest: string; versions: { version: string }[] }> {
  const result = await handler(eventAs(alice, "GET", `/v1/templates/${id}`));
  expect(result.statusCode).toBe(200);
  return bodyOf(result) as { latest: string; versions: { version: string }[] };
}

async function storedIndex(id: string): Promise<Record<string, unknown>> {
  const got = await service.storage.get(service.config.inputBucket, `templates/${id}/index.json`);
  if (!got.found || !("body" in got)) throw new Error(`no index of ${id}`);
  return JSON.parse(got.body.toString("utf8")) as Record<string, unknown>;
}

async function storedZips(id: string): Promise<string[]> {
  const listed = await service.storage.list(service.config.inputBucket, `templates/${id}/`);
  return listed.map((o) => o.key).filter((k) => k.endsWith(".zip"));
}

/** 403 forbidden, saying why without naming (or hashing) anyone. */
function expectForbidden(result: HttpResult, message: RegExp): void {
  expect(result.statusCode, String(result.body)).toBe(403);
  const body = bodyOf(result);
  expect(body.error).toBe("forbidden");
  expect(String(body.message)).toMatch(message);
  expect(String(result.body)).not.toMatch(/alice|bob|123456789012|iam:[0-9a-f]{64}/);
}

describe("a template belongs to its first publisher", () => {
  const ID = "owned-notice";
  let first = "";

  it("another publisher's PUT is 403: nothing of theirs is checked, stored or made the latest", async () => {
    const created = await publish(alice, ID, writeZip(files(ID)));
    expect(created.statusCode, String(created.body)).toBe(201);
    first = String(bodyOf(created).version);

    const replaced = await publish(bob, ID, writeZip(files(ID, "假通知")));
    expectForbidden(replaced, /belongs to another publisher.*administrator/);
    // Not even checked: a package full of problems gets the same 403, not its problems.
    expectForbidden(await publish(bob, ID, text("not a zip at all")), /belongs to another publisher/);
    // The very files alice published are no way in either (not a 200 "published before").
    expectForbidden(await publish(bob, ID, writeZip(files(ID))), /belongs to another publisher/);

    const now = await described(ID);
    expect(now.latest).toBe(first);
    expect(now.versions.map((v) => v.version)).toEqual([first]);
    expect(await storedZips(ID)).toEqual([`templates/${ID}/${first}.zip`]);
  });

  it("another publisher's DELETE is 403, and the template still renders for everyone", async () => {
    expectForbidden(await withdraw(bob, ID), /belongs to another publisher/);
    expect(await storedIndex(ID)).not.toHaveProperty("withdrawnAt");
    const render = await handler(
      eventAs(bob, "POST", "/v1/render", { body: JSON.stringify({ template: ID, data: { title: "y" } }) }),
    );
    expect(render.statusCode, String(render.body)).toBe(200);
    expect(render.headers?.["x-report-template"]).toBe(`${ID}@${first}`);
  });

  it("its owner publishes new versions and withdraws it; withdrawn, it stays theirs", async () => {
    const second = await publish(alice, ID, writeZip(files(ID, "第二版")));
    expect(second.statusCode).toBe(201);
    expect((await withdraw(alice, ID)).statusCode).toBe(200);
    // Nobody takes over a withdrawn id (and so the versions jobs were pinned to).
    expectForbidden(await publish(bob, ID, writeZip(files(ID, "抢注"))), /belongs to another publisher/);
    expect((await described(ID)).versions).toHaveLength(2);
    // Its owner brings it back.
    expect((await publish(alice, ID, writeZip(files(ID, "第三版")))).statusCode).toBe(201);
  });

  it("the index records the owner as a hash; no answer shows it", async () => {
    const index = await storedIndex(ID);
    expect(index.owner).toBe(await ownerIdOf(alice));
    expect(index.owner).toMatch(/^iam:[0-9a-f]{64}$/);
    expect(JSON.stringify(index)).not.toContain("alice");
    const answers = await Promise.all([
      handler(eventAs(alice, "GET", `/v1/templates/${ID}`)),
      handler(eventAs(alice, "GET", "/v1/templates")),
      publish(alice, ID, writeZip(files(ID, "第三版"))),
    ]);
    for (const answer of answers) {
      expect(answer.statusCode).toBeLessThan(300);
      expect(String(answer.body)).not.toContain(String(index.owner));
      expect(String(answer.body)).not.toContain('"owner"');
    }
  });

  it("two first publishers at once: one gets it (201), the other 403, and the index names the winner", async () => {
    const RACE = "raced-notice";
    const [a, b] = await Promise.all([
      publish(alice, RACE, writeZip(files(RACE, "甲"))),
      publish(bob, RACE, writeZip(files(RACE, "乙"))),
    ]);
    const statuses = [a.statusCode, b.statusCode].sort();
    expect(statuses).toEqual([201, 403]);
    const winner = a.statusCode === 201 ? alice : bob;
    const loser = winner === alice ? bob : alice;
    expect((await storedIndex(RACE)).owner).toBe(await ownerIdOf(winner));
    expect((await described(RACE)).versions).toHaveLength(1);
    expectForbidden(await publish(loser, RACE, writeZip(files(RACE, "再来"))), /belongs to another publisher/);
  });
});

describe("an administrator hands a template over", () => {
  const ID = "handed-notice";

  beforeAll(async () => {
    expect((await publish(alice, ID, writeZip(files(ID)))).statusCode).toBe(201);
  });

  it("only through the administrators' route: its owner, another publisher, anyone on $default get 403", async () => {
    const to = { owner: await ownerIdOf(bob) };
    // Signed callers whose request did not come by the administrators' route (API Gateway lets only
    // administrators through it), whatever the path says.
    expectForbidden(await transfer(alice, ID, to, "$default"), /only an administrator/);
    expectForbidden(await transfer(bob, ID, to, "$default"), /only an administrator/);
    expectForbidden(await transfer(bob, ID, to, PUBLISH_ROUTE), /only an administrator/);
    // The administrators' route is IAM-authorized: by it, only an IAM principal is one. A JWT there
    // (a route misconfigured to take the page's tokens), or no authorizer at all, is not.
    expectForbidden(await transfer({ jwt: { sub: "any-signed-in-user" } }, ID, to), /only an administrator/);
    expectForbidden(await transfer("none", ID, to), /only an administrator/);
    expect((await storedIndex(ID)).owner).toBe(await ownerIdOf(alice));
  });

  it("to the owner id its new publisher reads at GET /v1/whoami; then only they publish and withdraw it", async () => {
    const [aliceId, bobId] = [await ownerIdOf(alice), await ownerIdOf(bob)];
    const handed = await transfer(admin, ID, { owner: bobId });
    expect(handed.statusCode, String(handed.body)).toBe(200);
    expect(bodyOf(handed)).toEqual({ id: ID, owner: bobId, previousOwner: aliceId });

    expectForbidden(await publish(alice, ID, writeZip(files(ID, "旧主"))), /belongs to another publisher/);
    expect((await publish(bob, ID, writeZip(files(ID, "新主")))).statusCode).toBe(201);
    expect((await withdraw(bob, ID)).statusCode).toBe(200);
  });

  it("refuses what is not an owner id (422), a template nobody published (404), a built-in one (409)", async () => {
    for (const body of [
      { owner: ALICE_ARN },
      { owner: "iam:abc" },
      { owner: "upload" },
      { owner: `iam:${"0".repeat(64)}`, also: "x" },
      [{ owner: "local" }],
      "local",
      null,
    ]) {
      const result = await transfer(admin, ID, body);
      expect(result.statusCode, JSON.stringify(body)).toBe(422);
      expect(bodyOf(result).error).toBe("invalid_owner");
    }
    expect((await transfer(admin, "never-published", { owner: "local" })).statusCode).toBe(404);
    expect((await transfer(admin, "report", { owner: "local" })).statusCode).toBe(409);
    const notJson = await handler({
      ...eventAs(admin, "PUT", `/v1/admin/templates/${ID}/owner`, { body: "{", routeKey: ADMIN_ROUTE }),
    });
    expect(notJson.statusCode).toBe(400);
    // Only PUT: a GET of the path (which IAM's invoke policy would let anyone send) is 405.
    expect((await handler(eventAs(bob, "GET", `/v1/admin/templates/${ID}/owner`))).statusCode).toBe(405);
  });
});

describe("with a JWT authorizer (the stack's user pool): publishers sign in, operators hand over with IAM", () => {
  const ID = "pool-notice";
  // Users of the page's client: the same token audience, scopes and issuer; only the subject differs.
  const carol: Caller = { jwt: { sub: "7c1f0e2a-carol", scope: "openid email report-render/templates.publish" } };
  const dave: Caller = { jwt: { sub: "0d4b9e81-dave", scope: "openid email report-render/templates.publish" } };

  beforeAll(async () => {
    expect((await publish(carol, ID, writeZip(files(ID)))).statusCode).toBe(201);
  });

  it("no signed-in user hands a template over, whichever route their token came by", async () => {
    const to = { owner: await ownerIdOf(dave) };
    expectForbidden(await transfer(carol, ID, to, "$default"), /only an administrator/);
    expectForbidden(await transfer(dave, ID, to, "$default"), /only an administrator/);
    expectForbidden(await transfer(dave, ID, to), /only an administrator/);
    expectForbidden(await publish(dave, ID, writeZip(files(ID, "冒名"))), /belongs to another publisher/);
    expect((await storedIndex(ID)).owner).toBe(await ownerIdOf(carol));
  });

  it("an operator's SigV4 request by the administrators' route hands it to the JWT owner id named in the body", async () => {
    const [carolId, daveId] = [await ownerIdOf(carol), await ownerIdOf(dave)];
    expect(carolId).toMatch(/^jwt:[0-9a-f]{64}$/);
    expect(daveId).not.toBe(carolId);
    const handed = await transfer(admin, ID, { owner: daveId });
    expect(handed.statusCode, String(handed.body)).toBe(200);
    expect(bodyOf(handed)).toEqual({ id: ID, owner: daveId, previousOwner: carolId });
    // The owner is the body's, not the operator's: the operator's own identity owns nothing.
    expect((await storedIndex(ID)).owner).toBe(daveId);
    expect((await storedIndex(ID)).owner).not.toBe(await ownerIdOf(admin));

    expectForbidden(await publish(carol, ID, writeZip(files(ID, "旧主"))), /belongs to another publisher/);
    expect((await publish(dave, ID, writeZip(files(ID, "新主")))).statusCode).toBe(201);
    expect((await withdraw(dave, ID)).statusCode).toBe(200);
  });
});

describe("templates published before owners were recorded", () => {
  const ID = "legacy-notice";

  beforeAll(async () => {
    // Published as it was then: an index without an owner.
    expect((await publish("none", ID, writeZip(files(ID)))).statusCode).toBe(201);
    const { owner: _owner, ...legacy } = await storedIndex(ID);
    await service.storage.put(service.config.inputBucket, `templates/${ID}/index.json`, JSON.stringify(legacy), {
      contentType: "application/json",
    });
    expect(await storedIndex(ID)).not.toHaveProperty("owner");
  });

  it("are nobody's who signs: no publisher claims one by publishing or withdrawing first", async () => {
    expectForbidden(await publish(alice, ID, writeZip(files(ID, "认领"))), /has none yet.*administrator/);
    expectForbidden(await withdraw(bob, ID), /has none yet/);
    expect(await storedIndex(ID)).not.toHaveProperty("owner");
  });

  it("an administrator assigns one; its owner then publishes", async () => {
    const handed = await transfer(admin, ID, { owner: await ownerIdOf(alice) });
    expect(bodyOf(handed)).toMatchObject({ previousOwner: "local" });
    expect((await publish(alice, ID, writeZip(files(ID, "认领")))).statusCode).toBe(201);
  });

  it("under npm start (no authorizer, loopback only) they are the local caller's, who administers too", async () => {
    const LOCAL = "local-legacy";
    expect((await publish("none", LOCAL, writeZip(files(LOCAL)))).statusCode).toBe(201);
    expect((await storedIndex(LOCAL)).owner).toBe("local");
    // Through the local server's own HTTP door: publish over it, hand it over.
    const put = await fetch(`${service.url}/v1/templates/${LOCAL}`, {
      method: "PUT",
      headers: { "content-type": "application/zip" },
      body: Buffer.from(writeZip(files(LOCAL, "本地"))),
    });
    expect(put.status).toBe(201);
    const handed = await fetch(`${service.url}/v1/admin/templates/${LOCAL}/owner`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ owner: await ownerIdOf(bob) }),
    });
    expect(handed.status).toBe(200);
    expect((await publish(bob, LOCAL, writeZip(files(LOCAL, "交接")))).statusCode).toBe(201);
    const localPut = await fetch(`${service.url}/v1/templates/${LOCAL}`, {
      method: "PUT",
      headers: { "content-type": "application/zip" },
      body: Buffer.from(writeZip(files(LOCAL, "收回"))),
    });
    expect(localPut.status).toBe(403);
  });
});

describe("what a version stores is what its version names", () => {
  const ID = "canonical-notice";

  it("a zip with a wrapping folder, __MACOSX/ junk and stored entries: the files re-zipped, bytes and all", async () => {
    const clean = files(ID);
    const wrapped = rawZip([
      ...[...clean].map(([name, data]) => ({ name: `my-package/${name}`, data })),
      { name: "__MACOSX/my-package/._template.hbs", data: text("resource fork, or anything at all") },
      { name: "my-package/.DS_Store", data: text("finder") },
    ]);
    const first = await publish(alice, ID, wrapped);
    expect(first.statusCode, String(first.body)).toBe(201);
    const { version, bytes } = bodyOf(first) as { version: string; bytes: number };

    const got = await service.storage.get(service.config.inputBucket, `templates/${ID}/${version}.zip`);
    if (!got.found || !("body" in got)) throw new Error("no stored zip");
    const canonical = writeZip(clean);
    expect(Buffer.compare(got.body, Buffer.from(canonical))).toBe(0);
    expect(bytes).toBe(canonical.byteLength);
    expect(got.body.includes(Buffer.from("resource fork"))).toBe(false);

    // The same files in another zip: the same version, the same bytes, nothing stored again.
    const again = await publish(alice, ID, writeZip(clean));
    expect(again.statusCode).toBe(200);
    expect(bodyOf(again)).toMatchObject({ version, bytes });
    expect(await storedZips(ID)).toEqual([`templates/${ID}/${version}.zip`]);
    // And it renders from what was stored.
    const render = await handler(
      eventAs(alice, "POST", "/v1/render", {
        body: JSON.stringify({ template: `${ID}@${version}`, data: { title: "y" } }),
      }),
    );
    expect(render.statusCode, String(render.body)).toBe(200);
  });
});
