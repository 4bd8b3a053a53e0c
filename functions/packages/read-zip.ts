import { FILES, isIgnored } from "./layout.ts";
import { defaultPackageLimits, type PackageLimits } from "./limits.ts";
import { Admission, type ReadResult } from "./package-files.ts";
import { PACKAGE } from "./problems.ts";
import { listZip, readEntry, ZipError, type ZipEntry } from "./zip-reader.ts";

/**
 * A zipped package's files (what `PUT /v1/templates/{id}` receives). Nothing is written to disk. The
 * archive's size, its number of entries, each entry's declared size and the declared total are all
 * checked before anything is inflated; see zip-reader.ts for what else is refused. A zip made by
 * zipping the package's folder (every file under one folder holding template.json) is read as if the
 * files were at the top.
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
  const prefix = wrappingFolder(entries);
  const admission = new Admission(limits);
  for (const entry of entries) {
    const inside = entry.name.startsWith(prefix) ? entry.name.slice(prefix.length) : entry.name;
    const name = entry.folder && !inside.endsWith("/") && inside !== "" ? `${inside}/` : inside;
    if (name === "") continue;
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

/** `folder/` when every entry is inside it and it holds template.json; "" otherwise. */
function wrappingFolder(entries: ZipEntry[]): string {
  const names = entries.map((e) => e.name).filter((n) => !isIgnored(n));
  if (names.includes(FILES.manifest)) return "";
  const first = names.find((n) => n.endsWith(`/${FILES.manifest}`) && n.split("/").length === 2);
  if (!first) return "";
  const prefix = first.slice(0, -FILES.manifest.length);
  return names.every((n) => n.startsWith(prefix) || n === prefix) ? prefix : "";
}
