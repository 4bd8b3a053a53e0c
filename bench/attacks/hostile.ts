/**
 * npx tsx bench/attacks/hostile.ts — what the attacks of issue 21 cost the service now: the local server
 * (`npm start`, its fence of 2 threads) in this process, each attack sent ROUNDS times while a
 * client asks GET /health every 20 ms. Per attack: the median time to its refusal, the worst
 * /health answer while it ran, and how much this process grew (RSS high-water mark, the fence's
 * threads included). Before the fence: /health waited 46 s to minutes, the process grew 1.0–1.2 GB.
 *
 * Attacks: the packages of test/hostile/template-attacks.ts (their check, or a render of a published
 * one with hostile data) and the two request-wide budgets of the built-in report (test/hostile/attacks.ts).
 * The last line is one JSON object for bench/bench.ts: { hostileRefusalWorstMs, hostileHealthWorstMs,
 * hostileGrowthWorstMb }.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocal } from "../../functions/local/server.ts";
import { createLogger } from "../../functions/service/log.ts";
import { attacks } from "../../test/hostile/attacks.ts";
import { attackZip, PUBLISHED_ATTACKS, REFUSED_ATTACKS } from "../../test/hostile/template-attacks.ts";
import { median } from "../lib/stats.ts";

const ROUNDS = Number(process.env.HOSTILE_ROUNDS ?? 3);

const dir = mkdtempSync(join(tmpdir(), "report-render-bench-hostile-"));
const local = await startLocal({
  port: 0,
  s3Port: 0,
  dataDir: join(dir, "s3"),
  config: {},
  log: createLogger("silent"),
});
const url = local.url;

interface Figures {
  name: string;
  status: number;
  refusalMs: number;
  healthWorstMs: number;
  growthMb: number;
}

/** `send` ROUNDS times with /health asked meanwhile. */
async function measure(name: string, send: () => Promise<Response>): Promise<Figures> {
  const times: number[] = [];
  let healthWorstMs = 0;
  let growth = 0;
  let status = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let running = true;
    const health = (async () => {
      while (running) {
        const started = performance.now();
        await (await fetch(`${url}/health`)).arrayBuffer();
        healthWorstMs = Math.max(healthWorstMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const started = performance.now();
    const response = await send();
    await response.arrayBuffer();
    times.push(performance.now() - started);
    status = response.status;
    clearInterval(sampler);
    running = false;
    await health;
    growth = Math.max(growth, peak - before);
  }
  return {
    name,
    status,
    refusalMs: Math.round(median(times)),
    healthWorstMs: Math.round(healthWorstMs),
    growthMb: Math.round(growth / 1024 / 1024),
  };
}

const zipRequest = (zip: Uint8Array, method = "POST", path = "/v1/templates/check") =>
  fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/zip", accept: "application/json" },
    body: Buffer.from(zip),
  });
const render = (body: string) =>
  fetch(`${url}/v1/render`, { method: "POST", headers: { "content-type": "application/json" }, body });

// Warm: the fence's threads and Chromium started, as on a service that has been running.
for (const attack of PUBLISHED_ATTACKS) {
  const published = await zipRequest(attackZip(attack.id, attack.files), "PUT", `/v1/templates/${attack.id}`);
  if (published.status !== 201) throw new Error(`${attack.id} was not published: ${await published.text()}`);
  const example = JSON.parse(attack.files["example.json"] as string) as object;
  await (await render(JSON.stringify({ template: attack.id, data: example }))).arrayBuffer();
}

const figures: Figures[] = [];
for (const attack of REFUSED_ATTACKS) {
  const zip = attackZip("attack-refused", attack.files);
  figures.push(await measure(`check: ${attack.name}`, () => zipRequest(zip)));
}
for (const attack of PUBLISHED_ATTACKS) {
  const body = JSON.stringify({ template: attack.id, data: attack.data() });
  figures.push(await measure(`render: ${attack.name}`, () => render(body)));
}
for (const attack of attacks.filter((a) => a.name.includes("budget of a whole report"))) {
  figures.push(await measure(`render: ${attack.name}`, () => render(attack.body)));
}

await local.close();
rmSync(dir, { recursive: true, force: true });

for (const f of figures) {
  console.log(
    `${String(f.status).padEnd(4)} ${`${f.refusalMs} ms`.padStart(8)}  /health worst ${`${f.healthWorstMs} ms`.padStart(7)}  grew ${`${f.growthMb} MB`.padStart(7)}  ${f.name}`,
  );
}
const worst = (key: "refusalMs" | "healthWorstMs" | "growthMb") => Math.max(...figures.map((f) => f[key]));
console.log(
  JSON.stringify({
    hostileRefusalWorstMs: worst("refusalMs"),
    hostileHealthWorstMs: worst("healthWorstMs"),
    hostileGrowthWorstMb: worst("growthMb"),
    hostileAllRefused: figures.every((f) => f.status === 422) ? 1 : 0,
  }),
);
