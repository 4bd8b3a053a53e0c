import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * The web page's own fonts: Noto Sans SC 400 and 700 as @fontsource ships them (woff2 slices, each
 * with its unicode-range, so a browser fetches only the slices the page's text uses). Served by the
 * HTTP door, so the page never shows boxes for Chinese on a machine without CJK fonts.
 * infra/constructs/runtime-files.ts copies these stylesheets' woff2 files into the Lambda bundle.
 */
export const WEB_FONT_STYLESHEETS: { pkg: string; css: string[] }[] = [
  { pkg: "@fontsource/noto-sans-sc", css: ["400.css", "700.css"] },
];

const FAMILY = "Noto Sans SC";

/** The URL paths of the font files: fixed names under one folder, so a path never reaches the file system. */
export const WEB_FONT_PATH = /^\/assets\/fonts\/noto-sans-sc\/[a-z0-9-]+\.woff2$/;

export interface WebFonts {
  /** @font-face rules for the page (/assets/fonts.css); empty when the font package is not installed. */
  css: string;
  /** URL path → file on disk. */
  files: Map<string, string>;
}

const built = new Map<string, WebFonts>();

/** The page's fonts as installed under `root` (the source tree, or a Lambda bundle's runtime folder). */
export function webFonts(root: string): WebFonts {
  let fonts = built.get(root);
  if (!fonts) {
    fonts = buildWebFonts(root);
    built.set(root, fonts);
  }
  return fonts;
}

function buildWebFonts(root: string): WebFonts {
  const requireFromRoot = createRequire(join(root, "package.json"));
  const files = new Map<string, string>();
  const rules: string[] = [];
  for (const { pkg, css } of WEB_FONT_STYLESHEETS) {
    const dir = packageDir(requireFromRoot, pkg);
    if (!dir) continue;
    for (const sheet of css) {
      // A deployment without them serves the page in the browser's own fonts (fonts.css is 404).
      const text = readIfThere(join(dir, sheet));
      for (const face of text.matchAll(/@font-face\s*{([^}]*)}/g)) {
        const body = face[1] ?? "";
        const url = /url\(\s*["']?([^"')]+\.woff2)["']?\s*\)/.exec(body)?.[1];
        const range = /unicode-range:\s*([^;]+);/.exec(body)?.[1];
        const weight = /font-weight:\s*(\d+)\s*;/.exec(body)?.[1];
        if (!url || !range || !weight) continue;
        const path = `/assets/fonts/noto-sans-sc/${url.split("/").pop()}`;
        if (!WEB_FONT_PATH.test(path)) continue;
        files.set(path, join(dir, url.replace(/^\.\//, "")));
        // block, not swap: a fallback without CJK glyphs would flash boxes while a slice loads.
        rules.push(
          `@font-face{font-family:"${FAMILY}";font-style:normal;font-weight:${weight};font-display:block;` +
            `src:url(${path}) format("woff2");unicode-range:${range.trim()}}`,
        );
      }
    }
  }
  return { css: rules.length ? `${rules.join("\n")}\n` : "", files };
}

function readIfThere(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function packageDir(requireFromRoot: NodeJS.Require, pkg: string): string | undefined {
  try {
    return dirname(requireFromRoot.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}
