/**
 * npx tsx bench/parallel/parallel.ts — does a second render in flight use the second core?
 *
 * Renders per second of the seed report with 1 render in flight and with 2, after warm-up:
 * - through the endpoint, as the issue states it: `POST /v1/render` (Accept: application/pdf) on the
 *   local server (npm start's, in this process) with a pool of 2 browsers (RENDER_BROWSERS): JSON
 *   body in → PDF bytes out over HTTP, from clients in a process of their own (parallel-client.ts),
 *   as a service's clients are. This is parallelGain.
 * - through the render core alone (renderer.render: JSON text in → PDF bytes out), with a pool of 2
 *   browsers and with 1: no HTTP, no base64 body, so a larger share of each render is the part both
 *   renders share. These are parallelGainCore and singleBrowserGain.
 * Also the CPU each render cost, in Node and in the Chromium processes (from /proc).
 *
 * "With 2 in flight" is counted only while 2 are: in a block of renders, from the first completion
 * (before it, the renders all started at the same instant) to the first completion after which no
 * render was left to start (after it, fewer are in flight than clients: the last render of a block
 * of 2 runs alone). The whole blocks, start and end included, are printed beside it.
 *
 * The machines are shared: their speed drifts by a third within a minute. So the modes alternate in
 * short blocks (which goes first alternates too), each pair of neighbouring blocks gives one ratio,
 * and the gain is the median of those ratios: a slow spell spoils one pair, not the result. The
 * pooled rates (all renders ÷ all seconds) are printed beside it.
 *
 * The gain is (renders/s with 2 in flight) ÷ (renders/s with 1); goal ≥ 1.6 for the pool of 2 on a
 * 2-core machine. The last line is one JSON object for scripts: { "parallelGain": …, … }.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BlockTimes, inFlightBlock } from "./in-flight.ts";
import { nextMessage } from "../lib/child-message.ts";
import { median, round2 } from "../lib/stats.ts";
import { startLocal } from "../../functions/local/server.ts";
import { createLogger } from "../../functions/service/log.ts";
import type { BrowserPool } from "../../functions/core/browser/index.ts";
import type { Renderer } from "../../functions/core/render.ts";
import { builtInRenderer } from "../../functions/service/service.ts";
import { loadConfig, withOverrides } from "../../functions/service/settings.ts";

const ROUNDS = Number(process.env.PARALLEL_ROUNDS ?? 16);
/** Renders per block (one mode, one round). */
const RENDERS = Number(process.env.PARALLEL_RENDERS ?? 10);
const examplePath = "examples/zhanhe-transport-2020.json";
const text = readFileSync(examplePath, "utf8");

/** CPU seconds used so far by the Chromium processes `pids` (utime + stime; single-process: one each). */
function chromiumCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100; // USER_HZ
}

const nodeCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

interface Tally {
  /** Renders completed while `inFlight` were in flight, and the seconds that took (see the header). */
  renders: number;
  seconds: number;
  /** Whole blocks: every render, from the first start to the last end. */
  blockRenders: number;
  blockSeconds: number;
  nodeCpu: number;
  chromiumCpu: number;
}

const emptyTally = (): Tally => ({
  renders: 0,
  seconds: 0,
  blockRenders: 0,
  blockSeconds: 0,
  nodeCpu: 0,
  chromiumCpu: 0,
});

function add(into: Tally, from: Tally): void {
  for (const key of Object.keys(into) as (keyof Tally)[]) into[key] += from[key];
}

/**
 * `count` renders, `inFlight` at a time (count > inFlight), run by `run` (here, or in the client
 * process), tallied with the CPU this process and Chromium used meanwhile.
 */
async function block(run: Run, inFlight: number, count: number, tally: Tally, browsers: BrowserPool): Promise<void> {
  const pids = await browsers.processIds();
  const cpu0 = nodeCpuSeconds();
  const chromium0 = chromiumCpuSeconds(pids);
  const { started, completed } = await run(inFlight, count);
  // From the first completion to completion number count − inFlight + 1, `inFlight` were in flight
  // throughout: every completion before that one started another render.
  const first = completed[0] as number;
  const lastFull = completed[count - inFlight] as number;
  tally.renders += count - inFlight;
  tally.seconds += (lastFull - first) / 1000;
  tally.blockRenders += count;
  tally.blockSeconds += ((completed.at(-1) as number) - started) / 1000;
  tally.nodeCpu += nodeCpuSeconds() - cpu0;
  tally.chromiumCpu += chromiumCpuSeconds(pids) - chromium0;
}

/** Runs a block: `count` renders, `inFlight` at a time. */
type Run = (inFlight: number, count: number) => Promise<BlockTimes>;

