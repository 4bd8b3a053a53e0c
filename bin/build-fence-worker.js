#!/usr/bin/env node
/**
 * The fence's worker thread (functions/packages/fence/worker.ts) as a module of its own, for code
 * that runs bundled: fence.ts starts `fence-worker.mjs` when it is beside the bundle that holds it
 * (dist/ for the CLI, the asset of a Lambda function), and worker.ts through tsx otherwise.
 *
 *   node bin/build-fence-worker.js OUT_DIR     everything bundled and minified (a Lambda asset: no node_modules)
 *
 * bin/build-cli.js builds the CLI's own, with npm packages left as imports.
 */
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const FENCE_WORKER_ENTRY = "functions/packages/fence/worker.ts";
export const FENCE_WORKER_FILE = "fence-worker.mjs";

/**
 * An ESM bundle may still meet CommonJS code that calls require() for Node built-ins (handlebars,
 * ajv…); esbuild leaves those calls to a `require` that ESM lacks.
 */
const REQUIRE_SHIM =
  "import { createRequire as __reportRenderRequire } from 'node:module'; const require = __reportRenderRequire(import.meta.url);";

/** OUT_DIR/fence-worker.mjs with every package bundled (the target Lambda runs). */
export async function buildStandaloneFenceWorker(outDir) {
  const { build } = await import("esbuild");
  await build({
    absWorkingDir: ROOT,
    entryPoints: [FENCE_WORKER_ENTRY],
    outfile: join(outDir, FENCE_WORKER_FILE),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    mainFields: ["module", "main"],
    banner: { js: REQUIRE_SHIM },
    minify: true,
    sourcemap: "linked",
    sourcesContent: false,
    logLevel: "warning",
  });
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [outDir] = process.argv.slice(2);
  if (!outDir) {
    process.stderr.write("usage: node bin/build-fence-worker.js OUT_DIR\n");
    process.exit(1);
  }
  try {
    await buildStandaloneFenceWorker(outDir);
  } catch (e) {
    process.stderr.write(`build-fence-worker: ${e instanceof Error ? e.message.split("\n")[0] : e}\n`);
    process.exitCode = 1;
  }
}
