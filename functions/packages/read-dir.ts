import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Admission, type ReadResult } from "./package-files.ts";
import { isIgnored } from "./layout.ts";
import { defaultPackageLimits, type PackageLimits } from "./limits.ts";

/** Folders deeper than this are outside the layout anyway: their files are listed as such, not read. */
const MAX_DEPTH = 4;

/**
 * A package folder's files (`report-render template check DIR`). Symbolic links and special files
 * are refused, not followed; sizes are taken from the file system before a file is read, so a huge
 * file is refused without reading it. A folder that cannot be read at all throws (ENOENT…).
 */
export async function readPackageDir(dir: string, limits: PackageLimits = defaultPackageLimits): Promise<ReadResult> {
  const admission = new Admission(limits);
  const files = new Map<string, Uint8Array>();
  await lstat(dir); // a missing folder is an error of the command, not a problem of a package

  const walk = async (folder: string, prefix: string, depth: number): Promise<void> => {
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const name = `${prefix}${entry.name}`;
      const path = join(folder, entry.name);
      if (entry.isSymbolicLink()) {
        admission.refuse(name, "symlink", "is a symbolic link: a package holds only regular files");
      } else if (entry.isDirectory()) {
        if (isIgnored(name)) continue;
        if (depth >= MAX_DEPTH || admission.admit(`${name}/`, 0, "folder") === "refuse") continue;
        await walk(path, `${name}/`, depth + 1);
      } else if (!entry.isFile()) {
        admission.refuse(name, "special-file", "is not a regular file");
      } else {
        const { size } = await lstat(path);
        if (admission.admit(name, size) === "read") files.set(name, new Uint8Array(await readFile(path)));
      }
    }
  };
  await walk(dir, "", 0);
  return { files, problems: admission.problems };
}
