import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";

/** A new folder (`prefix` + random) in this test run's temp folder, removed when the run ends (temp-root.ts). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(inject("tempRoot"), prefix));
}
