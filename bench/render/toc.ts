/**
 * npx tsx bench/render/toc.ts — what a table of contents costs: the whole path (renderReport, warm browser)
 * of the 2,000-row `report` with `toc: true` ÷ the same report with `toc: false`, median of
 * interleaved runs (goal ≤ 1.3: the page numbers are written into the one print, no second print).
 * The last line is one JSON object for bench/bench.ts: { tocOverhead, tocMs, noTocMs, tocPrints }.
 */
import { builtInRenderer } from "../../functions/service/service.ts";
import { longTableEnvelope } from "../lib/long-table-data.ts";
import { median } from "../lib/stats.ts";

const RUNS = Number(process.env.TOC_RUNS ?? 5);
const renderer = builtInRenderer();

const base = longTableEnvelope(2000);
const withToc = { ...base, data: { ...base.data, toc: true } };
const withoutToc = { ...base, data: { ...base.data, toc: false } };

async function timed(input: unknown): Promise<{ ms: number; prints: number }> {
  const started = performance.now();
  const result = await renderer.render(input);
  return { ms: performance.now() - started, prints: result.prints };
}

// Warm-up: Chromium, fonts, the template.
await timed(withoutToc);
await timed(withToc);

const toc: number[] = [];
const noToc: number[] = [];
let prints = 0;
for (let i = 0; i < RUNS; i++) {
  noToc.push((await timed(withoutToc)).ms);
  const run = await timed(withToc);
  toc.push(run.ms);
  prints = Math.max(prints, run.prints);
}
await renderer.close();

const tocMs = Math.round(median(toc));
const noTocMs = Math.round(median(noToc));
const tocOverhead = Math.round((median(toc) / median(noToc)) * 100) / 100;
console.log(`2,000-row report: toc ${tocMs} ms, no toc ${noTocMs} ms (median of ${RUNS}, interleaved)`);
console.log(JSON.stringify({ tocOverhead, tocMs, noTocMs, tocPrints: prints }));
