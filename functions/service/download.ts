import type { Service } from "./service.ts";
import type { StoredPdf } from "./stored-pdf.ts";

/** How a stored PDF is answered for (POST /v1/render as JSON, a done job): where to fetch it, and what it is. */
export interface DownloadAnswer {
  key: string;
  /** A presigned GET URL, saved by browsers under `filename`. */
  url: string;
  /** When `url` stops working (ISO 8601). */
  expiresAt: string;
  filename: string;
  pages: number;
  bytes: number;
  sha256: string;
  warnings: StoredPdf["warnings"];
  /** The template it was rendered with, exactly (a published one as `id@version`). */
  template: string;
}

/**
 * The answer for a PDF in the output bucket, with a fresh presigned URL (valid for the configured
 * time). The fields and their order are what clients have always been sent (`template` added last).
 */
export async function downloadAnswer(service: Service, stored: StoredPdf): Promise<DownloadAnswer> {
  const { config, storage } = service;
  const url = await storage.presign(config.outputBucket, stored.key, {
    expiresIn: config.presignTtlSeconds,
    downloadName: stored.filename,
  });
  return {
    key: stored.key,
    url,
    expiresAt: new Date(Date.now() + config.presignTtlSeconds * 1000).toISOString(),
    filename: stored.filename,
    pages: stored.pages,
    bytes: stored.bytes,
    sha256: stored.sha256,
    warnings: stored.warnings,
    template: stored.template,
  };
}
