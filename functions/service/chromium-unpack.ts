import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { brotliDecompress, createBrotliDecompress, createGunzip, gunzip } from "node:zlib";
import type { ChromiumPack, PackPart } from "./chromium-pack.ts";
import { extractTar } from "./tar.ts";

/** Where an unpacked Chromium's pieces are. */
export interface UnpackedChromium {
  dir: string;
  /** The binary; the SwiftShader libraries sit beside it, where Chromium looks for them. */
  executablePath: string;
  /** FONTCONFIG_PATH: the fonts.conf of the pack, naming this folder's fonts. */
  fontconfigPath: string;
  /** The Amazon Linux 2023 libraries (LD_LIBRARY_PATH on Lambda). */
  libraryPath: string;
  /** Found complete, not inflated now. */
  reused: boolean;
}

/** Written last into a folder before it is moved into place: the files it must hold, with their sizes. */
const STAMP = ".unpacked.json";

/** Inflations under way in this process, by target folder: concurrent callers share one. */
const running = new Map<string, Promise<UnpackedChromium>>();

/**
 * `pack` unpacked into `dir`: reused when `dir` is there and complete (every file its stamp lists, at
 * its size), inflated otherwise. It is inflated into a folder of its own beside `dir` and renamed into
 * place only when complete, so no process (this one, another sharing the folder, or a Lambda instance
 * after one was killed mid-inflation) ever starts a half-written binary; a folder found incomplete
 * (a file removed or cut short since) is cleared and inflated again. Two processes racing both
 * inflate, and the second keeps the first one's folder.
 */
export function unpackChromium(pack: ChromiumPack, dir: string): Promise<UnpackedChromium> {
  let unpacking = running.get(dir);
  if (!unpacking) {
    unpacking = ensure(pack, dir).finally(() => running.delete(dir));
    running.set(dir, unpacking);
  }
  return unpacking;
}

async function ensure(pack: ChromiumPack, dir: string): Promise<UnpackedChromium> {
  if (await isComplete(dir, pack.id)) return located(dir, true);
  // Only a folder that is there and incomplete is moved aside: one that was absent when looked at
  // may since be another process's, just renamed into place, with its Chromium starting from it.
  await removeLeftovers(dir, existsSync(dir));
  const partial = `${dir}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await mkdir(partial, { recursive: true });
    const files = await inflateInto(pack, partial, dir);
    await writeFile(join(partial, STAMP), JSON.stringify({ id: pack.id, files }));
    await rename(partial, dir).catch(async (e: NodeJS.ErrnoException) => {
      // Another process moved its own complete folder into place first.
      if ((e.code !== "ENOTEMPTY" && e.code !== "EEXIST") || !(await isComplete(dir, pack.id))) throw e;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return located(dir, false);
}

function located(dir: string, reused: boolean): UnpackedChromium {
  return {
    dir,
    executablePath: join(dir, "chromium"),
    fontconfigPath: join(dir, "fonts"),
    libraryPath: join(dir, "al2023", "lib"),
    reused,
  };
}

async function isComplete(dir: string, id: string): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(join(dir, STAMP), "utf8")) as {
      id?: unknown;
      files?: Record<string, number>;
    };
    if (stamp.id !== id || typeof stamp.files !== "object" || stamp.files === null) return false;
    const checks = Object.entries(stamp.files).map(async ([file, size]) => {
      const found = await stat(join(dir, file));
      return found.isFile() && found.size === size;
    });
    return (await Promise.all(checks)).every(Boolean);
  } catch {
    return false;
  }
}

/**
 * Clear what is in the way: `dir` itself when it was found there and incomplete (moved aside first, so no one sees it
 * half-deleted), and partial folders beside it whose process is gone (killed mid-inflation).
 */
async function removeLeftovers(dir: string, incomplete: boolean): Promise<void> {
  if (incomplete) {
    const aside = `${dir}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
    await rename(dir, aside).then(
      () => rm(aside, { recursive: true, force: true }),
      () => undefined,
    );
  }
  const prefix = `${basename(dir)}.`;
  const siblings = await readdir(dirname(dir)).catch(() => [] as string[]);
  for (const name of siblings) {
    const pid = /^(?:partial|stale)-(\d+)-/.exec(name.slice(prefix.length))?.[1];
    if (name.startsWith(prefix) && pid !== undefined && !alive(Number(pid))) {
      await rm(join(dirname(dir), name), { recursive: true, force: true });
    }
  }
}

