import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeWhole } from "../../functions/service/write-whole.ts";
import { tempDir } from "../helpers/temp-dir.ts";

describe("writeWhole (the CLI's outputs, the local signing key)", () => {
  it("replaces a file whole, leaving nothing beside it", async () => {
    const dir = tempDir("report-render-write-whole-");
    const path = join(dir, "report.pdf");
    writeFileSync(path, "old and longer than the new one");
    await writeWhole(path, new Uint8Array(Buffer.from("%PDF-new")));
    expect(readFileSync(path, "utf8")).toBe("%PDF-new");
    expect(readdirSync(dir)).toEqual(["report.pdf"]);
  });

  it("writes through a symbolic link to the file it names, and the link stays", async () => {
    const dir = tempDir("report-render-write-whole-");
    const real = join(dir, "real.pdf");
    const link = join(dir, "link.pdf");
    writeFileSync(real, "old");
    symlinkSync(real, link);
    await writeWhole(link, "new");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toBe("new");
  });

  it("writes a path that is not a regular file (a device) directly, never renaming over it", async () => {
    await writeWhole("/dev/null", "discarded");
    expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
  });

  it("fails, leaving nothing beside it, when a folder stands where the file should go", async () => {
    const dir = tempDir("report-render-write-whole-");
    const taken = join(dir, "report.pdf");
    mkdirSync(taken);
    await expect(writeWhole(taken, "x")).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["report.pdf"]);
    expect(existsSync(taken)).toBe(true);
  });
});
