import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, posix, relative, sep } from "node:path";
import { WEB_FONT_STYLESHEETS } from "../../functions/http/web-fonts.ts";
import { PACK_DIR } from "../../functions/service/chromium-pack.ts";

/**
 * The files a render function reads from disk at run time, besides its bundled code and the
 * Chromium package: templates (functions/core/templates.ts), the bundled fonts (functions/core/fonts.ts
 * resolves them as npm packages from REPORT_RENDER_ROOT), the web page, its fonts (functions/http/web-fonts.ts)
 * and its pdf.js. They are copied
 * into RUNTIME_DIR of the asset with their paths from the project root, so REPORT_RENDER_ROOT points
 * there and the code finds them as it does in the source tree.
 */
export const RUNTIME_DIR = "runtime";

/** Where a zip-packaged Lambda function's asset is unpacked. */
export const LAMBDA_TASK_ROOT = "/var/task";

/** The stylesheets functions/core/fonts.ts reads; only the woff2 files they name are copied. */
const FONT_STYLESHEETS: { pkg: string; css: string[] }[] = [
  { pkg: "@fontsource/noto-serif-sc", css: ["400.css", "700.css"] },
  { pkg: "@fontsource/noto-sans-sc", css: ["500.css"] },
  { pkg: "hanamin", css: ["HanaMin.css"] },
];

/** pdf.js for the web page's previews (functions/http/web-page-route.ts): the two minified modules. */
const PDFJS_FILES = ["legacy/build/pdf.min.mjs", "legacy/build/pdf.worker.min.mjs"];

/** Files of a template folder that are read at run time (the .ts files are bundled instead). */
const TEMPLATE_FILE = /\.(hbs|css|json)$/;

/** Paths relative to the project root, with forward slashes: what a render function reads. */
export function runtimeFiles(projectRoot: string): string[] {
  return collect(projectRoot, { templates: true, fonts: [...FONT_STYLESHEETS, ...WEB_FONT_STYLESHEETS] });
}

/** What the page function reads (functions/http/web-page-route.ts): the page, its fonts, pdf.js. */
export function pageFiles(projectRoot: string): string[] {
  return collect(projectRoot, { templates: false, fonts: WEB_FONT_STYLESHEETS });
}

function collect(
  projectRoot: string,
  what: { templates: boolean; fonts: readonly { pkg: string; css: readonly string[] }[] },
): string[] {
  const files = new Set<string>();
  const add = (absolute: string) => files.add(relative(projectRoot, absolute).split(sep).join(posix.sep));

  if (what.templates) for (const file of walk(join(projectRoot, "templates"))) if (TEMPLATE_FILE.test(file)) add(file);
  // The page's files as served; type declarations beside them are for the tests' type checks.
  for (const file of walk(join(projectRoot, "functions/web"))) if (!file.endsWith(".ts")) add(file);

  const requireFromRoot = createRequire(join(projectRoot, "package.json"));
  const packageDir = (name: string) => dirname(requireFromRoot.resolve(`${name}/package.json`));
  for (const { pkg, css } of what.fonts) {
    const dir = packageDir(pkg);
    add(join(dir, "package.json"));
    add(join(dir, "LICENSE"));
    for (const sheet of css) {
      add(join(dir, sheet));
      const text = readFileSync(join(dir, sheet), "utf8");
      for (const match of text.matchAll(/url\(\s*["']?([^"')]+\.woff2)["']?\s*\)/g)) add(join(dir, match[1] ?? ""));
    }
  }
  const pdfjs = packageDir("pdfjs-dist");
  add(join(pdfjs, "package.json"));
  add(join(pdfjs, "LICENSE"));
  for (const file of PDFJS_FILES) add(join(pdfjs, file));

  const outside = [...files].find((f) => f.startsWith("../"));
  if (outside) throw new Error(`runtime file ${outside} is outside the project root ${projectRoot}`);
  return [...files].sort();
}

/**
 * Shell commands (bundling.commandHooks.afterBundling) that copy `files` from `inputDir` into
 * `outputDir`/RUNTIME_DIR: one `cp` per folder, so no command line grows with the number of fonts.
 */
export function copyCommands(files: string[], inputDir: string, outputDir: string): string[] {
  const byDir = new Map<string, string[]>();
  for (const file of files) {
    const dir = posix.dirname(file);
    byDir.set(dir, [...(byDir.get(dir) ?? []), posix.basename(file)]);
  }
  return [...byDir].map(([dir, names]) => {
    const target = posix.join(outputDir, RUNTIME_DIR, dir);
    return [
      `mkdir -p ${quote(target)}`,
      `cd ${quote(posix.join(inputDir, dir))}`,
      `cp ${names.map(quote).join(" ")} ${quote(`${target}/`)}`,
    ].join(" && ");
  });
}

/** Where synths keep the Chromium pack they made, so that only the first one makes it. */
const PACK_CACHE = "node_modules/.cache/report-render";

/**
 * Shell commands (bundling.commandHooks.afterBundling) that write Chromium's pack into
 * `outputDir`/RUNTIME_DIR/PACK_DIR (functions/service/chromium-pack-writer.ts: gzip in parts, which a
 * new instance inflates four times as fast as the package's brotli), from the @sparticuz/chromium
 * package npm installed at `binDir`, then remove that bin/ folder, which no function reads any more.
 */
export function chromiumPackCommands(
  projectRoot: string,
  binDir: string,
  outputDir: string,
  cacheDir = join(projectRoot, PACK_CACHE),
): string[] {
  const tsx = createRequire(join(projectRoot, "package.json")).resolve("tsx/cli");
  const writer = join(projectRoot, "functions/service/chromium-pack-writer.ts");
  const pack = posix.join(outputDir, RUNTIME_DIR, PACK_DIR);
  const args = [process.execPath, tsx, writer, binDir, pack, cacheDir];
  return [args.map(quote).join(" "), `rm -rf ${quote(binDir)}`];
}

/**
 * The shell command (bundling.commandHooks.afterBundling) that writes `outputDir`/fence-worker.mjs:
 * the worker thread template packages run in (functions/packages/fence/), bundled whole, beside the
 * function's own bundle where fence.ts looks for it.
 */
export function fenceWorkerCommand(projectRoot: string, outputDir: string): string {
  return [process.execPath, join(projectRoot, "bin/build-fence-worker.js"), outputDir].map(quote).join(" ");
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : entry.isFile() ? [path] : [];
  });
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
