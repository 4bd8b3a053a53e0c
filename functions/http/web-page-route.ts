import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { HttpResult } from "../service/events.ts";
import { notFound } from "./responses.ts";
import { WEB_FONT_PATH, webFonts } from "./web-fonts.ts";

/**
 * The web page at `/` and its assets: plain files, no build step. pdf.js (for the page previews)
 * and the page's fonts (web-fonts.ts) are served from the installed packages, never from a CDN.
 * Fixed tables, so no request path ever reaches the file system.
 */
const publicDir = (root: string) => join(root, "functions/web");
const script = (name: string) => ({
  file: (root: string) => join(publicDir(root), name),
  type: "text/javascript; charset=utf-8",
  cache: "no-cache",
});
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
  "/assets/app.js": script("app.js"),
  "/assets/json-locate.js": script("json-locate.js"),
  "/assets/i18n.js": script("i18n.js"),
  "/assets/messages.js": script("messages.js"),
  "/assets/sign-in.js": script("sign-in.js"),
  "/assets/account.js": script("account.js"),
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
  return path in assets || path === FONTS_CSS || WEB_FONT_PATH.test(path);
}

const FONTS_CSS = "/assets/fonts.css";

export async function webPageAsset(root: string, path: string): Promise<HttpResult> {
  const fonts = path === FONTS_CSS || WEB_FONT_PATH.test(path) ? webFonts(root) : undefined;
  if (fonts && path === FONTS_CSS) {
    if (!fonts.css) return notFound(`${path} is not part of this deployment`);
    return { statusCode: 200, headers: headers("text/css; charset=utf-8", "no-cache"), body: fonts.css };
  }
  const fontFile = fonts?.files.get(path);
  const asset = fontFile
    ? { file: () => fontFile, type: "font/woff2", cache: "public, max-age=86400" }
    : fonts
      ? undefined
      : assets[path];
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
      ...headers(asset.type, asset.cache),
      ...(path === "/" ? { "content-security-policy": CSP, "referrer-policy": "no-referrer" } : {}),
    },
    body: bytes.toString("base64"),
    isBase64Encoded: true,
  };
}

function headers(type: string, cacheControl: string): Record<string, string> {
  return { "content-type": type, "cache-control": cacheControl, "x-content-type-options": "nosniff" };
}
