/**
 * npx tsx bench/render/long-table.ts — the `report` template's long tables: does time per page stay flat
 * as a table grows from 100 to 2,000 rows (goal: within 1.5×), and how much memory does it take
 * (goal: below 1 GiB)?
 *
 * Time: renderReport (the whole path: validate, view, Handlebars, Chromium, finalize) on a warm
 * browser, median of several runs, divided by the pages printed.
 *
 * Memory, sampled every 25 ms while rendering and reported in MB:
 *   nodeMaxRssMb       this process's high-water mark (process.resourceUsage().maxRSS)
 *   chromiumPeakRssMb  the peak of the summed VmRSS of Chromium's process tree, read from /proc
 *                      (with @sparticuz/chromium's --single-process that tree is one process; were
 *                      there several, shared pages would count once per process: an overstatement)
 *   chromiumPeakPssMb  the same peak in PSS (shared pages split between their processes): the
 *                      closest figure to what a Lambda's memory limit counts
 *   peakRssMb          nodeMaxRssMb + chromiumPeakRssMb: the conservative total the goal is held to
 * The last line is one JSON object for bench/bench.ts.
 */
import { readFileSync, readdirSync } from "node:fs";
import { builtInRenderer } from "../../functions/service/service.ts";
import { longTableEnvelope } from "../lib/long-table-data.ts";

const renderer = builtInRenderer();
const renderReport = (input: unknown) => renderer.render(input);

const RUNS_SMALL = Number(process.env.LONG_TABLE_RUNS_SMALL ?? 5);
const RUNS_LARGE = Number(process.env.LONG_TABLE_RUNS_LARGE ?? 3);

// ── memory sampling ──────────────────────────────────────────────────────────────────────

function children(): Map<number, number[]> {
  const tree = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      tree.set(ppid, [...(tree.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  return tree;
}

function kb(file: string, field: string): number {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(file, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function treeMemory(root: number): { rss: number; pss: number } {
  const tree = children();
  let rss = 0;
  let pss = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    rss += kb(`/proc/${pid}/status`, "VmRSS");
    pss += kb(`/proc/${pid}/smaps_rollup`, "Pss");
    stack.push(...(tree.get(pid) ?? []));
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

const peak = { rss: 0, pss: 0 };
async function sampled<T>(work: () => Promise<T>): Promise<T> {
  const pid = await renderer.browsers.processId();
  const sample = () => {
    if (!pid) return;
    const m = treeMemory(pid);
    peak.rss = Math.max(peak.rss, m.rss);
    peak.pss = Math.max(peak.pss, m.pss);
  };
  const timer = setInterval(sample, 25);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    sample();
  }
}

// ── timing ───────────────────────────────────────────────────────────────────────────────

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const round = (n: number) => Math.round(n * 100) / 100;

async function measure(rows: number, runs: number): Promise<{ pages: number; perPageMs: number; totalMs: number }> {
  const envelope = longTableEnvelope(rows);
  const times: number[] = [];
  let pages = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = await sampled(() => renderReport(envelope));
    times.push(performance.now() - started);
    pages = result.pages;
  }
  const totalMs = median(times);
  return { pages, perPageMs: totalMs / pages, totalMs };
}

// Warm up: Chromium launched, fonts loaded, template compiled.
await renderReport(longTableEnvelope(100));
await renderReport(longTableEnvelope(100));

const small = await measure(100, RUNS_SMALL);
const large = await measure(2000, RUNS_LARGE);
await renderer.close();

const nodeMaxRssMb = process.resourceUsage().maxRSS / 1024;
const result = {
  pages100: small.pages,
  pages2000: large.pages,
  total100Ms: round(small.totalMs),
  total2000Ms: round(large.totalMs),
  perPage100Ms: round(small.perPageMs),
  perPage2000Ms: round(large.perPageMs),
  perPageRatio: round(large.perPageMs / small.perPageMs),
  nodeMaxRssMb: round(nodeMaxRssMb),
  chromiumPeakRssMb: round(peak.rss),
  chromiumPeakPssMb: round(peak.pss),
  peakRssMb: round(nodeMaxRssMb + peak.rss),
};
console.log(`100 rows:   ${small.pages} pages, ${result.total100Ms} ms, ${result.perPage100Ms} ms/page`);
console.log(`2000 rows:  ${large.pages} pages, ${result.total2000Ms} ms, ${result.perPage2000Ms} ms/page`);
console.log(`ratio       ${result.perPageRatio} (goal ≤ 1.5)`);
console.log(
  `memory      node ${result.nodeMaxRssMb} MB + Chromium ${result.chromiumPeakRssMb} MB RSS ` +
    `(${result.chromiumPeakPssMb} MB PSS) = ${result.peakRssMb} MB (goal < 1024)`,
);
console.log(JSON.stringify(result));
