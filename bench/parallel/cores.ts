/**
 * npx tsx bench/parallel/cores.ts — are this machine's cores whole? Work done by two threads at once ÷ by one
 * thread alone, in alternating 300 ms windows, for an arithmetic loop and for random reads over arrays
 * of a few sizes (each thread its own array). Whole cores give 2 for all of them; a cache shared with
 * other work (the neighbours' virtual machines) shows as a spread for the sizes that fit it only alone.
 */
import { Worker } from "node:worker_threads";
import { median, round2 } from "../lib/stats.ts";

const WINDOWS = 20;
const WINDOW_MS = 300;
const SIZES_MB = [4, 8, 16, 64];

/** The threads' code, plain JavaScript (a worker cannot load TypeScript): batches of the load done in `ms`. */
const LOAD = `
const { parentPort, workerData } = require("node:worker_threads");
const mb = workerData.mb;
const size = (mb * 1024 * 1024) / 4;
const array = new Int32Array(size);
for (let i = 0; i < size; i++) array[i] = (i * 2654435761) % size;
parentPort.on("message", (ms) => {
  const end = performance.now() + ms;
  let batches = 0, x = 0, j = 0;
  while (performance.now() < end) {
    if (mb === 0) for (let i = 0; i < 100000; i++) x = (x * 1103515245 + 12345) | 0;
    else for (let i = 0; i < 10000; i++) j = array[(j + i) & (size - 1)] & (size - 1);
    batches++;
  }
  parentPort.postMessage(batches + (x & 0) + (j & 0));
});`;

const results: Record<string, { median: number; min: number; max: number }> = {};
for (const mb of [0, ...SIZES_MB]) {
  const threads = [0, 1].map(() => new Worker(LOAD, { eval: true, workerData: { mb } }));
  const work = (thread: Worker, ms: number) =>
    new Promise<number>((resolve) => {
      thread.once("message", resolve);
      thread.postMessage(ms);
    });
  await Promise.all(threads.map((t) => work(t, 100)));
  const [first, second] = threads as [Worker, Worker];
  const ratios: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const alone = await work(first, WINDOW_MS);
    const together = await Promise.all([work(first, WINDOW_MS), work(second, WINDOW_MS)]);
    ratios.push((together[0] + together[1]) / alone);
  }
  await Promise.all(threads.map((t) => t.terminate()));
  const name = mb === 0 ? "arithmetic" : `reads${mb}MB`;
  results[name] = {
    median: round2(median(ratios)),
    min: round2(Math.min(...ratios)),
    max: round2(Math.max(...ratios)),
  };
  console.log(
    `${name.padEnd(12)} two threads ÷ one: median ${results[name].median}, ${results[name].min}–${results[name].max}`,
  );
}
console.log(JSON.stringify(results));
