import { imageSize } from "image-size";
import { fontOutlines } from "./font-outlines.ts";
import { scanMarkup } from "./markup-check.ts";
import { type PackageProblem, problemAt } from "./problems.ts";

/**
 * The files of assets/: images (png, jpeg, webp, svg) and TrueType-outline fonts (ttf, woff2), each
 * checked to be what its name says. They are inlined into the template and the CSS as data: URLs
 * when the package is loaded, so the page never fetches them.
 */

const TYPES = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  svg: "image/svg+xml",
  woff2: "font/woff2",
  ttf: "font/ttf",
} as const;

type Extension = keyof typeof TYPES;

/** The same bounds the report template puts on images: decoding a larger one costs too much memory. */
const MAX_IMAGE_SIDE = 20_000;
const MAX_IMAGE_PIXELS = 40_000_000;

function extensionOf(name: string): Extension | undefined {
  const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  return ext in TYPES ? (ext as Extension) : undefined;
}

/** The data: URL of an asset (only for names checkAsset accepted). */
export function assetDataUrl(name: string, bytes: Uint8Array): string {
  const ext = extensionOf(name) ?? "png";
  return `data:${TYPES[ext]};base64,${Buffer.from(bytes).toString("base64")}`;
}

/**
 * The pixels an image asset makes the browser decode (those of the images an SVG embeds, for an SVG);
 * 0 for a font or what cannot be read (checkAsset says what is wrong with it).
 */
export function assetPixels(name: string, bytes: Uint8Array): number {
  const ext = extensionOf(name);
  if (ext === "svg") {
    const text = Buffer.from(bytes).toString("utf8");
    let total = 0;
    for (const m of text.matchAll(EMBEDDED_IMAGE)) {
      total += pixelsOf(new Uint8Array(Buffer.from((m[1] ?? "").replace(/\s+/g, ""), "base64")));
    }
    return total;
  }
  return ext === "png" || ext === "jpg" || ext === "jpeg" || ext === "webp" ? pixelsOf(bytes) : 0;
}

function pixelsOf(bytes: Uint8Array): number {
  try {
    const { width = 0, height = 0 } = imageSize(bytes);
    return width * height;
  } catch {
    return 0;
  }
}

const EMBEDDED_IMAGE = /data:image\/(?:png|jpeg|webp);base64,([A-Za-z0-9+/=\s]+)/gi;

/** What is wrong with `assets/<name>`, if anything. */
export function checkAsset(name: string, bytes: Uint8Array): PackageProblem[] {
  const file = `assets/${name}`;
  const ext = extensionOf(name);
  const problem = (rule: string, message: string): PackageProblem[] => [{ file, rule, message }];
  if (!ext) {
    return problem("asset-type", "is not an accepted asset: images .png .jpg .jpeg .webp .svg, fonts .ttf .woff2");
  }
  switch (ext) {
    case "ttf":
    case "woff2": {
      const verdict = fontOutlines(bytes, ext);
      if ("error" in verdict) return problem("font", verdict.error);
      if (verdict.outlines === "cff") {
        return problem(
          "font-cff",
          "has CFF outlines, which Chromium embeds in a PDF as a Type 3 font: use a TrueType-outline (glyf) version",
        );
      }
      if (verdict.outlines === "none") return problem("font", "has no glyph outlines (no 'glyf' table)");
      return [];
    }
    case "svg":
      return checkSvg(file, bytes);
    default:
      return checkRaster(file, ext, bytes);
  }
}

const MAGIC: Record<"png" | "jpg" | "jpeg" | "webp", (b: Uint8Array) => boolean> = {
  png: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v),
  jpg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  webp: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP",
};

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

function checkRaster(file: string, ext: "png" | "jpg" | "jpeg" | "webp", bytes: Uint8Array): PackageProblem[] {
  if (!MAGIC[ext](bytes)) return [{ file, rule: "asset-content", message: `is not a ${ext.toUpperCase()} image` }];
  return pixelProblems(file, bytes);
}

function pixelProblems(file: string, bytes: Uint8Array, offset?: { text: string; at: number }): PackageProblem[] {
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch {
    const message = "an image whose size cannot be read";
    return [
      offset
        ? problemAt(file, offset.text, offset.at, "asset-content", message)
        : { file, rule: "asset-content", message },
    ];
  }
  const width = size.width ?? 0;
  const height = size.height ?? 0;
  if (width <= MAX_IMAGE_SIDE && height <= MAX_IMAGE_SIDE && width * height <= MAX_IMAGE_PIXELS) return [];
  const message = `is ${width} × ${height} pixels; at most ${MAX_IMAGE_SIDE} a side and ${MAX_IMAGE_PIXELS} in all`;
  return [
    offset ? problemAt(file, offset.text, offset.at, "image-pixels", message) : { file, rule: "image-pixels", message },
  ];
}

/**
 * An SVG image refers to nothing outside itself (only #id), runs nothing, declares no DTD (entity
 * expansion); raster images embedded in it as data: URLs are held to the same pixel bounds.
 */
function checkSvg(file: string, bytes: Uint8Array): PackageProblem[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return [{ file, rule: "asset-content", message: "is not UTF-8 text (an SVG image is)" }];
  }
  if (!/<svg[\s>]/i.test(text))
    return [{ file, rule: "asset-content", message: "is not an SVG image (no <svg> element)" }];
  const problems: PackageProblem[] = [];
  const doctype = /<!(?:DOCTYPE|ENTITY)/i.exec(text);
  if (doctype) {
    problems.push(
      problemAt(
        file,
        text,
        doctype.index,
        "svg-doctype",
        "a DOCTYPE or ENTITY declaration is not allowed in an SVG asset",
      ),
    );
  }
  const scan = scanMarkup(text, { assets: null, mustaches: [] });
  for (const f of scan.findings) problems.push(problemAt(file, text, f.offset, f.rule, f.message));
  for (const m of text.matchAll(EMBEDDED_IMAGE)) {
    const embedded = new Uint8Array(Buffer.from((m[1] ?? "").replace(/\s+/g, ""), "base64"));
    problems.push(...pixelProblems(file, embedded, { text, at: m.index ?? 0 }));
  }
  return problems;
}
