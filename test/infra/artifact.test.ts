import { createHash } from "node:crypto";
import { createReadStream, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeZip } from "../../functions/packages/index.ts";
import { type ChromiumPack, PACK_DIR, readPack } from "../../functions/service/chromium-pack.ts";
import { chromiumLocator } from "../../functions/service/chromium.ts";
import { ENV, loadConfig } from "../../functions/service/settings.ts";
import type { HttpResult, SqsBatchResponse } from "../../functions/service/events.ts";
import { startLocalS3, S3RVER_CREDENTIALS, type LocalS3 } from "../../functions/local/s3-server.ts";
import { createStorage, type Storage } from "../../functions/service/storage/s3.ts";
import { fonts, pageTexts } from "../helpers/pdf.ts";
import { httpEvent, sqsS3Event } from "../helpers/lambda-events.ts";
import { baseFiles } from "../helpers/package-zips.ts";
import { startLambdaProcess, type LambdaProcess } from "../helpers/lambda-process.ts";
import { type LambdaAsset, synthLambdaAssets } from "../helpers/lambda-assets.ts";
import { renderReport, closeRenderer } from "../helpers/render.ts";
import { root } from "../helpers/synth.ts";

/**
 * THE ARTIFACT WORKS: `cdk synth` as `npm run synth` runs it (the CDK CLI, cdk.json, esbuild on this
 * machine, no Docker, no AWS credentials), then each function's asset from the cloud assembly is run
 * in a fresh Node process outside the source tree, with the environment the stack gives it, against
 * s3rver on loopback. A bundling mistake (Chromium, fonts, templates or the web page missing from the
 * asset) fails here.
 */

const LAMBDA_UNZIPPED_LIMIT = 262_144_000; // 250 MB: function and layers together, unzipped
const EXAMPLE = readFileSync(join(root, "examples/zhanhe-transport-2020.json"), "utf8");
const AGENCY = "湛河区交通运输局";
const BUCKETS = { input: "artifact-input", output: "artifact-output" };

interface FunctionAsset extends LambdaAsset {
  bytes: number;
  files: number;
}

let work: string;
let synthSeconds: number;
let assets: Record<"HttpFunction" | "UploadFunction", FunctionAsset>;
let page: FunctionAsset;
let s3: LocalS3;
let storage: Storage;
const running: { http?: LambdaProcess; upload?: LambdaProcess; page?: LambdaProcess } = {};
const tmpDirs: Record<string, string> = {};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "report-render-artifact-"));
  const synthesized = await synthLambdaAssets(join(work, "cdk.out"), BUCKETS);
  synthSeconds = synthesized.synthSeconds;
  assets = {} as typeof assets;
  for (const asset of synthesized.assets)
    assets[asset.name as keyof typeof assets] = { ...asset, ...measure(asset.assetDir) };
  page = { ...synthesized.page, ...measure(synthesized.page.assetDir) };

  s3 = await startLocalS3({
    host: "127.0.0.1",
    port: 0,
    directory: join(work, "s3"),
    inputBucket: BUCKETS.input,
    outputBucket: BUCKETS.output,
  });
  storage = createStorage({
    region: "us-east-1",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
}, 300_000);

afterAll(async () => {
  await closeRenderer();
  await running.http?.stop();
  await running.upload?.stop();
  await running.page?.stop();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Bytes and files under `dir`, as Lambda counts the unzipped package. */
function measure(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = measure(path);
      bytes += inner.bytes;
      files += inner.files;
    } else {
      bytes += lstatSync(path).size;
      files++;
    }
  }
  return { bytes, files };
}

