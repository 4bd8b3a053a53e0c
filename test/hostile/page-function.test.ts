import { describe, expect, it } from "vitest";
import { createPageHandler } from "../../functions/http/page-handler.ts";
import { createLogger } from "../../functions/service/log.ts";
import { root } from "../helpers/examples.ts";
import { httpEvent } from "../helpers/lambda-events.ts";

// The page function (functions/http/page-lambda.ts) on AWS: with webSignIn its routes are public, so
// anyone can send it anything under / and /assets/. It answers the page's fixed table of files and
// nothing else: no path reaches the file system, no method but GET (and HEAD) is taken.
const lines: string[] = [];
const page = createPageHandler(
  { runtimeRoot: root, webSignIn: undefined },
  createLogger("info", (l) => lines.push(l)),
);
const bodyOf = (body: string | undefined, base64?: boolean) =>
  base64 ? Buffer.from(body ?? "", "base64").toString("utf8") : (body ?? "");

describe("the page function under attack", () => {
  it.each([
    "/assets/../package.json",
    "/assets/%2e%2e/package.json",
    "/assets/app.js/../../package.json",
    "/assets/..%2f..%2fpackage.json",
    "/assets/fonts/noto-sans-sc/../../../package.json",
    "/assets/fonts/noto-sans-sc/x.woff2",
    "/assets/pdfjs/pdf.min.mjs%00.html",
    "/assets/APP.JS",
    "//etc/passwd",
    "/v1/render",
    "/health",
    `/assets/${"a".repeat(100_000)}`,
  ])("%s: 404, nothing read", async (path) => {
    const result = await page(httpEvent("GET", path));
    expect(result.statusCode).toBe(404);
    const text = bodyOf(result.body, result.isBase64Encoded);
    expect(text).not.toContain('"name": "report-render"');
    expect(text.length).toBeLessThan(1_000);
    expect(result.headers?.["x-request-id"]).toBeDefined();
  });

  it.each(["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"])("%s /: 405, only GET", async (method) => {
    const result = await page(httpEvent(method, "/", { body: "{}" }));
    expect(result.statusCode).toBe(405);
  });

  it("answers the page itself, and logs each request by its id", async () => {
    const result = await page(httpEvent("GET", "/"));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result.body, result.isBase64Encoded)).toContain("<html");
    expect(lines.some((l) => l.includes('"message":"http.request"') && l.includes('"status":200'))).toBe(true);
  });
});
