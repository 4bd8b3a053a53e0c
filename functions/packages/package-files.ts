import { isIgnored, isKnownFile, isKnownFolder, LAYOUT_MESSAGE, unsafeName } from "./layout.ts";
import type { PackageLimits } from "./limits.ts";
import { PACKAGE, type PackageProblem } from "./problems.ts";

/** What reading a folder or a zip gives: the files it could read, and what was wrong. */
export interface ReadResult {
  files: Map<string, Uint8Array>;
  problems: PackageProblem[];
}

/**
 * Decides, before any byte of a file is read or inflated, whether it is read at all: its name is
 * safe, in the layout and not seen before, and it keeps within the limits on file count, file size
 * and total size. Shared by the folder and the zip readers so both refuse alike.
 */
export class Admission {
  readonly problems: PackageProblem[] = [];
  private readonly seen = new Set<string>();
  private files = 0;
  private total = 0;
  private full = false;

  constructor(private readonly limits: PackageLimits) {}

  /** "read" the file, "skip" it silently (a folder, an ignored file), or "refuse" it (a problem was added). */
  admit(name: string, size: number, kind: "file" | "folder" = "file"): "read" | "skip" | "refuse" {
    const unsafe = unsafeName(name);
    if (unsafe) return this.refuse(name, "path-unsafe", `refused: ${unsafe}`);
    const folded = name.toLowerCase();
    if (this.seen.has(folded)) {
      return this.refuse(name, "path-duplicate", "appears twice in the package (names are compared ignoring case)");
    }
    this.seen.add(folded);
    if (isIgnored(name)) return "skip";
    if (kind === "folder") return isKnownFolder(name) ? "skip" : this.refuse(name, "path-layout", LAYOUT_MESSAGE);
    if (!isKnownFile(name)) return this.refuse(name, "path-layout", LAYOUT_MESSAGE);
    this.files++;
    if (this.files > this.limits.maxFiles) {
      if (!this.full) {
        this.full = true;
        this.problems.push({
          file: PACKAGE,
          rule: "too-many-files",
          message: `the package has more than ${this.limits.maxFiles} files; the limit is ${this.limits.maxFiles}`,
        });
      }
      return "refuse";
    }
    if (size > this.limits.maxFileBytes) {
      return this.refuse(
        name,
        "file-too-large",
        `is ${size} bytes; a file may have at most ${this.limits.maxFileBytes} bytes`,
      );
    }
    this.total += size;
    if (this.total > this.limits.maxTotalBytes) {
      return this.refuse(
        name,
        "package-too-large",
        `brings the package to more than ${this.limits.maxTotalBytes} bytes uncompressed, the limit`,
      );
    }
    return "read";
  }

  refuse(file: string, rule: string, message: string): "refuse" {
    this.problems.push({ file, rule, message });
    return "refuse";
  }
}