/**
 * Whether the process that left a partial folder may still be writing it. Not this one: it inflates
 * a folder once at a time, so a partial bearing its pid is an earlier process's (a Lambda sandbox
 * restarted after an instance was killed may give the new one the same pid).
 */
function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Every file of `pack` inflated into `partial` (which becomes `dir`); returns them with their sizes. */
async function inflateInto(pack: ChromiumPack, partial: string, dir: string): Promise<Record<string, number>> {
  const binary = join(partial, "chromium");
  const archives = pack.archives.map(async ({ file, into }) => {
    const tar = await decompress(file, await readFile(join(pack.dir, file)));
    const extracted = await extractTar(tar, join(partial, into));
    return [...extracted].map(([path, size]) => [join(into, path), size] as const);
  });
  const inflating = inflateBinary(pack, binary);
  await allDone<unknown>([inflating, ...archives]);
  const files: Record<string, number> = Object.fromEntries((await Promise.all(archives)).flat());
  files.chromium = await inflating;
  const conf = join("fonts", "fonts.conf");
  if (files[conf] !== undefined) files[conf] = await pointAtFonts(join(partial, conf), join(dir, "fonts"));
  return files;
}

/** The binary's parts inflated side by side (zlib works on libuv's threads), each at its offset. */
async function inflateBinary(pack: ChromiumPack, binary: string): Promise<number> {
  const file = await open(binary, "w", 0o755);
  try {
    if (pack.binary.bytes !== undefined) await file.truncate(pack.binary.bytes);
  } finally {
    await file.close();
  }
  await allDone(pack.binary.parts.map((part) => inflatePart(pack.dir, part, binary)));
  const { size } = await stat(binary);
  if (pack.binary.bytes !== undefined && size !== pack.binary.bytes) {
    throw new Error(`Chromium inflated to ${size} bytes, not ${pack.binary.bytes}`);
  }
  return size;
}

async function inflatePart(packDir: string, part: PackPart, binary: string): Promise<void> {
  const output = createWriteStream(binary, { flags: "r+", start: part.offset });
  await pipeline(
    createReadStream(join(packDir, part.file), { highWaterMark: 4 * MiB }),
    decompressor(part.file),
    output,
  );
  if (part.bytes !== undefined && output.bytesWritten !== part.bytes) {
    throw new Error(`${part.file} inflated to ${output.bytesWritten} bytes, not ${part.bytes}`);
  }
}

/** Waits for every job; throws the first failure only once none is still writing into the folder. */
async function allDone<T>(jobs: Promise<T>[]): Promise<void> {
  const failed = (await Promise.allSettled(jobs)).find((job) => job.status === "rejected");
  if (failed) throw failed.reason;
}

const MiB = 1024 * 1024;

function decompressor(file: string): NodeJS.ReadWriteStream {
  if (file.endsWith(".br")) return createBrotliDecompress({ chunkSize: 2 * MiB });
  if (file.endsWith(".gz")) return createGunzip({ chunkSize: 2 * MiB });
  throw new Error(`${file}: not .br or .gz`);
}

/** In large chunks: zlib's default (16 KiB) makes a round trip to its thread for each, three times as slow. */
function decompress(file: string, data: Buffer): Promise<Buffer> {
  if (file.endsWith(".br")) return promisify(brotliDecompress)(data, { chunkSize: 2 * MiB });
  if (file.endsWith(".gz")) return promisify(gunzip)(data, { chunkSize: 2 * MiB });
  throw new Error(`${file}: not .br or .gz`);
}

/**
 * The pack's fonts.conf names /tmp/fonts, where @sparticuz/chromium inflates its fonts on Lambda;
 * here they are in `fonts`, wherever this folder is, so the same fonts are found on every machine.
 * Returns the file's new size.
 */
async function pointAtFonts(conf: string, fonts: string): Promise<number> {
  const text = await readFile(conf, "utf8");
  const ours = `<dir>${fonts.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")}</dir>`;
  const pointed = text.includes("<dir>/tmp/fonts</dir>")
    ? text.replace("<dir>/tmp/fonts</dir>", ours)
    : text.replace("</fontconfig>", `  ${ours}\n</fontconfig>`);
  await writeFile(conf, pointed);
  return Buffer.byteLength(pointed);
}
