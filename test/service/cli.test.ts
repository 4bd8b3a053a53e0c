import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "../helpers/examples.ts";
import { pageTexts } from "../helpers/pdf.ts";

const bin = join(root, "bin", "report-render.js");
const work = mkdtempSync(join(tmpdir(), "report-render-cli-"));

function cli(args: string[], input?: string) {
  const run = spawnSync(process.execPath, [bin, ...args], { cwd: work, input, encoding: "utf8", timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("report-render CLI", () => {
  it("renders a file to the PDF named with -o, also writing the HTML, and prints a one-line summary", async () => {
    const out = join(work, "zhanhe.pdf");
    const html = join(work, "zhanhe.html");
    const { code, stdout, stderr } = cli([
      join(root, "examples", "zhanhe-transport-2020.json"),
      "-o",
      out,
      "--html",
      html,
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^.*zhanhe\.pdf: 7 pages, \d+ bytes, \d+ ms\n$/);
    expect((await pageTexts(new Uint8Array(readFileSync(out)))).join("")).toContain("湛河区交通运输局");
    expect(readFileSync(html, "utf8")).toContain("二、主动公开政府信息情况");
  });

  it("reads stdin with - and writes the template's file name in the working folder", () => {
    const input = readFileSync(join(root, "examples", "gov-disclosure-2021-sample.json"), "utf8");
    const { code } = cli(["-"], input);
    expect(code).toBe(0);
    expect(existsSync(join(work, "sample-2021.pdf"))).toBe(true);
  });

  it("exits 2 with the error list as JSON on stderr for invalid input, and no stack trace", () => {
    const cases: [string, string][] = [
      ["not json", "invalid_json"],
      [`{"template":"nope","data":{}}`, "unknown_template"],
      [`{"data":{}}`, "invalid_envelope"],
      [`{"template":"gov-disclosure-annual-report","data":{"formatVersion":"2019"}}`, "invalid_data"],
    ];
    for (const [input, error] of cases) {
      const { code, stderr, stdout } = cli(["-"], input);
      expect(code, input).toBe(2);
      expect(stdout).toBe("");
      const parsed = JSON.parse(stderr) as { error: string; errors: { rule: string; path: string }[] };
      expect(parsed.error).toBe(error);
      expect(parsed.errors.length).toBeGreaterThan(0);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("renders invalid data anyway with --validation warn, listing the warnings", () => {
    const envelope = JSON.parse(readFileSync(join(root, "examples", "gov-disclosure-2021-sample.json"), "utf8"));
    envelope.data.reviewAndLitigation.review.total = 5;
    const { code, stderr } = cli(
      ["-", "-o", join(work, "warned.pdf"), "--validation", "warn"],
      JSON.stringify(envelope),
    );
    expect(code).toBe(0);
    expect(stderr).toContain("warning: I4 /reviewAndLitigation/review/total");
  });

  it("exits 1 without a stack trace when the input file does not exist", () => {
    const { code, stderr } = cli([join(work, "missing.json")]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^report-render: .*missing\.json/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
