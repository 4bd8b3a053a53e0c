import { afterAll, describe, expect, it } from "vitest";
import { longTableEnvelope } from "../../bench/long-table-data.ts";
import { browserProcessId, closeBrowser } from "../../functions/core/browser.ts";
import { LimitError } from "../../functions/core/errors.ts";
import { defaultLimits } from "../../functions/core/render.ts";
import { renderReport } from "../helpers/render.ts";
import { example } from "../helpers/examples.ts";

// Chromium frozen or killed under a render: the render ends within its deadline (or is run again on
// a new browser), and the next render succeeds. No restart of the process is needed.
afterAll(() => closeBrowser());

const sample = () => example("gov-disclosure-2021-sample.json");

describe("a browser that stops answering", () => {
  it("frozen (SIGSTOP): the render ends at its deadline, the browser is killed and replaced, the next render succeeds", async () => {
    const reference = await renderReport(sample());
    const frozen = (await browserProcessId()) as number;
    process.kill(frozen, "SIGSTOP");
    try {
      const started = performance.now();
      const error = await renderReport(sample(), { ...defaultLimits, renderTimeoutMs: 2_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitError);
      expect((error as LimitError).limit).toBe("renderTime");
      expect(performance.now() - started).toBeLessThan(3_000);

      const next = await renderReport(sample());
      expect(next.sha256).toBe(reference.sha256);
      expect(await browserProcessId()).not.toBe(frozen);
    } finally {
      try {
        process.kill(frozen, "SIGKILL");
      } catch {
        // already gone: killed by the service, as it should be
      }
    }
  });

  it("killed (SIGKILL) in the middle of a render: the render is run again on a new browser and succeeds", async () => {
    const envelope = longTableEnvelope(600);
    // The render that is run again is the first on its browser: compare it with a first render.
    // (Chromium numbers the structure IDs of a browser's first long document in another order.)
    await closeBrowser();
    const reference = await renderReport(envelope);
    await renderReport(envelope);
    const pid = (await browserProcessId()) as number;
    const rendering = renderReport(envelope);
    await new Promise((resolve) => setTimeout(resolve, 150));
    process.kill(pid, "SIGKILL");
    const killedAt = performance.now();
    const result = await rendering;
    expect(performance.now() - killedAt).toBeGreaterThan(100); // it was still rendering when killed
    expect(result.sha256).toBe(reference.sha256);
    expect(await browserProcessId()).not.toBe(pid);
  });

  it("a caller that is gone: a render whose signal aborts while it waits for a page never starts", async () => {
    const caller = new AbortController();
    caller.abort(new Error("the client closed the connection"));
    const started = performance.now();
    await expect(renderReport(sample(), defaultLimits, { signal: caller.signal })).rejects.toThrow("closed the connection");
    expect(performance.now() - started).toBeLessThan(100);
  });
});
