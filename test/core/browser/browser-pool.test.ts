import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { longTableEnvelope } from "../../../bench/lib/long-table-data.ts";
import { LimitError } from "../../../functions/core/errors.ts";
import { createRenderer, defaultLimits, type Renderer } from "../../../functions/core/render.ts";
import { defaultBrowsers, loadConfig } from "../../../functions/service/settings.ts";
import { builtInTemplates } from "../../../templates/index.ts";
import { example, root } from "../../helpers/examples.ts";
import { pageTexts, squash } from "../../helpers/pdf.ts";
import { startTrapServer, type TrapServer } from "../../helpers/trap-server.ts";

// A pool of Chromium processes in one process: renders in flight at once go to different browsers,
// each its own warm pages, faults and relaunches; the output does not depend on which one printed.

/** A renderer whose pool holds `browsers`: its own, shared with no other renderer. */
const pooled = (browsers: number, concurrency = 4): Renderer =>
  createRenderer({ templates: builtInTemplates(root), packagesRoot: root, producer: "test", concurrency, browsers });

/** The pool of 2 the tests below share (each leaves it running; the last closes it). */
const renderer = pooled(2);
const { browsers } = renderer;

/** Renders each browser of `pool` printed since `before` (a load()). */
const printedSince = (before: { printed: number }[], pool = browsers) =>
  pool.load().map((b, i) => b.printed - (before[i]?.printed ?? 0));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const seed = () => example("zhanhe-transport-2020.json");
const sample = () => example("gov-disclosure-2021-sample.json");

let trap: TrapServer;
beforeAll(async () => {
  trap = await startTrapServer();
});
afterAll(async () => {
  await trap.close();
  await renderer.close();
});

describe("a pool of 2 browsers", () => {
  it("launches the second only when a second render is in flight at once", async () => {
    expect(browsers.isUp()).toBe(false);
    const before = browsers.load();
    const first = await renderer.render(seed());
    const second = await renderer.render(seed());
    expect(second.sha256).toBe(first.sha256);
    expect(await browsers.processIds()).toHaveLength(1);
    expect(printedSince(before)).toEqual([2, 0]);
    expect(browsers.isUp()).toBe(true);
  });

  it("two renders in flight: two Chromium processes print one each, and the bytes do not depend on which", async () => {
    // The second browser's first render, and later ones, against the first browser's (warm, cold).
    for (const envelope of [seed, sample, () => longTableEnvelope(300), seed]) {
      const before = browsers.load();
      const [a, b] = await Promise.all([renderer.render(envelope()), renderer.render(envelope())]);
      expect(printedSince(before)).toEqual([1, 1]);
      expect(b?.sha256).toBe(a?.sha256);
      expect(b?.pages).toBe(a?.pages);
    }
    const pids = await browsers.processIds();
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
    expect(pids.every(alive)).toBe(true);
    expect(await browsers.processId()).toBe(pids[0]);
    // The same environment (fontconfig included) for both: nothing but what the door handed in.
    const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").sort();
    expect(environ(pids[1] as number)).toEqual(environ(pids[0] as number));
    // And against a render of the first browser alone.
    const alone = await renderer.render(sample());
    const [c, d] = await Promise.all([renderer.render(sample()), renderer.render(sample())]);
    expect([c?.sha256, d?.sha256]).toEqual([alone.sha256, alone.sha256]);
  });

  it("each browser keeps the network fence and runs no page script", async () => {
    const base = trap.base;
    const doc = {
      lang: "en",
      title: "fence",
      css: `body { background: url(${base}/background.png) }`,
      body: `<p>fence test</p><img src="${base}/image.png" onerror="document.body.textContent='SCRIPT RAN'">
        <iframe src="${base}/frame.html"></iframe><script>document.body.textContent = "SCRIPT RAN"</script>`,
    };
    const before = browsers.load();
    const both = await Promise.all([
      browsers.withDocument(doc, (page) => page.pdf()),
      browsers.withDocument(doc, (page) => page.pdf()),
    ]);
    expect(printedSince(before)).toEqual([1, 1]);
    for (const { result, refused } of both) {
      expect(squash((await pageTexts(result)).join(""))).toBe("fencetest");
      expect(refused).toEqual(
        expect.arrayContaining([`${base}/background.png`, `${base}/image.png`, `${base}/frame.html`]),
      );
    }
    expect(trap.hits()).toBe(0);
  });

  it("SIGKILL of one browser mid-render: the other's render is untouched, the killed one's is run again", async () => {
    const envelope = () => longTableEnvelope(1000);
    const reference = await renderer.render(envelope());
    await Promise.all([renderer.render(envelope()), renderer.render(envelope())]); // both browsers warm
    const [first, second] = (await browsers.processIds()) as [number, number];

    const before = browsers.load();
    const onFirst = renderer.render(envelope());
    let secondDoneAt = 0;
    const onSecond = renderer.render(envelope()).finally(() => {
      secondDoneAt = performance.now();
    });
    // Both in flight, one on each browser, and printing for a while.
    await until(() => browsers.load().every((b) => b.inFlight === 1));
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(browsers.load().map((b) => b.inFlight)).toEqual([1, 1]); // still printing, on the second browser
    process.kill(second, "SIGKILL");
    const killedAt = performance.now();
    const [a, b] = await Promise.all([onFirst, onSecond]);
    expect(secondDoneAt - killedAt).toBeGreaterThan(100); // it was run again after the kill
    expect(a.sha256).toBe(reference.sha256);
    expect(b.sha256).toBe(reference.sha256);
    // One print each, the run again included; the first browser is the same process, still up.
    expect(printedSince(before).reduce((x, y) => x + y)).toBe(2);
    expect(alive(first)).toBe(true);
    expect(await browsers.processId()).toBe(first);
    expect(await browsers.processIds()).not.toContain(second);
  });

  it("a frozen browser (SIGSTOP): its render ends at its deadline and only it is killed and replaced", async () => {
    await Promise.all([renderer.render(sample()), renderer.render(sample())]);
    const [first, frozen] = (await browsers.processIds()) as [number, number];
    process.kill(frozen, "SIGSTOP");
    try {
      const started = performance.now();
      // The first render goes to the first browser, the second to the frozen one.
      const [healthy, stuck] = await Promise.allSettled([
        renderer.render(sample()),
        renderer.render(sample(), { limits: { ...defaultLimits, renderTimeoutMs: 2_000 } }),
      ]);
      expect(healthy.status).toBe("fulfilled");
      expect(stuck.status === "rejected" && stuck.reason).toBeInstanceOf(LimitError);
      expect(performance.now() - started).toBeLessThan(20_000); // at the 2 s deadline; a runaway guard
      // abandon() kills it once its page has not closed within 5 s.
      await until(() => !alive(frozen), 8_000);
      expect(alive(first)).toBe(true);
      const [a, b] = await Promise.all([renderer.render(sample()), renderer.render(sample())]);
      expect(b.sha256).toBe(a.sha256);
      const pids = await browsers.processIds();
      expect(pids).toHaveLength(2);
      expect(pids[0]).toBe(first);
      expect(pids).not.toContain(frozen);
    } finally {
      if (alive(frozen)) process.kill(frozen, "SIGKILL");
    }
  });

  it("close() closes every browser of the renderer", async () => {
    await Promise.all([renderer.render(sample()), renderer.render(sample())]);
    const pids = await browsers.processIds();
    expect(pids).toHaveLength(2);
    await renderer.close();
    expect(browsers.isUp()).toBe(false);
    expect(await browsers.processIds()).toEqual([]);
    await until(() => !pids.some(alive));
  });
});

