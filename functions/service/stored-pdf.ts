import type { Issue, RenderResult } from "../core/types.ts";
import { since } from "./log.ts";
import type { Service } from "./service.ts";

/** What the service records about a PDF it stored: the same fields in result files, job states and batch summaries. */
export interface StoredPdf {
  key: string;
  filename: string;
  pages: number;
  bytes: number;
  sha256: string;
  warnings: Issue[];
  /** The template it was rendered with, exactly (a published one as `id@version`). */
  template: string;
}

/**
 * Store a rendered PDF at `key` in the output bucket, as every door does: `application/pdf`, saved by
 * browsers under the report's file name. Returns what to record about it, and how long the put took.
 */
export async function storePdf(
  service: Service,
  key: string,
  result: RenderResult,
): Promise<{ stored: StoredPdf; uploadMs: number }> {
  const started = performance.now();
  await service.storage.put(service.config.outputBucket, key, result.pdf, {
    contentType: "application/pdf",
    downloadName: result.filename,
  });
  const uploadMs = since(started);
  service.metrics.step("storage", uploadMs);
  const { filename, pages, bytes, sha256, warnings, template } = result;
  return { stored: { key, filename, pages, bytes, sha256, warnings, template }, uploadMs };
}
