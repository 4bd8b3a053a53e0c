#!/usr/bin/env node
// The CLI runs compiled JavaScript, dist/cli.mjs (`npm run build`; `npm install` and `npm ci` build
// it), not the TypeScript sources through a loader, which cost ~0.5 s at every start. When
// dist/cli.mjs is missing or older than a file it was built from, it is built first (esbuild, well
// under a second); if that cannot be done (esbuild not installed), you are told to run `npm run build`.
import { pathToFileURL } from "node:url";
import { buildCli, CLI, staleness } from "./build-cli.js";

const outdated = staleness();
let runnable = true;
if (outdated !== undefined) {
  try {
    await buildCli();
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    if (outdated === "dist/cli.mjs is missing") {
      process.stderr.write(
        `report-render: dist/cli.mjs is missing and could not be built (${why}): run \`npm run build\`\n`,
      );
      runnable = false;
    } else {
      process.stderr.write(
        `report-render: dist/cli.mjs is out of date (${outdated}) and could not be rebuilt (${why}); running it as it is: run \`npm run build\`\n`,
      );
    }
  }
}
// Ctrl-C (or a kill) ends the run at once with the shell's status, through process.exit: that runs
// the exit hooks which stop Chromium and remove its profile folder; a signal's default would not.
for (const [signal, status] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
]) {
  process.once(signal, () => process.exit(status));
}
if (runnable) {
  const { main } = await import(pathToFileURL(CLI).href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  process.exitCode = 1;
}
