import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { longTableEnvelope } from "../../bench/lib/long-table-data.ts";
import { ASSET_ORIGIN } from "../../functions/core/browser/browser.ts";
import { LimitError } from "../../functions/core/errors.ts";
import { defaultLimits } from "../../functions/core/render.ts";
import { renderReport, closeRenderer, renderer } from "../helpers/render.ts";
import { createRenderer } from "../../functions/core/render.ts";
import { builtInRenderer } from "../../functions/service/service.ts";
import { builtInTemplates } from "../../templates/index.ts";
import { loadConfig } from "../../functions/service/settings.ts";
import { example, root } from "../helpers/examples.ts";

// Chromium frozen or killed under a render: the render ends within its deadline (or is run again on
// a new browser), and the next render succeeds. No restart of the process is needed.
afterAll(() => closeRenderer());

const sample = () => example("gov-disclosure-2021-sample.json");

describe("a browser that stops answering", () => {
  it("frozen (SIGSTOP): the render ends at its deadline, the browser is killed and replaced, the next render succeeds", async () => {
    const reference = await renderReport(sample());
    const frozen = (await renderer.browsers.processId()) as number;
    process.kill(frozen, "SIGSTOP");
    try {
      const started = performance.now();
      const error = await renderReport(sample(), { ...defaultLimits, renderTimeoutMs: 2_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitError);
      expect((error as LimitError).limit).toBe("renderTime");
      // At its 2 s deadline, not after the minute a frozen browser would take: a runaway guard.
      expect(performance.now() - started).toBeLessThan(20_000);

      const next = await renderReport(sample());
      expect(next.sha256).toBe(reference.sha256);
      expect(await renderer.browsers.processId()).not.toBe(frozen);
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
    await closeRenderer();
    const reference = await renderReport(envelope);
    await renderReport(envelope);
    const pid = (await renderer.browsers.processId()) as number;
    const rendering = renderReport(envelope);
    await new Promise((resolve) => setTimeout(resolve, 150));
    process.kill(pid, "SIGKILL");
    const killedAt = performance.now();
    const result = await rendering;
    expect(performance.now() - killedAt).toBeGreaterThan(100); // it was still rendering when killed
    expect(result.sha256).toBe(reference.sha256);
    expect(await renderer.browsers.processId()).not.toBe(pid);
  });

  it("a report of 10,000 pages is refused at the page limit without printing them all", async () => {
    // 20,000 blocks, well within the schema and the value limit: a page break after every paragraph.
    const blocks = Array.from({ length: 20_000 }, (_, i) =>
      i % 2 ? { type: "pageBreak" } : { type: "paragraph", text: `p${i}` },
    );
    const started = performance.now();
    const error = await renderReport({ template: "report", data: { title: "Pages", blocks } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitError);
    expect((error as LimitError).limit).toBe("pages");
    // Printing 10,000 pages takes minutes; laying them out and printing 501 takes seconds.
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it("renders given up on while their page opens leave no page behind", async () => {
    // A running browser with no warm page: each render below opens one, and is given up on meanwhile.
    await closeRenderer();
    await renderer.browsers.firstBrowser();
    for (const after of [5, 10, 20, 40, 80]) {
      const caller = new AbortController();
      const rendering = renderReport(sample(), defaultLimits, { signal: caller.signal });
      setTimeout(() => caller.abort(new Error("gone")), after);
      await expect(rendering).rejects.toThrow();
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const pages = await (await renderer.browsers.firstBrowser()).pages();
    expect(pages.filter((page) => page.url().startsWith(ASSET_ORIGIN))).toEqual([]);
    expect((await renderReport(sample())).pages).toBeGreaterThan(0);
  });

  it("Chromium inherits none of the service's settings or credentials", async () => {
    process.env.AWS_SECRET_ACCESS_KEY = "canary-secret-key";
    process.env.S3_SECRET_ACCESS_KEY = "canary-s3-key";
    try {
      const fresh = builtInRenderer(loadConfig());
      await fresh.render(sample());
      const environ = readFileSync(`/proc/${await fresh.browsers.processId()}/environ`, "latin1").split("\0");
      await fresh.close();
      expect(environ.join("\n")).not.toContain("canary");
      expect(environ.map((e) => e.split("=")[0]).sort()).toEqual(expect.arrayContaining(["FONTCONFIG_PATH", "HOME"]));
      expect(environ.filter((e) => /^(AWS|S3|INPUT_BUCKET|OUTPUT_BUCKET)/.test(e))).toEqual([]);
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
      delete process.env.S3_SECRET_ACCESS_KEY;
    }
  });

  it("a caller that is gone: a render waiting for its turn ends at once, before the render ahead of it", async () => {
    // One render at a time: a long render holds the turn while a second one waits behind it.
    const single = createRenderer({
      templates: builtInTemplates(root),
      packagesRoot: root,
      producer: "test",
      concurrency: 1,
    });
    let longDone = false;
    const long = single.render(longTableEnvelope(3000)).then((result) => {
      longDone = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 600)); // past its templating: it holds the turn
    const caller = new AbortController();
    const waiting = single.render(sample(), { signal: caller.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const abortedAt = performance.now();
    caller.abort(new Error("the client closed the connection"));
    await expect(waiting).rejects.toThrow("closed the connection");
    // Before the render ahead of it ended (what "at once" means here; the time is a runaway guard).
    expect(longDone).toBe(false);
    expect(performance.now() - abortedAt).toBeLessThan(2_000);
    expect((await long).pages).toBeGreaterThan(50);
    // The turn it would have had went to nobody: the next render runs at once.
    const next = await single.render(sample());
    expect(next.pages).toBeGreaterThan(0);
    await single.close();
  });
});
