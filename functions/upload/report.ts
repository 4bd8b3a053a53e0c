import type { StepTimings } from "../core/types.ts";
import type { FailureBody } from "../failure.ts";
import { since } from "../log.ts";
import { renderedFields } from "../report-log.ts";
import { storedPdf, type StoredPdf } from "../stored-pdf.ts";
import type { ReportUpload } from "../storage/keys.ts";
import type { Source, UploadContext } from "./context.ts";
import { readInput, readJsonOutput } from "./read-input.ts";
import { renderInput } from "./render-input.ts";

/** `<path>.result.json`: what was rendered from which version of the upload. */
export interface ReportResultFile extends StoredPdf {
  source: Source;
  timings: StepTimings & { downloadMs: number; uploadMs: number };
}

/** `<path>.error.json`: the same error list the endpoint answers with. */
export interface ReportErrorFile extends FailureBody {
  source: Source;
}

/**
 * incoming/<path>.json → <path>.pdf + <path>.result.json, or <path>.error.json and no PDF.
 * Idempotent: a version of the upload (its ETag) already answered is not rendered again, and the
 * outputs' keys depend on the input's key alone, so a redelivery can never add objects.
 */
export async function processReport(ctx: UploadContext, target: ReportUpload): Promise<void> {
  const { config, storage } = ctx.service;
  const out = config.outputBucket;
  const started = performance.now();
  const input = await readInput(ctx, target.inputKey, config.maxBodyBytes);
  if (!input) return ctx.log.warn("upload.gone", { key: target.inputKey });
  const downloadMs = since(started);

  const [previousResult, previousError] = await Promise.all([
    readJsonOutput<ReportResultFile>(ctx, target.resultKey),
    readJsonOutput<ReportErrorFile>(ctx, target.errorKey),
  ]);
  const answered = [previousResult, previousError].find((p) => p?.source.eTag === input.source.eTag);
  if (answered) return ctx.log.info("upload.skipped", { key: target.inputKey, reason: "this version was already rendered" });

  const outcome = await renderInput(ctx, input);
  const log = ctx.log.child({ templateId: outcome.templateId });
  if (!outcome.ok) {
    // No PDF for an invalid input, including one left from an earlier, valid version of it.
    await Promise.all([storage.delete(out, target.pdfKey), storage.delete(out, target.resultKey)]);
    const file: ReportErrorFile = { source: input.source, ...outcome.failure.body };
    await storage.put(out, target.errorKey, JSON.stringify(file, null, 2), { contentType: "application/json" });
    return log.info("upload.refused", { key: target.inputKey, error: file.error, errors: file.errors.length });
  }

  const { result } = outcome;
  const uploadStarted = performance.now();
  await storage.put(out, target.pdfKey, result.pdf, { contentType: "application/pdf", downloadName: result.filename });
  const uploadMs = since(uploadStarted);
  const file: ReportResultFile = {
    source: input.source,
    ...storedPdf(target.pdfKey, result),
    timings: { ...result.timings, downloadMs, uploadMs },
  };
  // The result file is written last: its presence means the PDF beside it is complete.
  await storage.put(out, target.resultKey, JSON.stringify(file, null, 2), { contentType: "application/json" });
  if (previousError) await storage.delete(out, target.errorKey);
  log.info("upload.rendered", {
    key: target.inputKey,
    output: target.pdfKey,
    ...renderedFields(result, { downloadMs, uploadMs, totalMs: since(started) }),
  });
}
