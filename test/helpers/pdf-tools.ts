import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether a command-line tool (qpdf, pdfinfo…) is installed here: checks with it run only where it is. */
export const hasTool = (tool: string): boolean => spawnSync(tool, ["--version"]).error === undefined;

/**
 * Runs a command-line tool on `pdf` (written to a temporary file, given last, removed after): its
 * output (stdout then stderr), its stdout alone, and its exit status.
 */
export function runTool(
  command: string,
  args: string[],
  pdf: Uint8Array,
): { out: string; stdout: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), "pdf-tool-"));
  try {
    const file = join(dir, "file.pdf");
    writeFileSync(file, pdf);
    const run = spawnSync(command, [...args, file], { encoding: "utf8", maxBuffer: 256 << 20 });
    return { out: `${run.stdout}${run.stderr}`, stdout: run.stdout, status: run.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
