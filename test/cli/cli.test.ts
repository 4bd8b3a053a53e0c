import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readLines } from "../../functions/cli/inputs.ts";
import { createReporter, formatProgress } from "../../functions/cli/progress.ts";
import { root } from "../helpers/examples.ts";
import { pageTexts } from "../helpers/pdf.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const bin = join(root, "bin", "report-render.js");
const work = tempDir("report-render-cli-");

function cli(args: string[], input?: string, cwd = work) {
  const run = spawnSync(process.execPath, [bin, ...args], { cwd, input, encoding: "utf8", timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A one-page `report` envelope titled `title`, on one line (a batch line). */
function tiny(title: string): string {
  return JSON.stringify({
    template: "report",
    data: { title, blocks: [{ type: "paragraph", text: `${title} body` }] },
  });
}
const bad = JSON.stringify({ template: "report", data: { title: "Bad", blocks: [{ type: "nope" }] } });

/** The folder's names, sorted. */
const list = (dir: string) => readdirSync(dir).sort();
const textOf = async (pdf: string) => (await pageTexts(new Uint8Array(readFileSync(pdf)))).join("");
/** What a terminal would take for control: a carriage return or an escape sequence. */
const hasControl = (text: string) => text.includes("\r") || text.includes("\x1b");

// The CLI runs dist/cli.mjs: build it from the sources under test (bin/report-render.js would also
// rebuild it when stale, but then the first test would pay for it).
beforeAll(() => {
  execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "inherit" });
});

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

  it("renders two files and a batch with one renderer: good PDFs beside their inputs, the bad line named on stderr, exit 2", async () => {
    const dir = join(work, "several");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.json"), tiny("Alpha"));
    writeFileSync(join(dir, "b.json"), tiny("Bravo"));
    writeFileSync(join(dir, "batch.jsonl"), `${tiny("Line one")}\n${bad}\n${tiny("Line three")}\n`);
    const { code, stdout, stderr } = cli(["a.json", "b.json", "batch.jsonl"], undefined, dir);
    expect(code).toBe(2);
    expect(list(dir)).toEqual(["a.json", "a.pdf", "b.json", "b.pdf", "batch-1.pdf", "batch-3.pdf", "batch.jsonl"]);
    // One summary line per output, in input order.
    expect(stdout.trim().split("\n")).toEqual(
      ["a.pdf", "b.pdf", "batch-1.pdf", "batch-3.pdf"].map((name) =>
        expect.stringMatching(new RegExp(`^${join(dir, name)}: 1 pages, \\d+ bytes, \\d+ ms$`)),
      ),
    );
    expect(await textOf(join(dir, "batch-3.pdf"))).toContain("Line three");
    // The refused line's error list, as JSON on one line, after the input and line it belongs to.
    const refusal = stderr.split("\n").find((line) => line.startsWith("batch.jsonl:2: "));
    expect(JSON.parse(refusal!.slice("batch.jsonl:2: ".length))).toMatchObject({
      error: "invalid_data",
      errors: [{ path: "/blocks/0/type" }],
    });
    expect(stderr).toMatch(/^report-render: 5 reports: 4 rendered, 1 refused, 0 failed \(\d+\.\d s\)$/m);
    // Not a terminal: no progress bar, nothing but lines.
    expect(hasControl(stderr)).toBe(false);
    expect(hasControl(stdout)).toBe(false);
  });

  it("puts a batch's PDFs into -o DIR as <batch>-<line>.pdf, skipping blank lines and reading CRLF and a BOM", async () => {
    const dir = join(work, "batch-out");
    mkdirSync(dir);
    const batch = join(dir, "reports.jsonl");
    writeFileSync(batch, `\uFEFF${tiny("First")}\r\n\r\n   \r\n${tiny("Fourth")}`);
    const { code, stdout, stderr } = cli([batch, "-o", join(dir, "pdfs", "nested")]);
    expect(stderr).toMatch(/^report-render: 2 reports: 2 rendered, 0 refused, 0 failed/);
    expect(code).toBe(0);
    expect(stdout.split("\n").filter(Boolean)).toHaveLength(2);
    expect(list(join(dir, "pdfs", "nested"))).toEqual(["reports-1.pdf", "reports-4.pdf"]);
    expect(await textOf(join(dir, "pdfs", "nested", "reports-4.pdf"))).toContain("Fourth");
    expect(list(dir)).toEqual(["pdfs", "reports.jsonl"]);
  });

  it("puts several files' PDFs into -o DIR; -o file.pdf and --html take a single input", () => {
    const dir = join(work, "many");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.json"), tiny("Alpha"));
    writeFileSync(join(dir, "b.json"), tiny("Bravo"));
    const { code } = cli(["a.json", "b.json", "-o", "out"], undefined, dir);
    expect(code).toBe(0);
    expect(list(join(dir, "out"))).toEqual(["a.pdf", "b.pdf"]);

    for (const args of [
      ["a.json", "b.json", "-o", "both.pdf"],
      ["a.json", "b.json", "--html", "x.html"],
      ["-", "-"],
    ]) {
      const refused = cli(args, undefined, dir);
      expect(refused.code, args.join(" ")).toBe(1);
      expect(refused.stderr).toContain("usage: report-render");
    }
    // One input and an existing folder: the PDF goes into it under the input's name.
    expect(cli(["a.json", "-o", "out/"], undefined, dir).code).toBe(0);
    expect(cli([join(dir, "b.json"), "-o", join(dir, "out")]).stdout).toContain(join(dir, "out", "b.pdf"));
    expect(list(dir)).toEqual(["a.json", "b.json", "out"]);
  });

  it("exits 1 when an input fails for another reason, still rendering the others, and never writes a PDF twice", () => {
    const dir = join(work, "failing");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.json"), tiny("Alpha"));
    writeFileSync(join(dir, "bad.json"), bad);
    const { code, stdout, stderr } = cli(["missing.json", "bad.json", "a.json", "a.json"], undefined, dir);
    expect(code).toBe(1);
    expect(stdout).toContain(join(dir, "a.pdf"));
    expect(stderr).toMatch(/^missing\.json: ENOENT: .*missing\.json/m);
    expect(stderr).toMatch(/^bad\.json: \{"error":"invalid_data"/m);
    expect(stderr).toMatch(/^a\.json: .*a\.pdf is the output of a\.json too: not written twice$/m);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("reads a batch as JSON Lines: \\n or \\r\\n, a final newline ends the last line", async () => {
    const file = join(work, "lines.jsonl");
    const read = async (text: string) => {
      writeFileSync(file, text);
      const lines: [number, string][] = [];
      for await (const { line, text } of readLines(file)) lines.push([line, text]);
      return lines;
    };
    expect(await read("a\nb\r\n\nc")).toEqual([
      [1, "a"],
      [2, "b"],
      [3, ""],
      [4, "c"],
    ]);
    expect(await read("a\n")).toEqual([[1, "a"]]);
    expect(await read("")).toEqual([]);
    // Longer than a read chunk (64 KiB), across chunk boundaries.
    const long = "x".repeat(200_000);
    expect((await read(`${long}\n${long}`)).map(([line, text]) => [line, text.length])).toEqual([
      [1, 200_000],
      [2, 200_000],
    ]);
  });
});

describe("the CLI's progress bar", () => {
  it("shows how many are done of how many, and the input last finished", () => {
    expect(formatProgress(0, 40, "")).toBe("[....................] 0/40");
    expect(formatProgress(12, 40, "a.json")).toBe("[######..............] 12/40 a.json");
    expect(formatProgress(40, 40, "batch.jsonl:40")).toBe("[####################] 40/40 batch.jsonl:40");
    expect(formatProgress(0, 0, "")).toBe("[####################] 0/0");
  });

  it("fits the terminal's width, cutting the label from the left, CJK characters as two columns", () => {
    const line = formatProgress(3, 10, "/very/long/path/to/some/folder/batch.jsonl:3", 50);
    expect(line).toBe("[######..............] 3/10 …folder/batch.jsonl:3");
    expect(line.length).toBeLessThanOrEqual(49);
    expect(formatProgress(1, 2, "报告报告报告报告报告报告.json", 40)).toBe("[##########..........] 1/2 …告报告.json");
    expect(formatProgress(1, 2, "a.json", 10)).toBe("[########");
    // A file name cannot drive the terminal.
    expect(formatProgress(1, 2, "a\x1b[2J\r.json")).toBe("[##########..........] 1/2 a?[2J?.json");
  });

  it("is drawn under the output lines on a terminal, and not at all otherwise", () => {
    const record = () => {
      const writes: string[] = [];
      return { writes, stream: { columns: 60, write: (text: string) => writes.push(text) } };
    };
    const [out, err] = [record(), record()];
    const tty = createReporter(out.stream, err.stream, true);
    tty.progress(0, 2, "");
    tty.out("a.pdf: 1 pages");
    tty.progress(1, 2, "a.json");
    tty.end();
    expect(out.writes).toEqual(["a.pdf: 1 pages\n"]);
    expect(err.writes).toEqual([
      "[....................] 0/2",
      "\r\x1b[K",
      "[....................] 0/2",
      "\r\x1b[K",
      "[##########..........] 1/2 a.json",
      "\r\x1b[K",
    ]);

    const [out2, err2] = [record(), record()];
    const plain = createReporter(out2.stream, err2.stream, false);
    plain.progress(0, 2, "");
    plain.out("a.pdf: 1 pages");
    plain.err("b.json: {}");
    plain.progress(1, 2, "a.json");
    plain.end();
    expect(out2.writes).toEqual(["a.pdf: 1 pages\n"]);
    expect(err2.writes).toEqual(["b.json: {}\n"]);
  });
});
