/**
 * npm run bench: how fast the render core is, in ratios measured in one run (machines are noisy).
 *   whole path  JSON text in → PDF bytes out (renderReport), warm browser
 *   floor       page.pdf alone on the same final document, already loaded in a warm page
 *   reprint     page.pdf of that document a second time (style, shaping and layout already done)
 *   cold start  a fresh process with an empty temp folder → first PDF (Chromium from the project's cache)
 *   CLI         wall time of `node bin/report-render.js <example> -o <tmp>` (the compiled dist/cli.mjs):
 *               warm (a temp folder used before) and cold (a fresh empty one); Chromium comes unpacked
 *               from node_modules/.cache/report-render either way
 *   peak RSS    this process plus the Chromium process (high-water marks)
 *   TOC         the 2,000-row report with a table of contents ÷ without (bench/render/toc.ts)
 *   package     the example template package ÷ the built-in `report` on the same notice, warm path (bench/render/package.ts)
 *   parallel    renders per second with 2 in flight ÷ with 1 (bench/parallel/parallel.ts): POST /v1/render on the
 *               local server, and the render core alone; and the same for two processes that share
 *               nothing, the most this machine gives (bench/parallel/parallel-bound.ts)
 *   jsreport    with JSREPORT_DIR set: jsreport 4 ÷ ours, seed report and 2,000-row TOC report (bench/peers/jsreport.ts)
 *   hostile     the template attacks of issue 21 on the local server: the slowest refusal, the worst
 *               /health answer meanwhile, the most the process grew (bench/attacks/hostile.ts, which prints each)
 * The last line is one JSON object for scripts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundledFonts } from "../functions/core/html/fonts.ts";
import { buildDocument } from "../functions/core/html/html.ts";
import { builtInRenderer } from "../functions/service/service.ts";
import { loadConfig } from "../functions/service/settings.ts";
import type { RenderOptions } from "../functions/core/types.ts";
import { percentile } from "./lib/stats.ts";

const renderer = builtInRenderer();
const renderReport = (input: unknown) => renderer.render(input);

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 40);
const examplePath = "examples/zhanhe-transport-2020.json";
const text = readFileSync(examplePath, "utf8");

const round = (n: number) => Math.round(n * 10) / 10;

async function chromiumPeakRssMb(): Promise<number> {
  const pid = await renderer.browsers.processId();
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
const view = await template.definition.view(envelope.data, envelope.options ?? {});
const page = { css: template.css, page: template.definition.page };
const body = await template.render(view, AbortSignal.timeout(60_000));
const head = { title: meta.title, lang: meta.lang };
const doc = buildDocument(page, body, envelope.options ?? {}, head, bundledFonts(loadConfig().runtimeRoot));
const whole: number[] = [];
const floor: number[] = [];
const reprint: number[] = [];
for (let i = 0; i < ITERATIONS; i++) {
  const t0 = performance.now();
  await renderReport(text);
  whole.push(performance.now() - t0);
  await renderer.browsers.withDocument(doc, async (page) => {
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
await renderer.close();

// Cold start: a new process with a fresh temp folder.
const coldTmp = mkdtempSync(join(tmpdir(), "bench-cold-"));
const cold = spawnSync(process.execPath, ["--import", "tsx", "bench/render/cold-start.ts", examplePath], {
  env: { ...process.env, TMPDIR: coldTmp },
  encoding: "utf8",
});
rmSync(coldTmp, { recursive: true, force: true });
const coldStartMs =
  (JSON.parse(cold.stdout.trim().split("\n").pop() ?? "{}") as { coldStartMs?: number }).coldStartMs ?? Number.NaN;

// The CLI as people run it, start to exit: node starting, the compiled CLI loading, Chromium launching
// (warm: a temp folder used before; cold: a fresh empty one), the render, the file written.
// Warm and cold runs alternate so that both see the same machine load.
const CLI_WARM_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 5);
const CLI_COLD_RUNS = Math.max(1, Math.ceil(CLI_WARM_RUNS / 2));
spawnSync(process.execPath, ["bin/build-cli.js"], { stdio: "inherit" }); // an out-of-date build is not timed
const cliOut = mkdtempSync(join(tmpdir(), "bench-cli-out-"));
function cliRunMs(temp: string): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, ["bin/report-render.js", examplePath, "-o", join(cliOut, "report.pdf")], {
    env: { ...process.env, TMPDIR: temp },
    encoding: "utf8",
  });
  const ms = performance.now() - started;
  if (run.status === 0) return ms;
  process.stderr.write(`CLI run failed (exit ${run.status}): ${run.stderr}\n`);
  return Number.NaN;
}
const cliWarmTmp = mkdtempSync(join(tmpdir(), "bench-cli-warm-"));
cliRunMs(cliWarmTmp); // untimed: unpacks Chromium into the project's cache if it is not there yet
const cliWarm: number[] = [];
const cliCold: number[] = [];
for (let i = 0; i < CLI_WARM_RUNS; i++) {
  cliWarm.push(cliRunMs(cliWarmTmp));
  if (i < CLI_COLD_RUNS) {
    const coldTmp = mkdtempSync(join(tmpdir(), "bench-cli-cold-"));
    cliCold.push(cliRunMs(coldTmp));
    rmSync(coldTmp, { recursive: true, force: true });
  }
}
rmSync(cliWarmTmp, { recursive: true, force: true });
rmSync(cliOut, { recursive: true, force: true });

/** A bench of its own process (bench/<file>): the JSON object its last line prints, or {} if it failed. */
function subBench(file: string): Record<string, number> {
  const run = spawnSync(process.execPath, ["--import", "tsx", `bench/${file}`], { encoding: "utf8" });
  try {
    return JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number>;
  } catch {
    process.stderr.write(`${file} failed: ${run.stderr}\n`);
    return {};
  }
}

