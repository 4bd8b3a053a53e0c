import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { brotliCompressSync, constants } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ChromiumPack,
  PACK_DIR,
  PACK_MANIFEST,
  readPack,
  sparticuzPack,
} from "../../functions/service/chromium-pack.ts";
import { writePack } from "../../functions/service/chromium-pack-writer.ts";
import { unpackChromium } from "../../functions/service/chromium-unpack.ts";
import { chromiumLocator } from "../../functions/service/chromium.ts";
import { loadConfig, withOverrides } from "../../functions/service/settings.ts";
import { extractTar } from "../../functions/service/tar.ts";
import { root } from "../helpers/synth.ts";

// Chromium's unpacking on a small stand-in for @sparticuz/chromium's bin/ folder: the same files
// (a brotli binary, three brotli tars), a binary of a few MB.
const scratch = mkdtempSync(join(tmpdir(), "report-render-unpack-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Bytes that differ from part to part, so a part inflated at a wrong offset shows. */
const BINARY = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(2 << 20, 7), randomBytes(54_321)]);
const FONTS_CONF = '<?xml version="1.0" ?>\n<fontconfig>\n  <dir>/tmp/fonts</dir>\n</fontconfig>\n';

let made = 0;
const fresh = (name: string) => join(mkdtempSync(join(scratch, `${name}-`)), "chromium");

function tar(files: Record<string, string | Buffer>): Buffer {
  const src = mkdtempSync(join(scratch, "tar-"));
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(dirname(join(src, name)), { recursive: true });
    writeFileSync(join(src, name), data, { mode: 0o755 });
  }
  return execFileSync("tar", ["-cf", "-", "-C", src, ...Object.keys(files)]);
}

/** A bin/ folder shaped like @sparticuz/chromium's, in a package folder of its own. */
function sparticuzLikeBin(): string {
  const pkg = join(scratch, `package-${++made}`);
  mkdirSync(join(pkg, "bin"), { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ version: "0.0.0-test" }));
  const br = (data: Buffer) => brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
  writeFileSync(join(pkg, "bin/chromium.br"), br(BINARY));
  writeFileSync(
    join(pkg, "bin/swiftshader.tar.br"),
    br(tar({ "libGLESv2.so": "gles", "vk_swiftshader_icd.json": "{}" })),
  );
  writeFileSync(join(pkg, "bin/fonts.tar.br"), br(tar({ "fonts.conf": FONTS_CONF, "fonts/Open_Sans/a.ttf": "ttf" })));
  writeFileSync(join(pkg, "bin/al2023.tar.br"), br(tar({ "lib/libnss3.so": "nss" })));
  return join(pkg, "bin");
}

const bin = sparticuzLikeBin();
const packed = writePack(bin, join(scratch, "pack"));

function expectUnpacked(dir: string): void {
  expect(readFileSync(join(dir, "chromium")).equals(BINARY)).toBe(true);
  expect(statSync(join(dir, "chromium")).mode & 0o111).toBe(0o111);
  expect(readFileSync(join(dir, "libGLESv2.so"), "utf8")).toBe("gles"); // beside the binary, where Chromium looks
  expect(readFileSync(join(dir, "al2023/lib/libnss3.so"), "utf8")).toBe("nss");
  expect(readFileSync(join(dir, "fonts/fonts/Open_Sans/a.ttf"), "utf8")).toBe("ttf");
  // fontconfig finds the fonts where they are, not in /tmp/fonts.
  const conf = readFileSync(join(dir, "fonts/fonts.conf"), "utf8");
  expect(conf).toContain(`<dir>${join(dir, "fonts")}</dir>`);
  expect(conf).not.toContain("/tmp/fonts");
  // Nothing else beside it: no partial folder left.
  expect(readdirSync(dirname(dir))).toEqual([basename(dir)]);
}

