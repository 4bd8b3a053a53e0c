// One fresh process: the first PDF, with a fresh empty temp folder (bench.ts sets TMPDIR). Chromium
// comes unpacked from the project's cache (node_modules/.cache/report-render), as for the CLI; what a new
// Lambda instance pays to inflate it is lambda-cold-start.ts's lambdaUnpackMs.
import { readFileSync } from "node:fs";
import { builtInRenderer } from "../../functions/service/service.ts";

const renderer = builtInRenderer();
const renderReport = (input: unknown) => renderer.render(input);

const input = JSON.parse(readFileSync(process.argv[2] ?? "examples/zhanhe-transport-2020.json", "utf8")) as unknown;
await renderReport(input);
// Time since this process started, module loading and Chromium inflation included.
process.stdout.write(`${JSON.stringify({ coldStartMs: Math.round(performance.now()) })}\n`);
await renderer.close();
