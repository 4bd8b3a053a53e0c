/**
 * Vitest's global setup: one folder in the temp folder for this run's test folders (temp-dir.ts),
 * removed when the run ends, whatever its tests' outcome and however its workers end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    tempRoot: string;
  }
}

export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), "report-render-tests-"));
  project.provide("tempRoot", root);
  return () => rmSync(root, { recursive: true, force: true });
}