/** The function's asset in its own process: own TMPDIR (Chromium inflates there), S3 at s3rver. */
async function start(asset: FunctionAsset): Promise<LambdaProcess> {
  const tmp = mkdtempSync(join(work, `${asset.name}-tmp-`));
  tmpDirs[asset.name] = tmp;
  return startLambdaProcess({
    assetDir: asset.assetDir,
    handler: asset.handler,
    workDir: join(work, `${asset.name}-runtime`),
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      LANG: "C.UTF-8",
      HOME: tmp,
      TMPDIR: tmp,
      LAMBDA_TASK_ROOT: asset.assetDir,
      AWS_REGION: "us-east-1",
      // What Lambda sets for an instance it starts on demand (Powertools reads them).
      AWS_LAMBDA_FUNCTION_NAME: `ReportRender-${asset.name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "2048",
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      ...asset.env,
      [ENV.s3Endpoint]: s3.endpoint,
      [ENV.s3ForcePathStyle]: "true",
      [ENV.s3AccessKeyId]: S3RVER_CREDENTIALS.accessKeyId,
      [ENV.s3SecretAccessKey]: S3RVER_CREDENTIALS.secretAccessKey,
    },
  });
}

async function http(): Promise<LambdaProcess> {
  running.http ??= await start(assets.HttpFunction);
  return running.http;
}

async function upload(): Promise<LambdaProcess> {
  running.upload ??= await start(assets.UploadFunction);
  return running.upload;
}

/** The asset's Chromium pack (runtime/chromium-pack). */
function packOf(asset: FunctionAsset): ChromiumPack {
  const pack = readPack(join(asset.assetDir, "runtime", PACK_DIR));
  if (!pack) throw new Error(`${asset.name}: no Chromium pack`);
  return pack;
}

/** The folder the function unpacked Chromium into, in the temp folder it was given. */
function unpackedIn(asset: FunctionAsset): string {
  return join(tmpDirs[asset.name] ?? "", `report-render-chromium-${packOf(asset).id}`);
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The JSON lines of a function's output (its log lines and EMF metrics). */
function jsonLines(output: string): Record<string, unknown>[] {
  return output.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** A real report: %PDF, the agency's name in its text, every font an embedded subset and none Type 3. */
async function expectReport(pdf: Uint8Array): Promise<void> {
  expect(Buffer.from(pdf.subarray(0, 5)).toString("latin1")).toBe("%PDF-");
  const text = (await pageTexts(pdf)).join("");
  expect(text).toContain(AGENCY);
  const used = await fonts(pdf);
  expect(used.length).toBeGreaterThan(0);
  expect(used.filter((f) => f.subtype === "/Type3")).toEqual([]);
  expect(used.filter((f) => !f.embedded)).toEqual([]);
  // The bundled families (Noto Serif SC, Noto Sans SC), not some fallback of the machine.
  expect(used.some((f) => /NotoSerifSC/.test(f.name))).toBe(true);
}

describe("the synthesized function assets", () => {
  it("are synthesized by `cdk synth` (npm run synth) without Docker or AWS credentials", () => {
    console.log(`cdk synth (CLI, esbuild, two assets): ${synthSeconds.toFixed(1)} s`);
    expect(Object.keys(assets)).toEqual(["HttpFunction", "UploadFunction"]);
  });

  it("lie outside the source tree, with no node_modules above them", () => {
    for (const asset of Object.values(assets)) {
      expect(asset.assetDir.startsWith(root + sep)).toBe(false);
      for (let dir = dirname(asset.assetDir); dir !== dirname(dir); dir = dirname(dir)) {
        expect(existsSync(join(dir, "node_modules")), `${dir}/node_modules`).toBe(false);
      }
    }
  });

  it("hold the bundle, Chromium's package (its code), Chromium recompressed for a fast start, and the runtime files", () => {
    for (const asset of Object.values(assets)) {
      const has = (path: string) => expect(existsSync(join(asset.assetDir, path)), `${asset.name}: ${path}`).toBe(true);
      has("index.mjs");
      // The thread template packages run in (functions/packages/fence/), beside the bundle where fence.ts looks.
      has("fence-worker.mjs");
      has("node_modules/@sparticuz/chromium/package.json");
      // Its brotli files were recompressed into the pack (gzip, the binary in parts) and removed.
      expect(existsSync(join(asset.assetDir, "node_modules/@sparticuz/chromium/bin"))).toBe(false);
      const pack = packOf(asset);
      expect(pack.binary.parts.length).toBeGreaterThan(1);
      const packFiles = [...pack.binary.parts.map((p) => p.file), ...pack.archives.map((a) => a.file)];
      expect(packFiles.every((f) => f.endsWith(".gz"))).toBe(true);
      for (const file of packFiles) has(`runtime/${PACK_DIR}/${file}`);
      expect(pack.archives.map((a) => a.file)).toEqual(["swiftshader.tar.gz", "fonts.tar.gz", "al2023.tar.gz"]);
      has("runtime/templates/gov-disclosure-annual-report/template.hbs");
      has("runtime/templates/report/schema.json");
      has("runtime/node_modules/@fontsource/noto-serif-sc/400.css");
      has("runtime/node_modules/hanamin/HanaMin.css");
      has("runtime/functions/web/index.html");
      has("runtime/node_modules/pdfjs-dist/legacy/build/pdf.worker.min.mjs");
      expect(asset.env[ENV.runtimeRoot]).toBe(join(asset.assetDir, "runtime"));
      // Chromium is installed, not bundled: the bundle imports it by name.
      expect(readFileSync(join(asset.assetDir, "index.mjs"), "utf8")).toMatch(/from\s*"@sparticuz\/chromium"/);
      // Every woff2 file a copied stylesheet names is there (a missing slice would only show when a
      // report uses its characters); no .woff (the fontsource packages ship them for every weight).
      for (const pkg of ["@fontsource/noto-serif-sc", "@fontsource/noto-sans-sc", "hanamin"]) {
        const dir = join(asset.assetDir, "runtime/node_modules", pkg);
        const sheets = readdirSync(dir).filter((f) => f.endsWith(".css"));
        expect(sheets.length, pkg).toBeGreaterThan(0);
        for (const sheet of sheets) {
          const urls = [
            ...readFileSync(join(dir, sheet), "utf8").matchAll(/url\(\s*["']?([^"')]+\.woff2)["']?\s*\)/g),
          ].map((m) => m[1] ?? "");
          expect(urls.length, `${pkg}/${sheet}`).toBeGreaterThan(0);
          for (const url of urls) expect(existsSync(join(dir, url)), `${asset.name}: ${pkg}/${url}`).toBe(true);
        }
      }
      const woff = readdirSync(join(asset.assetDir, "runtime/node_modules/@fontsource/noto-serif-sc/files"));
      expect(woff.every((f) => f.endsWith(".woff2"))).toBe(true);
      expect(existsSync(join(asset.assetDir, "package-lock.json"))).toBe(false);
    }
  });

  it("bundle the functions' code only: nothing of infra/ or the CDK (the stack imports functions/service/settings.ts, not the reverse)", () => {
    const bundles = [
      ["index.mjs", "functions/service/settings.ts"],
      ["fence-worker.mjs", "functions/packages/fence/worker.ts"],
    ] as const;
    for (const asset of Object.values(assets)) {
      for (const [bundle, entry] of bundles) {
        const where = `${asset.name}/${bundle}`;
        const map = JSON.parse(readFileSync(join(asset.assetDir, `${bundle}.map`), "utf8")) as {
          sources: string[];
          sourceRoot?: string;
        };
        // Each source as a path inside the checkout (wherever it lies: a folder above it may be named infra).
        const sources = map.sources.map((source) =>
          relative(root, resolve(asset.assetDir, map.sourceRoot ?? "", source))
            .split(sep)
            .join("/"),
        );
        expect(
          sources.some((source) => source === entry),
          where,
        ).toBe(true);
        const foreign = sources.filter((source) =>
          /^infra\/|(^|\/)node_modules\/(aws-cdk-lib|constructs|cdk-nag)\//.test(source),
        );
        expect(foreign, where).toEqual([]);
      }
    }
  });

  it("are within Lambda's 250 MB unzipped limit", () => {
    for (const asset of Object.values(assets)) {
      console.log(
        `${asset.name} asset: ${(asset.bytes / 1e6).toFixed(1)} MB unzipped (${asset.files} files; limit 262.1 MB)`,
      );
      expect(asset.bytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
    }
  });
});

describe("the HTTP function's asset, run alone", () => {
  it("answers POST /v1/render (accept application/pdf) with the PDF, Chromium inflated from the asset's pack", async () => {
    const fn = await http();
    // Chromium was inflated from the pack into the empty temp folder and started, with a warm page,
    // while the module loaded: Lambda's init phase.
    expect(fn.output()).toContain('"message":"init.warmed_up"');
    const unpacked = unpackedIn(assets.HttpFunction);
    expect(readdirSync(tmpDirs.HttpFunction ?? "")).toContain(
      `report-render-chromium-${packOf(assets.HttpFunction).id}`,
    );
    // Not through @sparticuz/chromium's own inflation (/tmp/chromium, /tmp/fonts).
    expect(existsSync(join(tmpDirs.HttpFunction ?? "", "chromium"))).toBe(false);
    const started = performance.now();
    const result = await fn.invoke<HttpResult>(
      httpEvent("POST", "/v1/render", { body: EXAMPLE, headers: { accept: "application/pdf" } }),
    );
    console.log(`HTTP function, cold: ${(performance.now() - started).toFixed(0)} ms to the PDF`);
    expect(result.statusCode, result.body?.slice(0, 500)).toBe(200);
    expect(result.headers?.["content-type"]).toBe("application/pdf");
    expect(result.isBase64Encoded).toBe(true);
    const pdf = Buffer.from(result.body ?? "", "base64");
    await expectReport(pdf);
    // The same PDF, byte for byte, as the source tree prints with @sparticuz/chromium's own files;
    // the same binary as their brotli inflates to.
    const own = await chromiumLocator(loadConfig({}))();
    expect(pdf.equals(Buffer.from((await renderReport(JSON.parse(EXAMPLE))).pdf))).toBe(true);
    expect(await sha256Of(join(unpacked, "chromium"))).toBe(await sha256Of(own.executablePath));
  }, 120_000);

  it("every log line of an invocation carries its Lambda context; its metrics are EMF lines, ColdStart once", async () => {
    const fn = await http();
    const ok = await fn.invoke<HttpResult>(httpEvent("GET", "/health"));
    expect(ok.statusCode).toBe(200);
    const lines = jsonLines(fn.output());
    const requests = lines.filter((l) => l.message === "http.request");
    expect(requests.length).toBeGreaterThanOrEqual(2);
    for (const [i, line] of requests.entries()) {
      expect(line).toMatchObject({
        level: "INFO",
        service: "report-render",
        function_name: "ReportRender-HttpFunction",
        function_request_id: `invocation-${i + 1}`,
        cold_start: i === 0,
        requestId: expect.any(String),
      });
    }
    const emf = lines.filter((l) => "_aws" in l) as {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      [k: string]: unknown;
    }[];
    const named = (name: string) =>
      emf.filter((e) => e._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === name));
    expect(emf.every((e) => e._aws.CloudWatchMetrics[0]?.Namespace === "ReportRender")).toBe(true);
    expect(named("ColdStart").map((e) => [e._aws.CloudWatchMetrics[0]?.Dimensions, e.function_name])).toEqual([
      [[["service", "function_name"]], "ReportRender-HttpFunction"],
    ]);
    expect(named("RenderDuration").length).toBeGreaterThan(0);
    expect(named("Rendered").map((e) => e.Rendered)).toEqual([1]);
  }, 60_000);

  it("the page function: the page and pdf.js from its asset, nothing else, no Chromium (a few MB)", async () => {
    console.log(`PageFunction asset: ${(page.bytes / 1e6).toFixed(1)} MB unzipped (${page.files} files)`);
    expect(page.bytes).toBeLessThan(20 * 1024 * 1024);
    expect(existsSync(join(page.assetDir, "node_modules"))).toBe(false);
    expect(existsSync(join(page.assetDir, "runtime", PACK_DIR))).toBe(false);
    running.page ??= await start(page);
    const fn = running.page;
    const html = await fn.invoke<HttpResult>(httpEvent("GET", "/"));
    expect(html.statusCode).toBe(200);
    expect(html.headers?.["content-type"]).toBe("text/html; charset=utf-8");
    expect(html.headers?.["content-security-policy"]).toContain("default-src 'self'");
    expect(Buffer.from(String(html.body), "base64").toString("utf8")).toContain("<html");
    const pdfjs = await fn.invoke<HttpResult>(httpEvent("GET", "/assets/pdfjs/pdf.min.mjs"));
    expect(pdfjs.statusCode).toBe(200);
    expect(Buffer.from(String(pdfjs.body), "base64").byteLength).toBeGreaterThan(100_000);
    const config = await fn.invoke<HttpResult>(httpEvent("GET", "/assets/web-config.json"));
    expect(JSON.parse(String(config.body))).toEqual({ signIn: null });
    expect((await fn.invoke<HttpResult>(httpEvent("GET", "/v1/templates"))).statusCode).toBe(404);
    expect((await fn.invoke<HttpResult>(httpEvent("POST", "/"))).statusCode).toBe(405);
    // It never started Chromium: nothing was inflated into its temp folder.
    expect(readdirSync(tmpDirs.PageFunction ?? "").filter((f) => f.startsWith("report-render-chromium-"))).toEqual([]);
  }, 60_000);

  it("serves the template list and the web page with pdf.js from the asset", async () => {
    const fn = await http();
    const templates = await fn.invoke<HttpResult>(httpEvent("GET", "/v1/templates"));
    expect(templates.statusCode).toBe(200);
    const ids = (JSON.parse(templates.body ?? "{}") as { templates: { id: string }[] }).templates.map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining(["gov-disclosure-annual-report", "report"]));
    for (const path of [
      "/",
      "/assets/app.js",
      "/assets/fonts.css",
      "/assets/web-config.json",
      "/assets/pdfjs/pdf.min.mjs",
      "/assets/pdfjs/pdf.worker.min.mjs",
    ]) {
      const page = await fn.invoke<HttpResult>(httpEvent("GET", path));
      expect(page.statusCode, path).toBe(200);
    }
  }, 60_000);
});

/** POST /v1/templates/check of a zipped package, as API Gateway passes a binary body. */
function checkEvent(files: Map<string, Uint8Array>) {
  const headers = { "content-type": "application/zip", accept: "application/json" };
  return {
    ...httpEvent("POST", "/v1/templates/check", { headers }),
    body: Buffer.from(writeZip(files)).toString("base64"),
    isBase64Encoded: true,
  };
}

describe("the HTTP function's asset: template packages in worker threads", () => {
  it("checks a package in a thread started from the asset's fence-worker.mjs: 200, and 422 too_complex for too much work", async () => {
    // Nothing else to start a thread from: the source tree's worker is not in the asset (nor tsx).
    expect(existsSync(join(assets.HttpFunction.assetDir, "worker-from-source.mjs"))).toBe(false);
    const fn = await http();
    const ok = await fn.invoke<HttpResult>(checkEvent(baseFiles()));
    expect(ok.statusCode, `${ok.body?.slice(0, 500)}\n${fn.output().slice(-2000)}`).toBe(200);
    expect(JSON.parse(ok.body ?? "{}")).toMatchObject({ id: "hostile", title: "Hostile", pages: 1 });

    // Inline partials that each call the next twice, 25 levels: 2^25 calls, refused in the thread.
    const levels = Array.from(
      { length: 25 },
      (_, i) => `{{#*inline "q${i}"}}{{> q${i + 1}}}{{> q${i + 1}}}{{/inline}}`,
    );
    const hbs = `{{#*inline "q25"}}x{{/inline}}${levels.reverse().join("")}{{> q0}}`;
    const started = performance.now();
    const refused = await fn.invoke<HttpResult>(checkEvent(baseFiles({ "template.hbs": hbs })));
    console.log(`HTTP function: too much template work refused in ${(performance.now() - started).toFixed(0)} ms`);
    expect(refused.statusCode, refused.body?.slice(0, 500)).toBe(422);
    expect(JSON.parse(refused.body ?? "{}")).toMatchObject({ error: "too_complex" });
    // The function is still whole, and its fence still checks packages.
    const again = await fn.invoke<HttpResult>(checkEvent(baseFiles()));
    expect(again.statusCode, again.body?.slice(0, 500)).toBe(200);
  }, 120_000);
});

