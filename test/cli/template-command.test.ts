import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readPackageDir, readPackageZip } from "../../functions/packages/index.ts";
import { fence } from "../helpers/fence.ts";
import { root } from "../helpers/examples.ts";
import { pageTexts, squash, textLines } from "../helpers/pdf.ts";
import { tempDir } from "../helpers/temp-dir.ts";

// `report-render template check|render|pack` through the real command, the example package of
// examples/packages/payment-notice read back from the PDF it makes.

const bin = join(root, "bin", "report-render.js");
const example = join(root, "examples", "packages", "payment-notice");
const work = tempDir("report-render-cli-template-");

function cli(args: string[], cwd = work) {
  const run = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A copy of the example package to break. */
function copyOfExample(name: string): string {
  const dir = join(work, name);
  cpSync(example, dir, { recursive: true });
  return dir;
}

const exampleData = () => JSON.parse(readFileSync(join(example, "example.json"), "utf8")) as Record<string, unknown>;

beforeAll(() => {
  execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "inherit" });
});

describe("report-render template check", () => {
  it("says ok for the example package, exit 0", () => {
    expect(cli(["template", "check", example])).toEqual({ code: 0, stdout: "ok\n", stderr: "" });
  });

  it("lists every problem as file:line:column: message (file: message without a place), exit 2", () => {
    const dir = copyOfExample("broken");
    const template = readFileSync(join(dir, "template.hbs"), "utf8");
    writeFileSync(join(dir, "template.hbs"), template.replace("{{@root.handler}}", "{{signer @root.handler}}"));
    const broken = JSON.stringify({ ...exampleData(), issueDate: "27.11.2026" }, null, 2);
    writeFileSync(join(dir, "example.json"), broken);
    const dateLine = broken.split("\n").findIndex((l) => l.includes('"issueDate"')) + 1;
    writeFileSync(
      join(dir, "style.css"),
      `${readFileSync(join(dir, "style.css"), "utf8")}\nbody { background: url(https://example.com/bg.png); }\n`,
    );
    writeFileSync(join(dir, "assets", "slides.gif"), "GIF89a");
    const { code, stdout, stderr } = cli(["template", "check", dir]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    const lines = stderr.trimEnd().split("\n");
    const templateLine = template.split("\n").findIndex((l) => l.includes("{{@root.handler}}")) + 1;
    expect(lines).toEqual([
      "assets/slides.gif: is not an accepted asset: images .png .jpg .jpeg .webp .svg, fonts .ttf .woff2 [asset-type]",
      `example.json:${dateLine}:3: /issueDate must match format "date" [example-invalid]`,
      expect.stringMatching(/^style\.css:\d+:24: url\(https:\/\/example\.com\/bg\.png\) would fetch: .* \[fetch\]$/),
      expect.stringMatching(
        new RegExp(
          `^template\\.hbs:${templateLine}:\\d+: unknown helper "signer"; the helpers are .* \\[unknown-helper\\]$`,
        ),
      ),
    ]);
  });

  it("exit 1 for a folder that is not there, and for a command it does not know", () => {
    const missing = cli(["template", "check", join(work, "nope")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^report-render: ENOENT/);
    const unknown = cli(["template", "publish", example]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "template publish"');
    expect(cli(["template"]).stderr).toContain("usage: report-render template check DIR");
  });
});

describe("report-render template render", () => {
  it("renders the example: two copies, the running header, 第 X 页 共 Y 页 in the footer", async () => {
    const out = join(work, "notice.pdf");
    const { code, stdout, stderr } = cli(["template", "render", example, "-o", out]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^.*notice\.pdf: 2 pages, \d+ bytes, \d+ ms\n$/);
    const pdf = new Uint8Array(readFileSync(out));
    const pages = (await pageTexts(pdf)).map(squash);
    expect(pages).toHaveLength(2);
    for (const [i, copy] of ["第一联缴款人收执", "第二联执收单位留存"].entries()) {
      const page = pages[i] ?? "";
      expect(page).toContain("非税收入缴款通知书");
      expect(page).toContain(copy);
      expect(page).toContain("示例市恒信建材有限公司");
      expect(page).toContain("¥12,345.60");
      expect(page).toContain("人民币壹万贰仟叁佰肆拾伍元陆角");
      expect(page).toContain("2026年12月26日");
    }
    // The footer and the header are margin boxes: below and above the page's content.
    const lines = await textLines(pdf);
    for (const page of [1, 2]) {
      const footer = lines.find((l) => l.page === page && squash(l.text) === `第${page}页共2页`);
      expect(footer, `page ${page}'s footer`).toBeDefined();
      expect(footer?.y).toBeLessThan(62); // the bottom margin is 22 mm (62 pt)
      const header = lines.find((l) => l.page === page && squash(l.text).includes("编号NT-2026-000123"));
      expect(header?.y).toBeGreaterThan(842 - 74); // the top margin is 26 mm (74 pt)
    }
  });

  it("renders other data, named after the package in the working folder by default", async () => {
    const data = {
      ...exampleData(),
      payer: { name: "张三", idType: "居民身份证", idNumber: "410402199001011234" },
      copies: ["第一联", "第二联", "第三联"],
      items: [{ code: "103040201", name: "不动产登记费（住宅类）", unit: "件", quantity: 1, price: 80, amount: 80 }],
    };
    const file = join(work, "zhang.json");
    writeFileSync(file, JSON.stringify(data));
    const cwd = mkdtempSync(join(work, "cwd-"));
    const { code, stdout } = cli(["template", "render", example, file], cwd);
    expect(code).toBe(0);
    expect(stdout).toContain(join(cwd, "payment-notice.pdf"));
    const pages = (await pageTexts(new Uint8Array(readFileSync(join(cwd, "payment-notice.pdf"))))).map(squash);
    expect(pages).toHaveLength(3);
    expect(pages[2]).toContain("第3页共3页");
    expect(pages[0]).toContain("人民币捌拾元整");
    expect(pages[0]).toContain("联系电话—");
  });

  it("refuses data the schema refuses, or the template cannot render, with the endpoint's error list, exit 2", () => {
    const invalid = join(work, "invalid.json");
    writeFileSync(invalid, JSON.stringify({ ...exampleData(), noticeNo: "no spaces allowed" }));
    const refused = cli(["template", "render", example, invalid, "-o", join(work, "x.pdf")]);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr)).toMatchObject({
      error: "invalid_data",
      errors: [{ rule: "schema", path: "/noticeNo" }],
    });

    const huge = join(work, "huge.json");
    const items = [{ code: "103040201", name: "x", unit: "件", quantity: 1, price: 1, amount: 1e17 }];
    writeFileSync(huge, JSON.stringify({ ...exampleData(), items }));
    const failed = cli(["template", "render", example, huge, "-o", join(work, "y.pdf")]);
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stderr)).toMatchObject({
      error: "invalid_data",
      errors: [{ rule: "template-render", message: expect.stringContaining("cnyUpper") }],
    });
    expect(failed.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("report-render template pack", () => {
  it("zips the package for publication: the zip reads back as the same package", async () => {
    const { code, stdout } = cli(["template", "pack", example, "-o", join(work, "notice.zip")]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/notice\.zip: 8 files, \d+ bytes/);
    const fromZip = await fence.check(readPackageZip(new Uint8Array(readFileSync(join(work, "notice.zip")))));
    const fromDir = await fence.check(await readPackageDir(example));
    expect(fromZip.ok && fromDir.ok && fromZip.package.digest === fromDir.package.digest).toBe(true);
  });
});

describe("the CLI's other commands", () => {
  it("lists the template commands in its help, and still renders reports as before", () => {
    const help = cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("report-render template render DIR [data.json] [-o out.pdf]");
    expect(cli([]).stderr).toContain("report-render template check|render|pack DIR");
  });
});