// The long-table figures of the `report` template, measured in their own process.
const longTable = subBench("render/long-table.ts");
// A table of contents' cost: the 2,000-row report with toc ÷ without.
const toc = subBench("render/toc.ts");
// A published template package's warm path ÷ a built-in template's on the same notice.
const templatePackage = subBench("render/package.ts");
// The peer, when installed in a scratch folder (bench/peers/jsreport.ts says how): jsreport ÷ ours.
const peer = process.env.JSREPORT_DIR ? subBench("peers/jsreport.ts") : {};
// Renders per second with 2 in flight ÷ with 1, on a pool of 2 browsers (POST /v1/render; the core
// alone); and what two processes that share nothing gain on this machine (the most that gain can be).
const parallel = subBench("parallel/parallel.ts");
const parallelGain = parallel.parallelGain ?? Number.NaN;
const parallelBound = subBench("parallel/parallel-bound.ts").parallelBound ?? Number.NaN;
// The template attacks (issue 21): refused in time, /health answered meanwhile, memory bounded.
const hostile = subBench("attacks/hostile.ts");
// A new Lambda instance of the synthesized HTTP function: its init phase, its first request.
const lambdaCold = subBench("render/lambda-cold-start.ts");

const result = {
  iterations: ITERATIONS,
  wholePathP50Ms: round(percentile(whole, 50)),
  wholePathP95Ms: round(percentile(whole, 95)),
  floorP50Ms: round(percentile(floor, 50)),
  floorP95Ms: round(percentile(floor, 95)),
  reprintP50Ms: round(percentile(reprint, 50)),
  ratio: Math.round((percentile(whole, 50) / percentile(floor, 50)) * 100) / 100,
  coldStartMs,
  cliWarmMs: Math.round(percentile(cliWarm, 50)),
  cliColdMs: Math.round(percentile(cliCold, 50)),
  peakRssMb,
  parallelGain,
  parallelGainPooled: parallel.parallelGainPooled,
  parallelGainCore: parallel.parallelGainCore,
  parallelBound,
  ...toc,
  ...templatePackage,
  ...(peer.jsreportSeedRatio === undefined
    ? {}
    : { jsreportSeedRatio: peer.jsreportSeedRatio, jsreportTocRatio: peer.jsreportTocRatio }),
  ...lambdaCold,
  ...hostile,
  ...Object.fromEntries(Object.entries(longTable).map(([k, v]) => [`longTable_${k}`, v])),
};
console.log(`example: ${examplePath}, ${ITERATIONS} iterations each, interleaved`);
console.log(`whole path  p50 ${result.wholePathP50Ms} ms  p95 ${result.wholePathP95Ms} ms`);
console.log(`floor       p50 ${result.floorP50Ms} ms  p95 ${result.floorP95Ms} ms  (page.pdf alone, warm page)`);
console.log(`reprint     p50 ${result.reprintP50Ms} ms  (the same document printed a second time)`);
console.log(`ratio       ${result.ratio} × floor (goal ≤ 1.15)`);
console.log(`cold start  ${coldStartMs} ms   peak RSS ${peakRssMb} MB (node + Chromium)`);
console.log(
  `CLI         warm ${result.cliWarmMs} ms  cold ${result.cliColdMs} ms  (node bin/report-render.js, one report, wall time; median of ${cliWarm.length} and ${cliCold.length})`,
);
console.log(
  `Lambda      cold start ${lambdaCold.lambdaColdStartMs} ms = init ${lambdaCold.lambdaInitMs} ms (Chromium inflated and started) + first request ${lambdaCold.lambdaFirstRequestMs} ms; the pack alone inflates in ${lambdaCold.lambdaUnpackMs} ms`,
);
console.log(
  `TOC         ${toc.tocOverhead} × the 2,000-row report without one (${toc.tocMs} vs ${toc.noTocMs} ms, ${toc.tocPrints} print; goal ≤ 1.3)`,
);
console.log(
  `package     ${templatePackage.packageRatio} × the built-in report on the same notice (payment-notice ${templatePackage.packageMs} vs ${templatePackage.builtInMs} ms, warm; goal ≤ 1.2)`,
);
if (peer.jsreportSeedRatio !== undefined) {
  console.log(
    `jsreport    ${peer.jsreportSeedRatio} × slower on the seed report, ${peer.jsreportTocRatio} × on the 2,000-row TOC report (goals ≥ 3, ≥ 1.2)`,
  );
}
console.log(
  `parallel    ${parallelGain} × renders per second with 2 in flight vs 1 (POST /v1/render, pool of 2 browsers; goal ≥ 1.6); ` +
    `the render core alone ${parallel.parallelGainCore} ×; two processes sharing nothing gain ${parallelBound} × here`,
);
console.log(
  `hostile     every template attack refused (${hostile.hostileAllRefused === 1 ? "all 422" : "NOT ALL"}), the slowest in ${hostile.hostileRefusalWorstMs} ms; ` +
    `/health answered within ${hostile.hostileHealthWorstMs} ms meanwhile (goal < 500); the process grew ${hostile.hostileGrowthWorstMb} MB at most (goal < 400)`,
);
console.log(JSON.stringify(result));
