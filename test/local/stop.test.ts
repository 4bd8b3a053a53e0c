import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exampleText } from "../helpers/local-service.ts";
import { tempDir } from "../helpers/temp-dir.ts";

// The service and the CLI as people stop them: Ctrl-C. npm start answers the requests under way,
// closes what it started (Chromium included, and its profile folder) and exits 0, rather than
// Chromium's launcher killing it and exiting 130; the CLI stops at once, with 130, and leaves no Chromium or profile folder behind (one
// stopped while its Chromium is still starting leaves the folder to the next launch's sweep:
// test/hostile/chromium-profile.test.ts).

const root = join(import.meta.dirname, "../..");
let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill("SIGKILL");
});

/** The server (`functions/local/server.ts`, what npm start runs) on free ports; resolves with its URL. */
function start(): Promise<{ process: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "functions/local/server.ts"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: "0",
      S3_PORT: "0",
      DATA_DIR: tempDir("report-render-local-stop-"),
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server = child;
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const url = /web page\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
      if (url) resolve({ process: child, url });
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before it was up: ${out}`)));
  });
}

/** The profile folders of the Chromium that process `pid` launched. */
function profilesOf(pid: number | undefined): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith(`report-render-profile-${pid}-`))
    .map((name) => join(tmpdir(), name));
}

/** The Chromium processes whose command line names `profile` (from /proc). */
function chromiumUsing(profile: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`--user-data-dir=${profile}`);
      } catch {
        return false; // gone
      }
    })
    .map(Number);
}

describe("npm start stopped with Ctrl-C", () => {
  it("after a render: exits 0, its Chromium gone and its profile folder removed", async () => {
    const { process: child, url } = await start();
    const response = await fetch(`${url}/v1/render`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/pdf" },
      body: exampleText,
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const profiles = profilesOf(child.pid);
    expect(profiles).toHaveLength(1);
    const chromium = chromiumUsing(profiles[0] as string);
    expect(chromium).toHaveLength(1);

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(existsSync(profiles[0] as string)).toBe(false);
    expect(chromiumUsing(profiles[0] as string)).toEqual([]);
  });
});

describe("npm start stopped with Ctrl-C while it renders", () => {
  it("answers the render under way, then exits 0", async () => {
    const { process: child, url } = await start();
    const rendering = fetch(`${url}/v1/render`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/pdf" },
      body: exampleText,
    });
    // The first render launches Chromium (about a second): it is under way well before this ends.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    const response = await rendering;
    expect(response.status).toBe(200);
    const pdf = Buffer.from(await response.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(await exited).toBe(0);
  });
});

describe("the CLI stopped with Ctrl-C", () => {
  it("between reports: exits 130 at once, its Chromium gone and its profile folder removed", async () => {
    const work = tempDir("report-render-cli-stop-");
    const inputs = Array.from({ length: 8 }, (_, i) => join(work, `report-${i}.json`));
    for (const input of inputs) writeFileSync(input, exampleText);
    const out = join(work, "out");
    const child = spawn(process.execPath, ["bin/report-render.js", ...inputs, "-o", out], {
      cwd: root,
      stdio: "ignore",
    });
    server = child;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // Once the first PDF is written: its Chromium is up.
    await expect
      .poll(() => existsSync(out) && readdirSync(out).length > 0, { timeout: 30_000, interval: 20 })
      .toBe(true);
    const [profile] = profilesOf(child.pid);
    expect(chromiumUsing(profile as string)).toHaveLength(1);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(readdirSync(out).length).toBeLessThan(inputs.length); // stopped, not finished
    expect(existsSync(profile as string)).toBe(false);
    await expect.poll(() => chromiumUsing(profile as string)).toEqual([]);
  });
});
