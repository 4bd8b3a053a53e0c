import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { root } from "../helpers/examples.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { attacks } from "./attacks.ts";
import { readFileSync } from "node:fs";
import { tempDir } from "../helpers/temp-dir.ts";

// The attacks that concern a command line: files from Windows editors, names that climb out of the
// working folder, inputs too large to validate, settings that make no sense.
const bin = join(root, "bin", "report-render.js");
const base = tempDir("report-render-hostile-cli-");

function cli(args: string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}) {
  const run = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? base,
    input: options.input,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...options.env },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const attack = (name: string) => attacks.find((a) => a.name.includes(name))!.body;

// The CLI runs dist/cli.mjs: build it from the sources under test.
beforeAll(() => {
  execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "inherit" });
});

describe("report-render CLI under attack", () => {
  it("never writes outside the working folder, whatever the report's name says", () => {
    const cwd = join(base, "a", "b", "c");
    mkdirSync(cwd, { recursive: true });
    const { code, stdout } = cli(["-"], { input: attack("path out of the working folder"), cwd });
    expect(code).toBe(0);
    expect(readdirSync(cwd)).toEqual(["x-escaped-2020-政府信息公开工作年度报告.pdf"]);
    expect(stdout).toContain(join(cwd, "x-escaped-2020-政府信息公开工作年度报告.pdf"));
    expect(readdirSync(base).sort()).toEqual(["a"]);
  });

  it("reads a file saved with a UTF-8 byte order mark (Windows Notepad)", async () => {
    const file = join(base, "bom.json");
    writeFileSync(file, `\uFEFF${readFileSync(join(root, "examples", "gov-disclosure-2021-sample.json"), "utf8")}`);
    const { code } = cli([file, "-o", join(base, "bom.pdf")]);
    expect(code).toBe(0);
    expect(squash((await pageTexts(new Uint8Array(readFileSync(join(base, "bom.pdf"))))).join(""))).toContain(
      "政府信息公开",
    );
  });

  it("refuses an input too large to validate with exit 2 and a short error list", () => {
    const started = performance.now();
    const { code, stderr } = cli(["-"], { input: attack("8,000 × 100") });
    expect(code).toBe(2);
    expect(stderr.length).toBeLessThan(64 * 1024);
    expect(JSON.parse(stderr)).toMatchObject({ error: "too_complex", errors: [{ rule: "limit.jsonValues" }] });
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("lists the first 100 of 90,000 errors and counts the rest", () => {
    const { code, stderr } = cli(["-"], { input: attack("90,000") });
    expect(code).toBe(2);
    const refusal = JSON.parse(stderr) as { errors: unknown[]; truncated: number };
    expect(refusal.errors).toHaveLength(100);
    expect(refusal.truncated).toBe(89_900);
  });

  it("stops with a clear message when a setting makes no sense", () => {
    const { code, stderr } = cli(["-"], { input: attack("byte order mark"), env: { RENDER_CONCURRENCY: "abc" } });
    expect(code).toBe(1);
    expect(stderr).toContain('RENDER_CONCURRENCY must be a positive number, not "abc"');
  });

  it("renders a batch of attacks line by line: PDFs named by line only, each refusal one short line", () => {
    const cwd = join(base, "batch");
    mkdirSync(cwd);
    const lines = [attack("path out of the working folder"), attack("90,000"), attack("8,000 × 100")];
    writeFileSync(join(cwd, "attacks.jsonl"), `${lines.join("\n")}\n`);
    const { code, stderr } = cli(["attacks.jsonl"], { cwd });
    expect(code).toBe(2);
    expect(readdirSync(cwd).sort()).toEqual(["attacks-1.pdf", "attacks.jsonl"]);
    const refusal = (line: number) => {
      const found = stderr.split("\n").find((l) => l.startsWith(`attacks.jsonl:${line}: `))!;
      expect(found.length).toBeLessThan(64 * 1024);
      return JSON.parse(found.slice(`attacks.jsonl:${line}: `.length));
    };
    expect(refusal(2)).toMatchObject({ error: "invalid_data", truncated: 89_900 });
    expect(refusal(3)).toMatchObject({ error: "too_complex", errors: [{ rule: "limit.jsonValues" }] });
  });
});
