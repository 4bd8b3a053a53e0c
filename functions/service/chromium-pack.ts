import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Chromium as it is shipped, before it is unpacked: a compressed binary (in one or more parts, each
 * inflated at its offset, so they inflate side by side on several cores) and tar archives (the
 * SwiftShader libraries beside the binary, the fontconfig and its fonts, the Amazon Linux 2023
 * libraries). Two kinds: @sparticuz/chromium's own bin/ folder (brotli, the binary in one part), and
 * the pack a render function's asset carries (gzip, the binary in parts: chromium-pack-writer.ts).
 */
export interface ChromiumPack {
  /** Names the folder it unpacks into: the package's version and a digest of its files. */
  id: string;
  /** The folder holding its files. */
  dir: string;
  binary: { bytes?: number; parts: PackPart[] };
  /** Each extracted into `into`, relative to the unpacked folder. */
  archives: { file: string; into: string }[];
}

export interface PackPart {
  file: string;
  /** Where its inflated bytes go in the binary. */
  offset: number;
  /** Its inflated length, when known (checked as it is written). */
  bytes?: number;
}

/** The pack's folder in a render function's runtime files (REPORT_RENDER_ROOT), and its manifest. */
export const PACK_DIR = "chromium-pack";
export const PACK_MANIFEST = "pack.json";

/** What @sparticuz/chromium's executablePath() inflates from its bin/ folder, and where into. */
export const SPARTICUZ_FILES = {
  binary: "chromium.br",
  archives: [
    { file: "swiftshader.tar.br", into: "." },
    { file: "fonts.tar.br", into: "fonts" },
    { file: "al2023.tar.br", into: "al2023" },
  ],
} as const;

/** The pack in `dir` (its pack.json), or undefined when `dir` holds none. */
export function readPack(dir: string): ChromiumPack | undefined {
  const manifest = join(dir, PACK_MANIFEST);
  if (!existsSync(manifest)) return undefined;
  const pack = JSON.parse(readFileSync(manifest, "utf8")) as Omit<ChromiumPack, "dir">;
  if (typeof pack.id !== "string" || !Array.isArray(pack.binary?.parts) || !Array.isArray(pack.archives)) {
    throw new Error(`${manifest} is not a Chromium pack's manifest`);
  }
  return { ...pack, dir };
}

/**
 * @sparticuz/chromium's bin/ folder as a pack. Its id comes from the package's version and the files'
 * sizes (no hashing of 65 MB at every start): a new version or a changed file unpacks anew.
 */
export function sparticuzPack(binDir: string): ChromiumPack {
  const { version } = JSON.parse(readFileSync(join(binDir, "..", "package.json"), "utf8")) as { version: string };
  const files = [SPARTICUZ_FILES.binary, ...SPARTICUZ_FILES.archives.map((a) => a.file)];
  const sizes = files.map((file) => `${file}:${statSync(join(binDir, file)).size}`).join(",");
  return {
    id: `${version}-br-${createHash("sha256").update(sizes).digest("hex").slice(0, 12)}`,
    dir: binDir,
    binary: { parts: [{ file: SPARTICUZ_FILES.binary, offset: 0 }] },
    archives: SPARTICUZ_FILES.archives.map((archive) => ({ ...archive })),
  };
}
