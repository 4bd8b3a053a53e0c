import type { Issue, RenderResult } from "./core/types.ts";

/** What the service records about a PDF it stored: the same fields in result files, job states and batch summaries. */
export interface StoredPdf {
  key: string;
  filename: string;
  pages: number;
  bytes: number;
  sha256: string;
  warnings: Issue[];
}

export function storedPdf(key: string, result: RenderResult): StoredPdf {
  const { filename, pages, bytes, sha256, warnings } = result;
  return { key, filename, pages, bytes, sha256, warnings };
}
