#!/usr/bin/env node
/**
 * `npm run build`, which `npm install` and `npm ci` also run (the `prepare` script): the CLI compiled
 * by esbuild into one ESM file, dist/cli.mjs, with its source map, and the thread it starts for
 * template packages, dist/fence-worker.mjs (bin/build-fence-worker.js). The project's own code
 * (functions/, templates/) is bundled; npm packages stay imports, loaded from node_modules at run
 * time (Chromium's package finds its files beside itself). dist/cli.inputs.json lists the files it
 * was built from, so that bin/report-render.js can tell when a source is newer than the build.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FENCE_WORKER_ENTRY, FENCE_WORKER_FILE } from "./build-fence-worker.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CLI = join(ROOT, "dist", "cli.mjs");
const CLI_INPUTS = join(ROOT, "dist", "cli.inputs.json");
/** Besides the sources esbuild reads: this script, so that a change in how the CLI is built rebuilds it. */
const ALSO_BUILT_FROM = ["bin/build-cli.js", "bin/build-fence-worker.js"];

/**
 * The AWS SDK is imported by functions/service/ for storage, which the CLI never uses. esbuild drops
 * the code that uses it but keeps an import of an external package in case it has side effects;
 * these have none, and loading them would cost ~0.2 s on every run.
 */
const dropUnusedAwsSdk = {
  name: "drop-unused-aws-sdk",
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\// }, (args) => ({ path: args.path, external: true, sideEffects: false }));
  },
};

/** Builds dist/cli.mjs and dist/fence-worker.mjs (+ .map, + the list of their inputs). */
export async function buildCli() {
  const { build } = await import("esbuild");
  const startedAt = Date.now();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: "functions/cli/main.ts", out: "cli" },
      { in: FENCE_WORKER_ENTRY, out: FENCE_WORKER_FILE.replace(/\.mjs$/, "") },
    ],
    outdir: dirname(CLI),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    plugins: [dropUnusedAwsSdk],
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: "warning",
  });
  const inputs = [...Object.keys(result.metafile.inputs), ...ALSO_BUILT_FROM].sort();
  const outputs = result.outputFiles.map((file) => [file.path, file.contents]);
  // The bundle last: each file is written under a name of its own, then renamed over the old one,
  // so neither a CLI starting meanwhile nor a build running at the same time reads half a file.
  const files = [
    ...outputs.filter(([path]) => path !== CLI),
    [CLI_INPUTS, `${JSON.stringify({ builtAt: startedAt, inputs }, null, 1)}\n`],
    ...outputs.filter(([path]) => path === CLI),
  ];
  await mkdir(dirname(CLI), { recursive: true });
  for (const [path, contents] of files) {
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, contents);
    await rename(temporary, path);
  }
}

/**
 * Why dist/cli.mjs must be built (again): it is missing, or a file it was built from changed or is
 * gone since. Undefined when it is up to date. A few dozen stat calls: cheap enough for every run.
 */
export function staleness() {
  if (!existsSync(CLI)) return "dist/cli.mjs is missing";
  let built;
  try {
    built = JSON.parse(readFileSync(CLI_INPUTS, "utf8"));
  } catch {
    return "dist/cli.inputs.json is missing";
  }
  for (const input of built.inputs) {
    const mtime = statSync(join(ROOT, input), { throwIfNoEntry: false })?.mtimeMs;
    if (mtime === undefined) return `${input} is gone`;
    if (mtime >= built.builtAt) return `${input} changed`;
  }
  return undefined;
}

// Run as a script (not imported by bin/report-render.js); argv[1] may be reached through a symlink.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await buildCli();
  } catch (e) {
    // esbuild has printed what is wrong, with the file and line.
    process.stderr.write(`report-render build: ${e instanceof Error ? e.message.split("\n")[0] : e}\n`);
    // An install without dev dependencies (npm ci --omit=dev) has no esbuild: that must not fail the
    // install itself; bin/report-render.js then says to run `npm run build`.
    const noEsbuild = e instanceof Error && "code" in e && e.code === "ERR_MODULE_NOT_FOUND";
    process.exitCode = noEsbuild && process.env.npm_lifecycle_event === "prepare" ? 0 : 1;
  }
}
