import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpHandler } from "../../functions/http/handler.ts";
import { readPackageDir, writeZip } from "../../functions/packages/index.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { bytesOf, postJson, startTestService, type TestService, waitFor } from "../helpers/local-service.ts";

// Published template packages through the HTTP door of `npm start` (s3rver behind it): publish,
// render by name and by version, list, withdraw; jobs and uploads render them too.
let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

const PACKAGE_DIR = join(import.meta.dirname, "../../examples/packages/payment-notice");
const ID = "payment-notice";

/** The example package zipped, with `change` applied to its files first (name → text). */
async function packageZip(change: (files: Map<string, Uint8Array>) => void = () => undefined): Promise<Uint8Array> {
  const { files } = await readPackageDir(PACKAGE_DIR);
  const copy = new Map(files);
  change(copy);
  return writeZip(copy);
}

const text = (files: Map<string, Uint8Array>, name: string) => Buffer.from(files.get(name) ?? []).toString("utf8");
const setText = (files: Map<string, Uint8Array>, name: string, value: string) =>
  files.set(name, new TextEncoder().encode(value));

function send(method: string, path: string, zip: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${service.url}${path}`, {
    method,
    headers: { "content-type": "application/zip", ...headers },
    body: Buffer.from(zip),
  });
}

async function exampleData(): Promise<unknown> {
  const { files } = await readPackageDir(PACKAGE_DIR);
  return JSON.parse(text(files, "example.json"));
}

async function render(template: string): Promise<Response> {
  return postJson(`${service.url}/v1/render`, { template, data: await exampleData() }, { accept: "application/pdf" });
}

describe("template packages over HTTP", () => {
  let first = "";
  let second = "";

  it("POST /v1/templates/check renders the example of a package without publishing it", async () => {
    const response = await send("POST", "/v1/templates/check", await packageZip(), { accept: "application/pdf" });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-report-template")).toMatch(/^payment-notice@[0-9a-f]{12}$/);
    const pages = await pageTexts(await bytesOf(response));
    expect(squash(pages.join(""))).toContain("缴款");
    // Not published by being checked.
    expect((await render(ID)).status).toBe(404);
  });

  it("POST /v1/templates/check lists every problem by file, line and column (422)", async () => {
    const zip = await packageZip((files) => {
      setText(
        files,
        "template.hbs",
        `${text(files, "template.hbs")}\n{{nosuchhelper 1}}\n<img src="http://127.0.0.1:9/x.png">`,
      );
    });
    const response = await send("POST", "/v1/templates/check", zip);
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: string; errors: { path: string; line?: number; rule: string }[] };
    expect(body.error).toBe("invalid_template");
    const onTemplate = body.errors.filter((e) => e.path === "template.hbs");
    expect(onTemplate.length).toBeGreaterThanOrEqual(2);
    expect(onTemplate.every((e) => typeof e.line === "number")).toBe(true);
  });

  it("PUT /v1/templates/{id} publishes (201); the same files again are the same version (200)", async () => {
    const zip = await packageZip();
    const response = await send("PUT", `/v1/templates/${ID}`, zip);
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; version: string; template: string; latest: string };
    expect(body.id).toBe(ID);
    expect(body.version).toMatch(/^[0-9a-f]{12}$/);
    expect(body.template).toBe(`${ID}@${body.version}`);
    first = body.version;

    const again = await send("PUT", `/v1/templates/${ID}`, zip);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { version: string }).version).toBe(first);
  });

  it("renders by name (the latest) and says which version it used", async () => {
    const response = await render(ID);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-report-template")).toBe(`${ID}@${first}`);
    expect(squash((await pageTexts(await bytesOf(response))).join(""))).toContain("缴款");
  });

  it("a new version becomes the latest; the first stays renderable by its version", async () => {
    const zip = await packageZip((files) => {
      setText(files, "template.hbs", `${text(files, "template.hbs")}\n<p>第二版</p>`);
    });
    const response = await send("PUT", `/v1/templates/${ID}`, zip);
    expect(response.status).toBe(201);
    second = ((await response.json()) as { version: string }).version;
    expect(second).not.toBe(first);

    const latest = await render(ID);
    expect(latest.headers.get("x-report-template")).toBe(`${ID}@${second}`);
    expect(squash((await pageTexts(await bytesOf(latest))).join(""))).toContain("第二版");

    const pinned = await render(`${ID}@${first}`);
    expect(pinned.status).toBe(200);
    expect(pinned.headers.get("x-report-template")).toBe(`${ID}@${first}`);
    expect(squash((await pageTexts(await bytesOf(pinned))).join(""))).not.toContain("第二版");

    expect((await render(`${ID}@000000000000`)).status).toBe(404);
  });

  it("GET lists built-in and published templates; one template with its versions; its example renders", async () => {
    const list = (await (await fetch(`${service.url}/v1/templates`)).json()) as {
      templates: { id: string; builtIn: boolean; versions?: unknown[] }[];
    };
    expect(list.templates.map((t) => [t.id, t.builtIn])).toEqual(
      expect.arrayContaining([
        ["report", true],
        ["gov-disclosure-annual-report", true],
        [ID, false],
      ]),
    );
    expect(list.templates.find((t) => t.id === ID)?.versions).toHaveLength(2);

    const one = (await (await fetch(`${service.url}/v1/templates/${ID}`)).json()) as {
      latest: string;
      template: string;
      schema: object;
    };
    expect(one.latest).toBe(second);
    expect(one.template).toBe(`${ID}@${second}`);
    expect(one.schema).toMatchObject({ type: "object" });

    const example = await (await fetch(`${service.url}/v1/templates/${ID}@${first}/example`)).json();
    const rendered = await postJson(`${service.url}/v1/render`, example, { accept: "application/pdf" });
    expect(rendered.headers.get("x-report-template")).toBe(`${ID}@${first}`);
  });

  it("refuses: a built-in id (409), another id than the package's (422), not a zip (415), too large (413)", async () => {
    const zip = await packageZip();
    const builtIn = await send("PUT", "/v1/templates/report", zip);
    expect(builtIn.status).toBe(409);
    expect(((await builtIn.json()) as { error: string }).error).toBe("template_conflict");

    const other = await send("PUT", "/v1/templates/other-name", zip);
    expect(other.status).toBe(422);
    expect(((await other.json()) as { errors: { path: string }[] }).errors[0]?.path).toBe("template.json");

    const notZip = await fetch(`${service.url}/v1/templates/${ID}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(notZip.status).toBe(415);

    const huge = await send("PUT", `/v1/templates/${ID}`, new Uint8Array(10 * 1024 * 1024 + 1));
    expect(huge.status).toBe(413);
  });

  it("a job and an upload render a published template and record its version", async () => {
    const job = await postJson(`${service.url}/v1/jobs`, { template: ID, data: await exampleData() });
    expect(job.status).toBe(202);
    const { statusUrl } = (await job.json()) as { statusUrl: string };
    const done = await waitFor(async () => {
      const state = (await (await fetch(statusUrl)).json()) as { status: string; template?: string };
      return state.status === "done" || state.status === "failed" ? state : undefined;
    });
    expect(done).toMatchObject({ status: "done", template: `${ID}@${second}` });

    await service.storage.put(
      service.config.inputBucket,
      "incoming/notices/n1.json",
      JSON.stringify({ template: `${ID}@${first}`, data: await exampleData() }),
      { contentType: "application/json" },
    );
    const result = await waitFor(async () => {
      const got = await service.storage.get(service.config.outputBucket, "notices/n1.result.json");
      return got.found && "body" in got ? (JSON.parse(got.body.toString("utf8")) as { template?: string }) : undefined;
    });
    expect(result.template).toBe(`${ID}@${first}`);
  });

  it("DELETE withdraws it: no new renders by name or version, not listed, still described", async () => {
    const response = await fetch(`${service.url}/v1/templates/${ID}`, { method: "DELETE" });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { withdrawnAt?: string }).withdrawnAt).toBeTruthy();

    expect((await render(ID)).status).toBe(404);
    expect((await render(`${ID}@${first}`)).status).toBe(404);
    const list = (await (await fetch(`${service.url}/v1/templates`)).json()) as { templates: { id: string }[] };
    expect(list.templates.map((t) => t.id)).not.toContain(ID);
    expect((await fetch(`${service.url}/v1/templates/${ID}`)).status).toBe(200);
    expect((await fetch(`${service.url}/v1/templates/no-such-one`, { method: "DELETE" })).status).toBe(404);
    expect((await fetch(`${service.url}/v1/templates/report`, { method: "DELETE" })).status).toBe(409);
  });
});

describe("publishing takes its own route", () => {
  it("a method spelt other than PUT or DELETE (which API Gateway would send to $default) publishes nothing: 405", async () => {
    const handler = createHttpHandler(service.newService(service.config));
    for (const method of ["put", "Put", "delete", "PATCH"]) {
      const result = await handler(
        httpEvent(method, `/v1/templates/${ID}`, { body: "x", headers: { "content-type": "application/zip" } }),
      );
      expect(result.statusCode, method).toBe(405);
    }
  });
});