async function measure(name: string, run: Run, renderer: Renderer) {
  const { browsers } = renderer;
  // Warm up: launch the browsers (the second starts with the second render in flight), fonts,
  // the template's compiled code, V8's JIT.
  await block(run, 1, 3, emptyTally(), browsers);
  await block(run, 2, 6, emptyTally(), browsers);
  const one = emptyTally();
  const two = emptyTally();
  const countsBefore = browsers.load().map((b) => b.printed);
  const ratios: number[] = [];
  const blockRatios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which mode goes first, so a drift of the machine's speed favours neither.
    const order = r % 2 === 0 ? [1, 2] : [2, 1];
    const rates = { 1: { steady: 0, block: 0 }, 2: { steady: 0, block: 0 } };
    for (const inFlight of order) {
      const round = emptyTally();
      await block(run, inFlight, RENDERS, round, browsers);
      rates[inFlight as 1 | 2] = {
        steady: round.renders / round.seconds,
        block: round.blockRenders / round.blockSeconds,
      };
      add(inFlight === 1 ? one : two, round);
    }
    ratios.push(rates[2].steady / rates[1].steady);
    blockRatios.push(rates[2].block / rates[1].block);
  }
  const counts = browsers
    .load()
    .map((b) => b.printed)
    .map((n, i) => n - (countsBefore[i] ?? 0));
  const pids = await browsers.processIds();
  await renderer.close();
  const rate = (t: Tally) => t.renders / t.seconds;
  const blockRate = (t: Tally) => t.blockRenders / t.blockSeconds;
  const perRender = (t: Tally, cpu: number) => Math.round((cpu / t.blockRenders) * 1000);
  const result = {
    chromiumProcesses: pids.length,
    rendersPerBrowser: counts,
    oneInFlightPerSecond: round2(rate(one)),
    twoInFlightPerSecond: round2(rate(two)),
    gain: round2(median(ratios)),
    pooledGain: round2(rate(two) / rate(one)),
    roundGains: ratios.map(round2),
    wholeBlockGain: round2(median(blockRatios)),
    wholeBlockPooledGain: round2(blockRate(two) / blockRate(one)),
    cpuMsPerRender: {
      one: { node: perRender(one, one.nodeCpu), chromium: perRender(one, one.chromiumCpu) },
      two: { node: perRender(two, two.nodeCpu), chromium: perRender(two, two.chromiumCpu) },
    },
  };
  console.log(
    `${name}: 1 in flight ${result.oneInFlightPerSecond}/s, 2 in flight ${result.twoInFlightPerSecond}/s, ` +
      `gain ${result.gain}× (median of ${ratios.length} rounds, ${Math.min(...result.roundGains)}–${Math.max(...result.roundGains)}; ` +
      `pooled ${result.pooledGain}×; whole blocks ${result.wholeBlockGain}×, pooled ${result.wholeBlockPooledGain}×) (${pids.length} Chromium, renders per browser ${counts.join("/")}; CPU ms per render ` +
      `node ${result.cpuMsPerRender.one.node}→${result.cpuMsPerRender.two.node}, ` +
      `Chromium ${result.cpuMsPerRender.one.chromium}→${result.cpuMsPerRender.two.chromium})`,
  );
  return result;
}

/** POST /v1/render on the local server (npm start's, in this process), its pool of 2 browsers. */
async function measureEndpoint() {
  const dir = mkdtempSync(join(tmpdir(), "report-render-parallel-"));
  const local = await startLocal({
    port: 0,
    s3Port: 0,
    dataDir: join(dir, "s3"),
    config: { renderBrowsers: 2 },
    log: createLogger("silent"),
  });
  const client = fork(fileURLToPath(new URL("./parallel-client.ts", import.meta.url)), [], {
    execArgv: process.execArgv, // tsx's loader
  });
  const url = `${local.url}/v1/render`;
  try {
    return await measure(
      "POST /v1/render, pool of 2, clients in another process",
      (inFlight, count) => ask(client, { url, body: text, inFlight, count }),
      local.renderer,
    );
  } finally {
    client.disconnect();
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The client process's answer to one block, or its failure. */
function ask(client: ChildProcess, block: { url: string; body: string; inFlight: number; count: number }) {
  const answer = nextMessage<BlockTimes>(client);
  client.send(block);
  return answer;
}

/** renderer.render alone, on a pool of `browsers`. */
function measureCore(browsers: number) {
  const renderer = builtInRenderer(withOverrides(loadConfig(), { renderBrowsers: browsers }));
  return measure(
    `render core, pool of ${browsers}`,
    (inFlight, count) => inFlightBlock(() => renderer.render(text), inFlight, count),
    renderer,
  );
}

console.log(`example: ${examplePath}, ${ROUNDS} rounds × ${RENDERS} renders per mode, interleaved`);
const endpoint = await measureEndpoint();
const pool = await measureCore(2);
const single = await measureCore(1);
console.log(
  JSON.stringify({
    parallelGain: endpoint.gain,
    parallelGainPooled: endpoint.pooledGain,
    parallelGainWholeBlocks: endpoint.wholeBlockGain,
    parallelGainCore: pool.gain,
    parallelGainCorePooled: pool.pooledGain,
    singleBrowserGain: single.gain,
    endpointOneInFlightPerSecond: endpoint.oneInFlightPerSecond,
    endpointTwoInFlightPerSecond: endpoint.twoInFlightPerSecond,
    pool2OneInFlightPerSecond: pool.oneInFlightPerSecond,
    pool2TwoInFlightPerSecond: pool.twoInFlightPerSecond,
    pool1OneInFlightPerSecond: single.oneInFlightPerSecond,
    pool1TwoInFlightPerSecond: single.twoInFlightPerSecond,
  }),
);
