import { FILES, isIgnored, unsafeName } from "./layout.ts";
import { defaultPackageLimits, type PackageLimits } from "./limits.ts";
import { Admission, type ReadResult } from "./package-files.ts";
import { MAX_QUOTED, PACKAGE, printable, shorten } from "./problems.ts";
import { listZip, readEntry, ZipError, type ZipEntry } from "./zip-reader.ts";

/**
 * A zipped package's files (what `PUT /v1/templates/{id}` receives). Nothing is written to disk. The
 * archive's size, its number of entries, each entry's declared size and the declared total are all
 * checked before anything is inflated; see zip-reader.ts for what else is refused. A zip made by
 * zipping the package's folder (every file under one folder holding template.json) is read as if the
 * files were at the top; that folder's name must be as safe as any other.
 */
export function readPackageZip(zip: Uint8Array, limits: PackageLimits = defaultPackageLimits): ReadResult {
  const files = new Map<string, Uint8Array>();
  if (zip.byteLength > limits.maxZipBytes) {
    const message = `the zip is ${zip.byteLength} bytes; the limit is ${limits.maxZipBytes} bytes`;
    return { files, problems: [{ file: PACKAGE, rule: "zip-too-large", message }] };
  }
  let entries: ZipEntry[];
  try {
    // Folders and ignored files are entries too: room for them, but not without bound.
    entries = listZip(zip, limits.maxFiles * 4 + 64);
  } catch (e) {
    if (!(e instanceof ZipError)) throw e;
    return { files, problems: [{ file: PACKAGE, rule: "zip-invalid", message: e.message }] };
  }
  const names = entries.map(entryName);
  const prefix = wrappingFolder(names);
  // The folder's name is dropped, not read: it is checked here, as any name is, or it would carry
  // an absolute path, a drive letter or a control character past every check.
  const unsafeFolder = prefix === "" ? undefined : unsafeName(prefix);
  if (unsafeFolder) {
    const message = `every file is in the folder "${printable(shorten(prefix, MAX_QUOTED))}", refused: ${unsafeFolder}`;
    return { files, problems: [{ file: PACKAGE, rule: "path-unsafe", message }] };
  }
  const admission = new Admission(limits);
  for (const [i, entry] of entries.entries()) {
    const full = names[i] as string;
    if (prefix !== "" && full === prefix) continue; // the wrapping folder's own entry
    // Ignored entries (__MACOSX/…) may lie outside the folder: they keep their names.
    const name = full.startsWith(prefix) ? full.slice(prefix.length) : full;
    if (entry.symlink) {
      admission.refuse(name, "symlink", "is a symbolic link: a package holds only regular files");
      continue;
    }
    if (admission.admit(name, entry.size, entry.folder ? "folder" : "file") !== "read") continue;
    try {
      files.set(name, readEntry(zip, entry));
    } catch (e) {
      if (!(e instanceof ZipError)) throw e;
      admission.refuse(name, "zip-entry", e.message);
    }
  }
  return { files, problems: admission.problems };
}

/** The entry's name, a folder's ending in `/` (a Unix folder entry may be stored without one). */
function entryName(entry: ZipEntry): string {
  return entry.folder && !entry.name.endsWith("/") ? `${entry.name}/` : entry.name;
}

/** `folder/` when every name is inside it and it holds template.json; "" otherwise. */
function wrappingFolder(entryNames: string[]): string {
  const names = entryNames.filter((n) => !isIgnored(n));
  if (names.includes(FILES.manifest)) return "";
  const first = names.find((n) => n.endsWith(`/${FILES.manifest}`) && n.split("/").length === 2);
  if (!first) return "";
  const prefix = first.slice(0, -FILES.manifest.length);
  return names.every((n) => n.startsWith(prefix)) ? prefix : "";
}
