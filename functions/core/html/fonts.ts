import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { declaredFaces } from "./margin-text.ts";

/**
 * The bundled fonts, served to the page from memory under ASSET_ORIGIN/assets/fonts/ (each renderer
 * reads its own: createRenderer's packagesRoot).
 * All are TrueType-outline woff2 files split by unicode-range, so Chromium fetches only the slices
 * a document uses and Skia embeds them as TrueType subsets (CFF fonts would become Type 3).
 *
 * - Noto Serif SC 400/700: body text (仿宋 stand-in), title (小标宋 stand-in), （一） headings.
 * - Noto Sans SC 500: 一、 headings (黑体 stand-in).
 * - HanaMin (Hanazono Mincho, GlyphWiki): last-resort fallback for CJK Ext A–F and rare
 *   characters of agency and person names (䶮, 𠀀, 鿏) that Noto's web subsets lack.
 */
interface FontSource {
  family: string;
  pkg: string;
  css: string;
  /** The weight the face declares; a range stops Chromium from synthesising bold (which is Type 3). */
  weight: string;
}

const SOURCES: FontSource[] = [
  { family: "Noto Serif SC", pkg: "@fontsource/noto-serif-sc", css: "400.css", weight: "400" },
  { family: "Noto Serif SC", pkg: "@fontsource/noto-serif-sc", css: "700.css", weight: "700" },
  { family: "Noto Sans SC", pkg: "@fontsource/noto-sans-sc", css: "500.css", weight: "500" },
  { family: "HanaMin", pkg: "hanamin", css: "HanaMin.css", weight: "100 900" },
];

/** A renderer's bundled fonts: their @font-face rules and their files, read once for it. */
export interface BundledFonts {
  /** @font-face rules pointing at ASSET paths (no local(), so a machine's own fonts never leak in). */
  css: string;
  /** The faces the rules declare (family, weight, style). */
  faces: { family: string; weight: string; style: string }[];
  /** URL path → the file on disk it is served from (a Lambda asset must hold each). */
  files: ReadonlyMap<string, string>;
  /** The bytes of the font served at `urlPath`, read on first use; undefined for any other path. */
  file(urlPath: string): Buffer | undefined;
}

/**
 * The bundled fonts of the font packages installed under `packagesRoot` (a folder whose node_modules
 * holds them: the repository, or a Lambda bundle's runtime folder).
 */
export function bundledFonts(packagesRoot: string): BundledFonts {
  const { css, files } = readFontAssets(packagesRoot);
  const contents = new Map<string, Buffer>();
  return {
    css,
    files,
    faces: declaredFaces(css),
    file(urlPath) {
      const file = files.get(urlPath);
      if (!file) return undefined;
      let bytes = contents.get(urlPath);
      if (!bytes) {
        bytes = readFileSync(file);
        contents.set(urlPath, bytes);
      }
      return bytes;
    },
  };
}

function readFontAssets(root: string): { css: string; files: Map<string, string> } {
  const requireFromRoot = createRequire(join(root, "package.json"));
  const packageDir = (name: string) => dirname(requireFromRoot.resolve(`${name}/package.json`));
  const files = new Map<string, string>();
  const rules: string[] = [];
  for (const source of SOURCES) {
    const dir = packageDir(source.pkg);
    const slug = source.pkg.replace(/^@/, "").replace(/\//g, "-");
    const css = readFileSync(join(dir, source.css), "utf8");
    for (const face of css.matchAll(/@font-face\s*{([^}]*)}/g)) {
      const body = face[1] ?? "";
      const url = /url\(\s*["']?([^"')]+\.woff2)["']?\s*\)/.exec(body)?.[1];
      const range = /unicode-range:\s*([^;]+);/.exec(body)?.[1];
      if (!url || !range) continue;
      const file = url.replace(/^\.\//, "");
      const urlPath = `/assets/fonts/${slug}/${file.split("/").pop()}`;
      files.set(urlPath, join(dir, file));
      rules.push(
        `@font-face{font-family:"${source.family}";font-style:normal;font-weight:${source.weight};` +
          `font-display:block;src:url(${urlPath}) format("woff2");unicode-range:${range.trim()}}`,
      );
    }
  }
  if (rules.length === 0) throw new Error("no bundled fonts found: are the font packages installed?");
  return { css: rules.join("\n"), files };
}
