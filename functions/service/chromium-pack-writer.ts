/**
 * `cdk synth` (infra/constructs/render-function.ts, after bundling): @sparticuz/chromium's bin/
 * recompressed into the pack a render function's asset carries, which inflates four times as fast.
 * Brotli (what the package ships) inflates its 188 MiB binary in ~1.8 s on one core; gzip in ~0.55 s,
 * and its four parts side by side in ~0.35 s on two cores (zstd would save ~0.05 s more, but Node 20's
 * zlib can neither make nor read it). Made once per package version and kept in a cache folder.
 *
 *   tsx functions/service/chromium-pack-writer.ts <bin folder> <pack folder> [<cache folder>]
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, realpathSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { brotliDecompress, constants, gzip } from "node:zlib";
import { type ChromiumPack, PACK_MANIFEST, readPack, SPARTICUZ_FILES } from "./chromium-pack.ts";

/** Parts of the binary: libuv inflates up to four at once (its default thread pool). */
const PARTS = 4;
/** Bumped when the pack's layout changes, so a cached pack of the old layout is not reused. */
const FORMAT = 1;

/** The pack of `binDir` written into `outDir`, from `cacheDir` when it was made there before. */
export async function writePack(binDir: string, outDir: string, cacheDir?: string): Promise<ChromiumPack> {
  const id = await packId(binDir);
  let from = outDir;
  if (cacheDir) {
    from = join(cacheDir, `chromium-pack-${id}`);
    if (readPack(from)?.id !== id) await makeAtomically(binDir, from, id);
  } else {
    await make(binDir, outDir, id);
  }
  const pack = readPack(from);
  if (!pack) throw new Error(`no pack in ${from}`);
  if (from !== outDir) {
    await mkdir(outDir, { recursive: true });
    const files = [...pack.binary.parts.map((p) => p.file), ...pack.archives.map((a) => a.file), PACK_MANIFEST];
    for (const file of files) await copyFile(join(from, file), join(outDir, file));
  }
  return { ...pack, dir: outDir };
}

/** The package's version, the format and a digest of the files it is made from. */
async function packId(binDir: string): Promise<string> {
  const { version } = JSON.parse(await readFile(join(binDir, "..", "package.json"), "utf8")) as { version: string };
  const hash = createHash("sha256").update(`format ${FORMAT}, ${PARTS} parts\n`);
  for (const file of [SPARTICUZ_FILES.binary, ...SPARTICUZ_FILES.archives.map((a) => a.file)]) {
    for await (const chunk of createReadStream(join(binDir, file))) hash.update(chunk as Buffer);
  }
  return `${version}-gz-${hash.digest("hex").slice(0, 16)}`;
}

/** Made beside `dir` and renamed into place, so a synth running meanwhile never copies half a pack. */
async function makeAtomically(binDir: string, dir: string, id: string): Promise<void> {
  const partial = `${dir}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await make(binDir, partial, id);
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir).catch((e: NodeJS.ErrnoException) => {
      if (readPack(dir)?.id !== id) throw e; // else another synth put the same pack there first
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

async function make(binDir: string, dir: string, id: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Large chunks: zlib's default (16 KiB) makes a round trip to its thread for each.
  const chunkSize = 4 * 1024 * 1024;
  const inflate = async (file: string) =>
    promisify(brotliDecompress)(await readFile(join(binDir, file)), { chunkSize });
  const deflate = promisify(gzip);
  const level = { level: constants.Z_DEFAULT_COMPRESSION, chunkSize };

  const binary = await inflate(SPARTICUZ_FILES.binary);
  const size = Math.ceil(binary.length / PARTS);
  const parts = await Promise.all(
    Array.from({ length: PARTS }, async (_, i) => {
      const slice = binary.subarray(i * size, (i + 1) * size);
      const file = `chromium.${i}.gz`;
      await writeFile(join(dir, file), await deflate(slice, level));
      return { file, offset: i * size, bytes: slice.length };
    }),
  );
  const archives = await Promise.all(
    SPARTICUZ_FILES.archives.map(async ({ file, into }) => {
      const gz = file.replace(/\.br$/, ".gz");
      await writeFile(join(dir, gz), await deflate(await inflate(file), level));
      return { file: gz, into };
    }),
  );
  const manifest: Omit<ChromiumPack, "dir"> = { id, binary: { bytes: binary.length, parts }, archives };
  // Written last: a folder with a manifest is a complete pack.
  await writeFile(join(dir, PACK_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
}

// Run as a script by the bundling; argv[1] may be reached through a symlink.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [binDir, outDir, cacheDir] = process.argv.slice(2);
  if (!binDir || !outDir) throw new Error("usage: chromium-pack-writer.ts <bin folder> <pack folder> [<cache folder>]");
  const started = performance.now();
  const pack = await writePack(binDir, outDir, cacheDir);
  process.stdout.write(`chromium pack ${pack.id}: ${Math.round(performance.now() - started)} ms\n`);
}
