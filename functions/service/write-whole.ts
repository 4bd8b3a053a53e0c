import { randomBytes } from "node:crypto";
import { realpath, rename, rm, stat, writeFile } from "node:fs/promises";

/**
 * Writes `data` to `path` whole or not at all: into a file beside it, then renamed over it. Another
 * process never reads half a file, and a run stopped mid-write (Ctrl-C) leaves at most that
 * `.partial` file, never a cut-off one under the real name. Through a symbolic link it writes the
 * file linked to (the link stays); a path that is not a regular file (/dev/stdout, a pipe) is
 * written directly. `mode`: the new file's permissions (e.g. 0o600 for a key).
 */
export async function writeWhole(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isFile()) return writeFile(target, data, { mode });
  const partial = `${target}.${randomBytes(4).toString("hex")}.partial`;
  try {
    await writeFile(partial, data, { mode });
    await rename(partial, target);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}
