// One fresh process: the first PDF, with nothing inflated in the temp folder (bench.ts sets TMPDIR).
import { readFileSync } from "node:fs";
import { closeBrowser } from "../functions/core/browser.ts";
import { builtInRenderer } from "../functions/service/service.ts";

const renderer = builtInRenderer();
const renderReport = (input: unknown) => renderer.render(input);

const input = JSON.parse(readFileSync(process.argv[2] ?? "examples/zhanhe-transport-2020.json", "utf8")) as unknown;
await renderReport(input);
// Time since this process started, module loading and Chromium inflation included.
process.stdout.write(`${JSON.stringify({ coldStartMs: Math.round(performance.now()) })}\n`);
await closeBrowser();
