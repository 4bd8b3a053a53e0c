import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { HttpResult } from "../service/events.ts";
import { notFound } from "./responses.ts";

/**
 * The web page at `/` and its assets: plain files, no build step. pdf.js (for the page previews)
 * is served from the installed pdfjs-dist, never from a CDN. A fixed table, so no request path
 * ever reaches the file system.
 */
const publicDir = (root: string) => join(root, "functions/web");
const pdfjsDir = (root: string) =>
  join(dirname(createRequire(join(root, "package.json")).resolve("pdfjs-dist/package.json")), "legacy/build");

/** Each asset's file, from the runtime root (the source tree, or a Lambda bundle's runtime folder). */
const assets: Record<string, { file: (root: string) => string; type: string; cache: string }> = {
  "/": { file: (root) => join(publicDir(root), "index.html"), type: "text/html; charset=utf-8", cache: "no-cache" },
  "/assets/app.css": {
    file: (root) => join(publicDir(root), "app.css"),
    type: "text/css; charset=utf-8",
    cache: "no-cache",
  },
  "/assets/app.js": {
    file: (root) => join(publicDir(root), "app.js"),
    type: "text/javascript; charset=utf-8",
    cache: "no-cache",
  },
  "/assets/json-locate.js": {
    file: (root) => join(publicDir(root), "json-locate.js"),
    type: "text/javascript; charset=utf-8",
    cache: "no-cache",
  },
  "/assets/pdfjs/pdf.min.mjs": {
    file: (root) => join(pdfjsDir(root), "pdf.min.mjs"),
    type: "text/javascript; charset=utf-8",
    cache: "public, max-age=86400",
  },
  "/assets/pdfjs/pdf.worker.min.mjs": {
    file: (root) => join(pdfjsDir(root), "pdf.worker.min.mjs"),
    type: "text/javascript; charset=utf-8",
    cache: "public, max-age=86400",
  },
};

/**
 * The page talks only to this origin, except for a PDF too large to return inline, which it fetches
 * from the presigned S3 URL it is redirected to (hence connect-src http: https:).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "font-src 'self' data: blob:",
  "connect-src 'self' http: https:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const cache = new Map<string, Buffer>();

export function isWebPagePath(path: string): boolean {
  return path in assets;
}

export async function webPageAsset(root: string, path: string): Promise<HttpResult> {
  const asset = assets[path];
  if (!asset) return notFound();
  let bytes = cache.get(path);
  if (!bytes) {
    bytes = await readFile(asset.file(root)).catch(() => undefined);
    if (!bytes) return notFound(`${path} is not part of this deployment`);
    cache.set(path, bytes);
  }
  return {
    statusCode: 200,
    headers: {
      "content-type": asset.type,
      "cache-control": asset.cache,
      "x-content-type-options": "nosniff",
      ...(path === "/" ? { "content-security-policy": CSP, "referrer-policy": "no-referrer" } : {}),
    },
    body: bytes.toString("base64"),
    isBase64Encoded: true,
  };
}
