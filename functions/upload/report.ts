import type { StepTimings } from "../core/types.ts";
import type { FailureBody } from "../service/failure.ts";
import { since } from "../service/log.ts";
import { renderedFields } from "../service/report-log.ts";
import { type StoredPdf, storePdf } from "../service/stored-pdf.ts";
import type { ReportUpload } from "../service/storage/keys.ts";
import type { Source, UploadContext } from "./context.ts";
import { processLatest, type Round } from "./latest.ts";
import { readJsonOutput } from "./read-input.ts";
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
 * outputs' keys depend on the input's key alone, so a redelivery can never add objects. The latest
 * version wins (processLatest), and the last attempt always leaves an answer.
 */
export async function processReport(ctx: UploadContext, target: ReportUpload): Promise<void> {
  await processLatest(ctx, target.inputKey, {
    maxBytes: ctx.service.config.maxBodyBytes,
    round: (round) => reportRound(ctx, target, round),
    answer: (failure, source) => writeErrorFile(ctx, target, { source, ...failure.body }),
  });
}

async function reportRound(ctx: UploadContext, target: ReportUpload, round: Round): Promise<void> {
  const { config, storage } = ctx.service;
  const out = config.outputBucket;
  const { input, downloadMs } = round;

  const [previousResult, previousError] = await Promise.all([
    readJsonOutput<ReportResultFile>(ctx, target.resultKey),
    readJsonOutput<ReportErrorFile>(ctx, target.errorKey),
  ]);
  // A fault of ours ("internal", written on a last attempt) is no answer: the same file uploaded
  // again is rendered again, as that error's message invites.
  const answered =
    previousResult?.source.eTag === input.source.eTag ||
    (previousError?.source.eTag === input.source.eTag && previousError.error !== "internal");
  if (answered && !round.redo) {
    return ctx.log.info("upload.skipped", { key: target.inputKey, reason: "this version was already rendered" });
  }

  const outcome = await renderInput(ctx, input);
  const log = ctx.log.child({ templateId: outcome.templateId });
  await round.beforeWrite();
  if (!outcome.ok) {
    const file: ReportErrorFile = { source: input.source, ...outcome.failure.body };
    await writeErrorFile(ctx, target, file);
    return log.info("upload.refused", { key: target.inputKey, error: file.error, errors: file.errors.length });
  }

  const { result } = outcome;
  // An error file of an earlier version goes first: the result file, written last, is the answer.
  await storage.delete(out, target.errorKey);
  const { stored, uploadMs } = await storePdf(ctx.service, target.pdfKey, result);
  const file: ReportResultFile = {
    source: input.source,
    ...stored,
    timings: { ...result.timings, downloadMs, uploadMs },
  };
  // Its presence means the PDF beside it is complete.
  await storage.put(out, target.resultKey, JSON.stringify(file, null, 2), { contentType: "application/json" });
  log.info("upload.rendered", {
    key: target.inputKey,
    output: target.pdfKey,
    ...renderedFields(result, { downloadMs, uploadMs, totalMs: since(round.started) }),
  });
}

/** No PDF beside an error file, including one left from an earlier, valid version; the error file last. */
async function writeErrorFile(ctx: UploadContext, target: ReportUpload, file: ReportErrorFile): Promise<void> {
  const { config, storage } = ctx.service;
  const out = config.outputBucket;
  await Promise.all([storage.delete(out, target.pdfKey), storage.delete(out, target.resultKey)]);
  await storage.put(out, target.errorKey, JSON.stringify(file, null, 2), { contentType: "application/json" });
}