describe("the upload function's asset, run alone", () => {
  it("renders incoming/x.json from an SQS-wrapped S3 event into x.pdf in the output bucket", async () => {
    await storage.put(BUCKETS.input, "incoming/x.json", EXAMPLE, { contentType: "application/json" });
    const fn = await upload();
    const started = performance.now();
    const response = await fn.invoke<SqsBatchResponse>(sqsS3Event(BUCKETS.input, "incoming/x.json"));
    console.log(`upload function, cold: ${(performance.now() - started).toFixed(0)} ms to the stored PDF`);
    expect(response, fn.output().slice(-2000)).toEqual({ batchItemFailures: [] });
    const pdf = await storage.get(BUCKETS.output, "x.pdf");
    expect(pdf.found && "body" in pdf, fn.output().slice(-2000)).toBe(true);
    if (pdf.found && "body" in pdf) await expectReport(pdf.body);
    expect((await storage.head(BUCKETS.output, "x.result.json"))?.size).toBeGreaterThan(0);
    expect(existsSync(join(unpackedIn(assets.UploadFunction), "chromium"))).toBe(true);
  }, 120_000);
});

describe("both assets together", () => {
  it("a job: POST /v1/jobs writes jobs/<id>.json, the upload function renders it, GET /v1/jobs/<id> hands out the PDF", async () => {
    const [httpFn, uploadFn] = await Promise.all([http(), upload()]);
    const accepted = await httpFn.invoke<HttpResult>(httpEvent("POST", "/v1/jobs", { body: EXAMPLE }));
    expect(accepted.statusCode, accepted.body).toBe(202);
    const { jobId, statusUrl } = JSON.parse(accepted.body ?? "{}") as { jobId: string; statusUrl: string };
    expect(statusUrl).toBe(`https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1/jobs/${jobId}`);
    expect(await storage.head(BUCKETS.input, `jobs/${jobId}.json`)).toBeDefined();

    const response = await uploadFn.invoke<SqsBatchResponse>(sqsS3Event(BUCKETS.input, `jobs/${jobId}.json`));
    expect(response).toEqual({ batchItemFailures: [] });

    const status = await httpFn.invoke<HttpResult>(httpEvent("GET", `/v1/jobs/${jobId}`));
    expect(status.statusCode).toBe(200);
    const job = JSON.parse(status.body ?? "{}") as { status: string; url: string };
    expect(job.status).toBe("done");
    const download = await fetch(job.url);
    expect(download.status).toBe(200);
    await expectReport(new Uint8Array(await download.arrayBuffer()));

    const unknown = await httpFn.invoke<HttpResult>(httpEvent("GET", "/v1/jobs/00000000-0000-4000-8000-000000000000"));
    expect(unknown.statusCode).toBe(404);
  }, 120_000);
});