describe("the Chromium pack a function's asset carries (synth time)", () => {
  it("holds the binary in gzip parts at their offsets and the archives as gzip tars", async () => {
    const pack = await packed;
    expect(pack.id).toMatch(/^0\.0\.0-test-gz-[0-9a-f]{16}$/);
    expect(pack.binary.bytes).toBe(BINARY.length);
    expect(pack.binary.parts.length).toBe(4);
    let offset = 0;
    for (const part of pack.binary.parts) {
      expect(part.file).toMatch(/\.gz$/);
      expect(part.offset).toBe(offset);
      offset += part.bytes ?? 0;
    }
    expect(offset).toBe(BINARY.length);
    expect(pack.archives.map((a) => a.file)).toEqual(["swiftshader.tar.gz", "fonts.tar.gz", "al2023.tar.gz"]);
    expect(readPack(join(scratch, "pack"))).toEqual(pack);
  });

  it("is made once into the cache folder, then copied from it", async () => {
    const cache = join(scratch, "pack-cache");
    const first = await writePack(bin, join(scratch, "pack-a"), cache);
    const cached = join(cache, `chromium-pack-${first.id}`);
    const madeAt = statSync(join(cached, PACK_MANIFEST)).mtimeMs;
    const second = await writePack(bin, join(scratch, "pack-b"), cache);
    expect(second.id).toBe(first.id);
    expect(statSync(join(cached, PACK_MANIFEST)).mtimeMs).toBe(madeAt);
    expect(readdirSync(cache)).toEqual([basename(cached)]);
    expect(
      readFileSync(join(scratch, "pack-b", "chromium.0.gz")).equals(readFileSync(join(cached, "chromium.0.gz"))),
    ).toBe(true);
  });
});

