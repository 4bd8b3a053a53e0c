import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRenderer } from "../../functions/core/render.ts";
import { builtInTemplates } from "../../templates/index.ts";
import { example, root } from "../helpers/examples.ts";
import { renderReport, closeRenderer, renderer } from "../helpers/render.ts";

// Chromium's profile folders do not pile up in the temp folder: not when a browser closes or is
// killed, and not when the Node process that launched it dies first (a Lambda runtime restarted in
// the same execution environment keeps /tmp): the next launch removes what dead processes left.
afterAll(() => closeRenderer());

const PREFIX = "report-render-profile-";
const mine = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`${PREFIX}${process.pid}-`));
const render = () => renderReport(example("zhanhe-transport-2020.json"));
/** The pid of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid as number;

describe("Chromium's profile folders", () => {
  it("one per browser while it runs, removed when it closes or is killed", async () => {
    await closeRenderer();
    expect(mine()).toEqual([]);
    await render();
    expect(mine()).toHaveLength(1);
    await closeRenderer();
    expect(mine()).toEqual([]);

    await render();
    const [profile] = mine();
    process.kill((await renderer.browsers.processId()) as number, "SIGKILL");
    await expect.poll(() => existsSync(join(tmpdir(), profile as string))).toBe(false);
    await render(); // on a new browser, with a new profile
    expect(mine()).toHaveLength(1);
  });

  it("those of processes that no longer run, or of this pid but not made here, are removed by the next launch; others are kept", async () => {
    const orphan = join(tmpdir(), `${PREFIX}${deadPid()}-orphan`);
    // A restarted Lambda runtime may get the pid of the one that died.
    const samePid = join(tmpdir(), `${PREFIX}${process.pid}-left-by-the-last-runtime`);
    const running = join(tmpdir(), `${PREFIX}1-running`); // pid 1 always runs
    const unrelated = join(tmpdir(), `${PREFIX}x-unrelated`);
    const all = [orphan, samePid, running, unrelated];
    try {
      for (const dir of all) mkdirSync(join(dir, "Default"), { recursive: true });
      await closeRenderer();
      await render();
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(samePid)).toBe(false);
      expect(existsSync(running)).toBe(true);
      expect(existsSync(unrelated)).toBe(true);
      expect(mine()).toHaveLength(1); // its own, made for the browser just launched
    } finally {
      for (const dir of all) rmSync(dir, { recursive: true, force: true });
    }
  });

  it("browsers of several renderers launching at once keep their own profiles", async () => {
    // Each launch sweeps the temp folder: one must never take another's new folder for an orphan.
    await closeRenderer();
    const renderers = Array.from({ length: 3 }, () =>
      createRenderer({ templates: builtInTemplates(root), packagesRoot: root, producer: "test", browsers: 2 }),
    );
    try {
      for (let round = 0; round < 2; round++) {
        const input = example("zhanhe-transport-2020.json");
        const results = await Promise.all(renderers.flatMap((r) => [r.render(input), r.render(input)]));
        expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
        const pids = (await Promise.all(renderers.map((r) => r.browsers.processIds()))).flat();
        expect(pids).toHaveLength(6);
        expect(mine()).toHaveLength(6);
        await Promise.all(renderers.map((r) => r.close()));
        expect(mine()).toEqual([]);
      }
    } finally {
      await Promise.all(renderers.map((r) => r.close()));
    }
  });
});
