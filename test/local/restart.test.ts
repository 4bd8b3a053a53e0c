import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { S3RVER_CREDENTIALS } from "../../functions/local/s3-server.ts";
import { loadConfig } from "../../functions/service/settings.ts";
import { createStorage, type Storage } from "../../functions/service/storage/s3.ts";
import { tempDir } from "../helpers/temp-dir.ts";

// npm start killed (SIGKILL: no chance to finish anything) in the middle of 60 uploads and a
// 100-line batch, then started again on the same data folder: every upload gets its answer, the batch
// its summary, and nothing answered before the kill is rendered again. On AWS, SQS keeps the messages;
// locally the restart announces the stored uploads again (functions/local/offer-stored-uploads.ts).

const root = join(import.meta.dirname, "../..");
const { inputBucket, outputBucket } = loadConfig({});
const dataDir = tempDir("report-render-local-restart-");
const servers: ChildProcess[] = [];
afterAll(() => {
  for (const server of servers) killWithChromium(server);
});

interface Running {
  process: ChildProcess;
  storage: Storage;
  /** The server's log lines so far (JSON). */
  logs: Record<string, unknown>[];
}

function start(): Promise<Running> {
  const child = spawn(process.execPath, ["--import", "tsx", "functions/local/server.ts"], {
    cwd: root,
    env: { ...process.env, PORT: "0", S3_PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  servers.push(child);
  const logs: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    let out = "";
    let pending = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("{")) logs.push(JSON.parse(line) as Record<string, unknown>);
      const endpoint = /S3 endpoint\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (endpoint && out.includes("report-render is running")) {
        const storage = createStorage({
          region: "us-east-1",
          endpoint,
          forcePathStyle: true,
          credentials: S3RVER_CREDENTIALS,
        });
        resolve({ process: child, storage, logs });
      }
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before it was up: ${out}`)));
  });
}

/** SIGKILL for the server and the Chromium it launched (found by its profile folder's name). */
function killWithChromium(server: ChildProcess): void {
  const profiles = readdirSync(tmpdir())
    .filter((name) => name.startsWith(`report-render-profile-${server.pid}-`))
    .map((name) => join(tmpdir(), name));
  server.kill("SIGKILL");
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (profiles.some((profile) => command.includes(`--user-data-dir=${profile}`)))
        process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone
    }
  }
}

const report = (text: string) => ({ template: "report", data: { title: text, blocks: [{ type: "paragraph", text }] } });
/** Every tenth input is refused (a block the template does not have): an error file, or a refused line. */
const input = (name: string, i: number) =>
  i % 10 === 9 ? { template: "report", data: { title: name, blocks: [{ type: "nonsense" }] } } : report(name);

const SINGLES = 60;
const LINES = 100;

async function answers(storage: Storage): Promise<Set<string>> {
  return new Set((await storage.list(outputBucket, "")).map((o) => o.key));
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const answered = (keys: Set<string>, i: number) =>
  (keys.has(`u${i}.pdf`) && keys.has(`u${i}.result.json`)) || keys.has(`u${i}.error.json`);

const renderedIn = (logs: Record<string, unknown>[]) =>
  new Set(logs.filter((l) => l.message === "upload.rendered").map((l) => String(l.key)));

describe("npm start killed mid-work and started again", () => {
  it("answers every upload and the batch, and renders nothing twice", async () => {
    const first = await start();
    const batch = Array.from({ length: LINES }, (_, i) => JSON.stringify(input(`line ${i + 1}`, i))).join("\n");
    await first.storage.put(inputBucket, "incoming/b.jsonl", batch);
    for (let i = 0; i < SINGLES; i++) {
      await first.storage.put(inputBucket, `incoming/u${i}.json`, JSON.stringify(input(`U${i}`, i)));
    }
    // Killed once some are answered, with most still queued (the local queue is in memory).
    await until(async () => renderedIn(first.logs).size >= 5, 60_000);
    const exited = new Promise((resolve) => first.process.once("exit", resolve));
    killWithChromium(first.process);
    await exited;
    const renderedBefore = renderedIn(first.logs);
    expect(renderedBefore.size).toBeLessThan(SINGLES - SINGLES / 10); // work was left

    const second = await start();
    await until(async () => {
      const now = await answers(second.storage);
      return Array.from({ length: SINGLES }, (_, i) => answered(now, i)).every(Boolean) && now.has("b.summary.json");
    }, 180_000);
    expect(second.logs.find((l) => l.message === "local.uploads_offered_again")).toMatchObject({ count: SINGLES + 1 });
    // Nothing answered before the kill is rendered again: each of those is skipped.
    const renderedAfter = renderedIn(second.logs);
    expect([...renderedBefore].filter((key) => renderedAfter.has(key))).toEqual([]);
    for (const key of renderedBefore) {
      expect(
        second.logs.some((l) => l.message === "upload.skipped" && l.key === key),
        key,
      ).toBe(true);
    }
    // Each single upload that renders is rendered once in all, the others refused.
    expect(renderedBefore.size + renderedAfter.size).toBe(SINGLES - SINGLES / 10);
    const keys = await answers(second.storage);
    for (let i = 0; i < SINGLES; i++) {
      const refused = i % 10 === 9;
      expect(keys.has(`u${i}.error.json`), `u${i}`).toBe(refused);
      expect(keys.has(`u${i}.pdf`), `u${i}`).toBe(!refused);
    }
    // The batch: its summary has an entry for each line, once; a PDF for each line that renders.
    const got = await second.storage.get(outputBucket, "b.summary.json");
    if (!got.found || "tooLarge" in got) throw new Error("no summary");
    const summary = JSON.parse(got.body.toString("utf8")) as { items: { line: number; status: string }[] };
    expect(summary.items.map((item) => item.line).sort((a, b) => a - b)).toEqual(
      Array.from({ length: LINES }, (_, i) => i + 1),
    );
    for (const item of summary.items) {
      const refused = (item.line - 1) % 10 === 9;
      expect(item.status, `line ${item.line}`).toBe(refused ? "failed" : "done");
      expect(keys.has(`batches/b/${item.line}.pdf`), `line ${item.line}`).toBe(!refused);
    }
  }, 300_000);
});