describe("unpacking Chromium", () => {
  it("inflates a function's pack: the binary from its parts, the libraries beside it, the fonts and their fontconfig", async () => {
    const dir = fresh("gz");
    const unpacked = await unpackChromium(await packed, dir);
    expect(unpacked).toEqual({
      dir,
      executablePath: join(dir, "chromium"),
      fontconfigPath: join(dir, "fonts"),
      libraryPath: join(dir, "al2023/lib"),
      reused: false,
    });
    expectUnpacked(dir);
  });

  it("inflates @sparticuz/chromium's own brotli files the same way", async () => {
    const dir = fresh("br");
    await unpackChromium(sparticuzPack(bin), dir);
    expectUnpacked(dir);
  });

  it("reuses a complete folder without writing it again", async () => {
    const dir = fresh("reuse");
    const pack = await packed;
    await unpackChromium(pack, dir);
    const before = statSync(join(dir, "chromium"));
    expect((await unpackChromium(pack, dir)).reused).toBe(true);
    const after = statSync(join(dir, "chromium"));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it("inflates again when a file was cut short or removed since", async () => {
    const dir = fresh("damaged");
    const pack = await packed;
    await unpackChromium(pack, dir);
    truncateSync(join(dir, "chromium"), 1000);
    await unpackChromium(pack, dir);
    expectUnpacked(dir);
    rmSync(join(dir, "libGLESv2.so"));
    await unpackChromium(pack, dir);
    expectUnpacked(dir);
  });

  it("never takes a half-written folder: one without its stamp is redone, a killed process's partial one removed", async () => {
    const dir = fresh("killed");
    // What @sparticuz/chromium would take as inflated: the binary there, half of it.
    mkdirSync(dir);
    writeFileSync(join(dir, "chromium"), BINARY.subarray(0, 1000));
    // A process killed while inflating (its pid no longer runs).
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    mkdirSync(`${dir}.partial-${dead}-0123abcd`);
    writeFileSync(`${dir}.partial-${dead}-0123abcd/chromium`, BINARY.subarray(0, 5000));
    await unpackChromium(await packed, dir);
    expectUnpacked(dir);
  });

  it("concurrent callers share one inflation", async () => {
    const dir = fresh("concurrent");
    const pack = await packed;
    const calls = [unpackChromium(pack, dir), unpackChromium(pack, dir), unpackChromium(pack, dir)];
    expect(calls[1]).toBe(calls[0]);
    expect(calls[2]).toBe(calls[0]);
    await Promise.all(calls);
    expectUnpacked(dir);
  });

  it("two processes at once both get the one complete folder", async () => {
    const dir = fresh("processes");
    const script = join(scratch, "unpack-child.mts");
    writeFileSync(
      script,
      `import { readPack } from ${JSON.stringify(join(root, "functions/service/chromium-pack.ts"))};
import { unpackChromium } from ${JSON.stringify(join(root, "functions/service/chromium-unpack.ts"))};
const u = await unpackChromium(readPack(process.argv[2]), process.argv[3]);
process.stdout.write(u.executablePath);`,
    );
    const child = () =>
      new Promise<string>((resolve, reject) => {
        const run = spawn(process.execPath, ["--import", "tsx", script, join(scratch, "pack"), dir], { cwd: root });
        let out = "";
        run.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
        run.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
        run.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
      });
    expect(await Promise.all([child(), child()])).toEqual([join(dir, "chromium"), join(dir, "chromium")]);
    expectUnpacked(dir);
  }, 30_000);

  it("fails on a damaged pack and leaves nothing behind, then succeeds with a sound one", async () => {
    const pack = await packed;
    const broken = join(scratch, "broken-pack");
    cpSync(pack.dir, broken, { recursive: true });
    truncateSync(join(broken, "chromium.1.gz"), Math.floor(statSync(join(broken, "chromium.1.gz")).size / 2));
    const dir = fresh("broken");
    await expect(unpackChromium({ ...pack, dir: broken }, dir)).rejects.toThrow();
    expect(readdirSync(dirname(dir))).toEqual([]);
    copyFileSync(join(pack.dir, "chromium.1.gz"), join(broken, "chromium.1.gz"));
    await unpackChromium({ ...pack, dir: broken }, dir);
    expectUnpacked(dir);
  });
});

describe("tar extraction", () => {
  it("refuses links and paths that would leave the folder", async () => {
    const src = mkdtempSync(join(scratch, "links-"));
    symlinkSync("/etc/passwd", join(src, "link"));
    await expect(extractTar(execFileSync("tar", ["-cf", "-", "-C", src, "link"]), fresh("link"))).rejects.toThrow(
      /type "2"/,
    );
    const archive = tar({ abcd: "x" });
    archive.write("../x\0", 0, "latin1"); // the name field
    await expect(extractTar(archive, fresh("outside"))).rejects.toThrow(/outside the folder/);
  });
});

describe("where the service gets Chromium (chromiumLocator)", () => {
  /** A runtime root like a function's asset: the pack in REPORT_RENDER_ROOT/chromium-pack. */
  function assetRoot(): string {
    const runtime = mkdtempSync(join(scratch, "runtime-"));
    cpSync(join(scratch, "pack"), join(runtime, PACK_DIR), { recursive: true });
    return runtime;
  }

  it("a function's pack is inflated into the temp folder; on Amazon Linux its libraries come first", async () => {
    await packed;
    const onLambda = loadConfig({ AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", LD_LIBRARY_PATH: "/var/lang/lib" });
    const elsewhere = loadConfig({});
    const pack = readPack(join(scratch, "pack")) as ChromiumPack;
    const dir = join(tmpdir(), `report-render-chromium-${pack.id}`);
    try {
      const lambda = await chromiumLocator(withOverrides(onLambda, { runtimeRoot: assetRoot() }))();
      expect(lambda).toEqual({
        executablePath: join(dir, "chromium"),
        environment: {
          FONTCONFIG_PATH: join(dir, "fonts"),
          LD_LIBRARY_PATH: `${join(dir, "al2023/lib")}:/var/lang/lib`,
        },
      });
      const other = await chromiumLocator(withOverrides(elsewhere, { runtimeRoot: assetRoot() }))();
      expect(other.environment).toEqual({ FONTCONFIG_PATH: join(dir, "fonts") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("elsewhere, @sparticuz/chromium's own files are unpacked once into the project's node_modules/.cache", async () => {
    const located = await chromiumLocator(withOverrides(loadConfig({}), { runtimeRoot: root }))();
    expect(located.executablePath).toMatch(
      new RegExp(`^${join(root, "node_modules/.cache/report-render/chromium-")}[^/]+-br-[0-9a-f]+/chromium$`),
    );
    expect(existsSync(located.executablePath)).toBe(true);
  }, 60_000);

  it("Amazon Linux is told by Lambda's and CodeBuild's variables", () => {
    expect(loadConfig({}).amazonLinux).toBe(false);
    expect(loadConfig({ AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x" }).amazonLinux).toBe(true);
    expect(loadConfig({ AWS_EXECUTION_ENV: "AWS_Lambda_nodejs18.x" }).amazonLinux).toBe(false);
    expect(
      loadConfig({ CODEBUILD_BUILD_IMAGE: "aws/codebuild/amazonlinux-x86_64-standard:nodejs20" }).amazonLinux,
    ).toBe(true);
  });
});
