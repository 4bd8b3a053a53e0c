/**
 * npm run bench: how fast the render core is, in ratios measured in one run (machines are noisy).
 *   whole path  JSON text in → PDF bytes out (renderReport), warm browser
 *   floor       page.pdf alone on the same final document, already loaded in a warm page
 *   reprint     page.pdf of that document a second time (style, shaping and layout already done)
 *   cold start  a fresh process with an empty temp folder (Chromium not yet inflated) → first PDF
 *   peak RSS    this process plus the Chromium process (high-water marks)
 * The last line is one JSON object for scripts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { browserProcessId, closeBrowser, withDocument } from "../functions/core/browser.ts";
import { buildDocument } from "../functions/core/html.ts";
import { builtInRenderer } from "../functions/service/service.ts";
import type { RenderOptions } from "../functions/core/types.ts";

const renderer = builtInRenderer();
const renderReport = (input: unknown) => renderer.render(input);

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 40);
const examplePath = "examples/zhanhe-transport-2020.json";
const text = readFileSync(examplePath, "utf8");

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
const round = (n: number) => Math.round(n * 10) / 10;

async function chromiumPeakRssMb(): Promise<number> {
  const pid = await browserProcessId();
  if (!pid || !existsSync(`/proc/${pid}/status`)) return 0;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(hwm ?? 0) / 1024;
}

// Warm up: launch Chromium, load fonts, compile the template.
for (let i = 0; i < 5; i++) await renderReport(text);

// Interleave whole-path and floor samples so both see the same machine load.
const envelope = JSON.parse(text) as { template: string; data: unknown; options?: RenderOptions };
const template = renderer.templates.get(envelope.template);
const meta = template.definition.metadata(envelope.data);
const doc = buildDocument(
  template,
  await template.definition.view(envelope.data, envelope.options ?? {}),
  envelope.options ?? {},
  {
    title: meta.title,
    lang: meta.lang,
  },
);
const whole: number[] = [];
const floor: number[] = [];
const reprint: number[] = [];
for (let i = 0; i < ITERATIONS; i++) {
  const t0 = performance.now();
  await renderReport(text);
  whole.push(performance.now() - t0);
  await withDocument(doc, async (page) => {
    const options = { preferCSSPageSize: true, printBackground: true, outline: true, tagged: true } as const;
    const t1 = performance.now();
    await page.pdf(options);
    floor.push(performance.now() - t1);
    // Printing the same document again skips style, text shaping and layout, which every new
    // document needs: a lower bound no render can reach, reported beside the floor.
    const t2 = performance.now();
    await page.pdf(options);
    reprint.push(performance.now() - t2);
  });
}
const peakRssMb = round(process.resourceUsage().maxRSS / 1024 + (await chromiumPeakRssMb()));
await closeBrowser();

// Cold start: a new process whose temp folder has no inflated Chromium.
const coldTmp = mkdtempSync(join(tmpdir(), "bench-cold-"));
const cold = spawnSync(process.execPath, ["--import", "tsx", "bench/cold-start.ts", examplePath], {
  env: { ...process.env, TMPDIR: coldTmp },
  encoding: "utf8",
});
rmSync(coldTmp, { recursive: true, force: true });
const coldStartMs =
  (JSON.parse(cold.stdout.trim().split("\n").pop() ?? "{}") as { coldStartMs?: number }).coldStartMs ?? Number.NaN;

// The long-table figures of the `report` template, measured in their own process.
let longTable: Record<string, number> = {};
if (existsSync("bench/long-table.ts")) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "bench/long-table.ts"], { encoding: "utf8" });
  try {
    longTable = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number>;
  } catch {
    process.stderr.write(`long-table bench failed: ${run.stderr}\n`);
  }
}

const result = {
  iterations: ITERATIONS,
  wholePathP50Ms: round(percentile(whole, 50)),
  wholePathP95Ms: round(percentile(whole, 95)),
  floorP50Ms: round(percentile(floor, 50)),
  floorP95Ms: round(percentile(floor, 95)),
  reprintP50Ms: round(percentile(reprint, 50)),
  ratio: round((percentile(whole, 50) / percentile(floor, 50)) * 100) / 100,
  coldStartMs,
  peakRssMb,
  ...Object.fromEntries(Object.entries(longTable).map(([k, v]) => [`longTable_${k}`, v])),
};
console.log(`example: ${examplePath}, ${ITERATIONS} iterations each, interleaved`);
console.log(`whole path  p50 ${result.wholePathP50Ms} ms  p95 ${result.wholePathP95Ms} ms`);
console.log(`floor       p50 ${result.floorP50Ms} ms  p95 ${result.floorP95Ms} ms  (page.pdf alone, warm page)`);
console.log(`reprint     p50 ${result.reprintP50Ms} ms  (the same document printed a second time)`);
console.log(`ratio       ${result.ratio} × floor (goal ≤ 1.15)`);
console.log(`cold start  ${coldStartMs} ms   peak RSS ${peakRssMb} MB (node + Chromium)`);
console.log(JSON.stringify(result));
