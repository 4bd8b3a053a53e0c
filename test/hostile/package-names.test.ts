import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatProblem, type PackageProblem, readPackageZip, writeZip } from "../../functions/packages/index.ts";
import { root } from "../helpers/examples.ts";
import { startTestService, type TestService } from "../helpers/local-service.ts";
import { BASE, baseFiles, hostileZip, type RawEntry, rawZip, text } from "../helpers/package-zips.ts";
import { tempDir } from "../helpers/temp-dir.ts";

// A zip whose files are all in one folder is read as that folder's package: the folder's name is
// dropped, so it is checked as any name is. Names that are skipped (__MACOSX/, hidden files) are
// checked too. And a name is shown shortened and without its control characters, in an HTTP answer
// as on a terminal.

const rules = (problems: PackageProblem[]) => problems.map((p) => [p.file, p.rule]);

/** The base package with every file (and `extra`) under `folder`. */
function zipUnder(folder: string, extra: RawEntry[] = []): Uint8Array {
  return rawZip([...Object.entries(BASE).map(([name, v]) => ({ name: `${folder}${name}`, data: text(v) })), ...extra]);
}

describe("the folder every file of a zip is in", () => {
  it.each([
    ["/", "an absolute path"],
    ["C:/", "an absolute path"],
    ["c:/", "an absolute path"],
    ["bell\u0007/", "a control character in the name"],
    ["\u001b[2J/", "a control character in the name"],
    ["next\u0085line/", "a control character in the name"],
    ["\u202eevil/", "a bidirectional control character in the name"],
    ["a\\b/", "a backslash in the name"],
  ])("%j is refused, and nothing in it is read", (folder, reason) => {
    const read = readPackageZip(zipUnder(folder));
    expect(rules(read.problems)).toEqual([["(package)", "path-unsafe"]]);
    expect(read.problems[0]?.message).toContain(reason);
    expect(read.files.size).toBe(0);
  });

  it("its name is quoted shortened, its control characters visible", () => {
    const long = readPackageZip(zipUnder(`${"y".repeat(65_000)}/`));
    expect(rules(long.problems)).toEqual([["(package)", "path-unsafe"]]);
    expect(long.problems[0]?.message).toMatch(
      /^every file is in the folder "y+…y+\/", refused: a name longer than 200/,
    );
    expect(long.problems[0]?.message.length).toBeLessThan(400);
    const [bell] = readPackageZip(zipUnder("bell\u0007/")).problems;
    expect(bell?.message).toContain('"bell\\u0007/"');
  });

  it("a zip under '..' or '.' is refused, file by file", () => {
    for (const folder of ["../", "./"]) {
      const read = readPackageZip(zipUnder(folder));
      expect(rules(read.problems), folder).toContainEqual([`${folder}template.json`, "path-unsafe"]);
      expect(read.files.size).toBe(0);
    }
  });

  it("a sound folder is read as the package, with or without entries of its own for its folders", () => {
    const plain = readPackageZip(writeZip(baseFiles()));
    const zips = [
      zipUnder("hostile/"),
      zipUnder("hostile/", [{ name: "hostile/" }]),
      // A Unix folder entry stored without its trailing slash.
      zipUnder("hostile/", [{ name: "hostile", mode: 0o040755 }]),
      zipUnder("hostile/", [{ name: "hostile/assets/" }]),
    ];
    for (const zip of zips) {
      const read = readPackageZip(zip);
      expect(read.problems.map(formatProblem)).toEqual([]);
      // The same files, so the same version.
      expect(read.files).toEqual(plain.files);
    }
  });

  it("a package that was refused for its folder is not published: 422 over HTTP, then 404", async () => {
    const service: TestService = await startTestService();
    try {
      for (const folder of ["/", "C:/", "bell\u0007/"]) {
        const response = await fetch(`${service.url}/v1/templates/hostile`, {
          method: "PUT",
          headers: { "content-type": "application/zip" },
          body: Buffer.from(zipUnder(folder)),
        });
        expect(response.status, folder).toBe(422);
        const body = (await response.json()) as { error: string; errors: { path: string; rule: string }[] };
        expect(body.error).toBe("invalid_template");
        expect(body.errors.map((e) => [e.path, e.rule])).toEqual([["(package)", "path-unsafe"]]);
      }
      expect((await fetch(`${service.url}/v1/templates/hostile`)).status).toBe(404);
    } finally {
      await service.stop();
    }
  });
});

describe("names that are skipped", () => {
  it("__MACOSX/, .DS_Store and hidden files with sound names are skipped: the package is read without them", async () => {
    const read = readPackageZip(
      zipUnder("hostile/", [
        { name: "__MACOSX/hostile/._template.json", data: text("resource fork") },
        { name: "hostile/.DS_Store", data: text("x") },
        { name: "hostile/assets/.hidden.png", data: text("x") },
      ]),
    );
    expect(read.problems).toEqual([]);
    expect([...read.files.keys()].sort()).toEqual(Object.keys(BASE).sort());
  });

  it.each([
    "__MACOSX/../../evil.sh",
    "__MACOSX/bell\u0007",
    "/.DS_Store",
    "C:/.hidden",
    ".git/../../evil",
    "__MACOSX\\..\\evil",
    "__MACOSX/\u202eevil",
  ])("are checked all the same: %j is refused", (name) => {
    const read = readPackageZip(hostileZip([{ name, data: text("x") }]));
    expect(rules(read.problems)).toEqual([[name, "path-unsafe"]]);
  });

  it("an entry with an empty name is refused, not skipped", () => {
    const read = readPackageZip(hostileZip([{ name: "", data: text("hidden data") }]));
    expect(read.problems.map((p) => [p.file, p.rule, p.message])).toEqual([
      ["", "path-unsafe", "refused: an empty name"],
    ]);
  });
});

describe("names as a problem shows them", () => {
  it("one line each, control characters written out, long names shortened", () => {
    const long = `assets/${"z".repeat(65_000)}.png`;
    const read = readPackageZip(
      hostileZip([
        { name: "assets/\u001b[2J\u001b]0;owned\u0007.png", data: text("x") },
        { name: "assets/line\nbreak.png", data: text("x") },
        { name: "assets/\u202egnp.exe", data: text("x") },
        { name: long, data: text("x") },
      ]),
    );
    const lines = read.problems.map(formatProblem);
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach a terminal
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(line.length).toBeLessThan(400);
    }
    expect(lines[0]).toBe(
      "assets/\\u001b[2J\\u001b]0;owned\\u0007.png: refused: a control character in the name [path-unsafe]",
    );
    expect(lines[2]).toContain("assets/\\u202egnp.exe");
    expect(lines[3]).toMatch(/^assets\/z+…z+\.png: refused: a name longer than 200 characters \[path-unsafe\]$/);
  });

  describe("report-render template check", () => {
    const bin = join(root, "bin", "report-render.js");
    beforeAll(() => {
      execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "inherit" });
    });

    it("prints a file name with an escape sequence written out, on one line", () => {
      const dir = tempDir("report-render-package-names-");
      for (const [name, content] of Object.entries(BASE)) writeFileSync(join(dir, name), content);
      mkdirSync(join(dir, "assets"));
      writeFileSync(join(dir, "assets", "\u001b[31mred\u001b[0m.png"), "x");
      const run = spawnSync(process.execPath, [bin, "template", "check", dir], { encoding: "utf8", timeout: 60_000 });
      expect(run.status).toBe(2);
      expect(run.stderr).toBe(
        "assets/\\u001b[31mred\\u001b[0m.png: refused: a control character in the name [path-unsafe]\n",
      );
    });
  });
});
