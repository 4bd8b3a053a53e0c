/**
 * npx tsx bench/parallel/parallel-bound.ts — how much a second core gives on this machine at best: two
 * processes that share nothing (each its own Node, its own Chromium, one render of the seed report in
 * flight), against one of them alone. bench/parallel/parallel.ts's gain (two renders in flight in one
 * process) cannot exceed it; their quotient says what the sharing costs.
 *
 * Two child processes render in a loop while told to. In alternating windows either child A renders
 * alone or both do; each window with both gives one ratio, (A + B renders per second) ÷ the mean rate
 * of A alone in the windows on either side. The bound is the median of those ratios (the machine's
 * speed drifts within a minute). The last line is one JSON object: { "parallelBound": … }.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { nextMessage } from "../lib/child-message.ts";
import { median, round2 } from "../lib/stats.ts";

const WINDOWS = Number(process.env.PARALLEL_BOUND_WINDOWS ?? 25);
const WINDOW_MS = Number(process.env.PARALLEL_BOUND_WINDOW_MS ?? 1000);
const examplePath = "examples/zhanhe-transport-2020.json";

/** A child's answer to "stop": renders completed since "run", and the seconds from "run" to the last one. */
interface Count {
  renders: number;
  seconds: number;
}

if (process.argv[2] === "child") await child();
else await parent();

async function child(): Promise<void> {
  const { builtInRenderer } = await import("../../functions/service/service.ts");
  const { loadConfig, withOverrides } = await import("../../functions/service/settings.ts");
  const text = readFileSync(examplePath, "utf8");
  const renderer = builtInRenderer(withOverrides(loadConfig(), { renderBrowsers: 1 }));
  for (let i = 0; i < 8; i++) await renderer.render(text);
  let running: Promise<Count> | undefined;
  let stopping = false;
  process.on("message", async (command: "run" | "stop" | "exit") => {
    if (command === "run") {
      stopping = false;
      running = (async () => {
        const t0 = performance.now();
        let renders = 0;
        let last = t0;
        while (!stopping) {
          await renderer.render(text);
          renders++;
          last = performance.now();
        }
        return { renders, seconds: (last - t0) / 1000 };
      })();
    } else if (command === "stop") {
      stopping = true;
      process.send?.(await running);
    } else {
      process.exit(0);
    }
  });
  process.send?.("ready");
}

async function parent(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const children = [fork(self, ["child"]), fork(self, ["child"])];
  await Promise.all(children.map((c) => nextMessage(c)));
  const [a, b] = children as [ChildProcess, ChildProcess];
  const alone: number[] = [];
  const together: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const both = w % 2 === 1;
    const active = both ? [a, b] : [a];
    for (const c of active) c.send("run");
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    for (const c of active) c.send("stop");
    const counts = await Promise.all(active.map((c) => nextMessage<Count>(c)));
    const rate = counts.reduce((sum, c) => sum + c.renders / c.seconds, 0);
    (both ? together : alone).push(rate);
  }
  for (const c of children) c.send("exit");
  // Window 2k+1 (both) sits between windows 2k and 2k+2 (A alone).
  const ratios = together.map(
    (rate, k) => rate / (((alone[k] as number) + (alone[k + 1] ?? (alone[k] as number))) / 2),
  );
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  const result = {
    parallelBound: round2(median(ratios)),
    parallelBoundPooled: round2(sum(together) / together.length / (sum(alone) / alone.length)),
    alonePerSecond: round2(median(alone)),
    togetherPerSecond: round2(median(together)),
  };
  console.log(
    `two processes sharing nothing: ${result.togetherPerSecond}/s against ${result.alonePerSecond}/s alone, ` +
      `bound ${result.parallelBound}× (median of ${ratios.length} windows, ${round2(Math.min(...ratios))}–${round2(Math.max(...ratios))}; pooled ${result.parallelBoundPooled}×)`,
  );
  console.log(JSON.stringify(result));
}