describe("a pool of 1 browser", () => {
  it("behaves as before: renders in flight at once share one Chromium", async () => {
    const single = pooled(1);
    const before = single.browsers.load();
    const [a, b] = await Promise.all([single.render(seed()), single.render(seed())]);
    expect(b.sha256).toBe(a.sha256);
    expect(await single.browsers.processIds()).toHaveLength(1);
    expect(printedSince(before, single.browsers)).toEqual([2]);
    await single.close();
  });
});

describe("two renderers in one process", () => {
  it("share nothing: each its own settings and Chromium, and closing one leaves the other printing", async () => {
    const one = pooled(1, 1);
    const two = pooled(2, 4);
    const [a, b, c] = await Promise.all([one.render(seed()), two.render(seed()), two.render(seed())]);
    expect([b.sha256, c.sha256]).toEqual([a.sha256, a.sha256]);
    const ones = await one.browsers.processIds();
    const twos = await two.browsers.processIds();
    // The first keeps its one browser, the second has its two: its settings did not change the first's.
    expect(ones).toHaveLength(1);
    expect(twos).toHaveLength(2);
    expect(twos.some((pid) => ones.includes(pid))).toBe(false);
    await one.close();
    await until(() => !ones.some(alive));
    expect(one.browsers.isUp()).toBe(false);
    expect(twos.every(alive)).toBe(true);
    expect((await two.render(sample())).pages).toBeGreaterThan(0);
    await two.close();
  });
});

describe("RENDER_BROWSERS", () => {
  const MB = 1024 * 1024;
  it("defaults to a browser per core, at ~700 MB of free memory each, at least 1", () => {
    expect(defaultBrowsers({ cores: 2, freeBytes: 1900 * MB })).toBe(2); // Lambda, 2048 MB
    expect(defaultBrowsers({ cores: 2, freeBytes: 1300 * MB })).toBe(1);
    expect(defaultBrowsers({ cores: 1, freeBytes: 1600 * MB })).toBe(1); // Lambda, 1769 MB
    expect(defaultBrowsers({ cores: 16, freeBytes: 4000 * MB })).toBe(5);
    expect(defaultBrowsers({ cores: 4, freeBytes: 100 * MB })).toBe(1);
    expect(loadConfig({}).renderBrowsers).toBeGreaterThanOrEqual(1);
  });

  it("is read from the environment and must be a whole number", () => {
    expect(loadConfig({ RENDER_BROWSERS: "3" }).renderBrowsers).toBe(3);
    expect(() => loadConfig({ RENDER_BROWSERS: "0" })).toThrow(/RENDER_BROWSERS/);
    expect(() => loadConfig({ RENDER_BROWSERS: "1.5" })).toThrow(/RENDER_BROWSERS/);
  });
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
