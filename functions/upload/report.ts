import { since } from "../service/log.ts";
import { renderedFields } from "../service/report-log.ts";
import type { CallbackRecord } from "../service/callbacks/record.ts";
import { storePdf } from "../service/stored-pdf.ts";
import type { ReportUpload } from "../service/storage/keys.ts";
import { sendReportCallback } from "./callback.ts";
import type { UploadContext } from "./context.ts";
import { processLatest, type Round } from "./latest.ts";
import { readJsonOutput } from "./read-input.ts";
import { renderInput } from "./render-input.ts";
import type { ReportErrorFile, ReportResultFile } from "./report-files.ts";
import { takeUploadCallback } from "./upload-callback.ts";

/**
 * incoming/<path>.json → <path>.pdf + <path>.result.json, or <path>.error.json and no PDF.
 * Idempotent: a version of the upload (its ETag) already answered is not rendered again, and the
 * outputs' keys depend on the input's key alone, so a redelivery can never add objects. The latest
 * version wins (processLatest), and the last attempt always leaves an answer. Then, the answer
 * written, its callback (options.callback), if it has one still to send.
 */
export async function processReport(ctx: UploadContext, target: ReportUpload): Promise<void> {
  // The callback of the version last read, for the answer of a last attempt that failed.
  const asked: Asked = {};
  await processLatest(ctx, target.inputKey, {
    maxBytes: ctx.service.config.maxBodyBytes,
    round: (round) => reportRound(ctx, target, round, asked),
    answer: (failure, source) => {
      const callback = asked.eTag === source.eTag ? asked.callback : undefined;
      return writeErrorFile(ctx, target, { source, ...failure.body, ...(callback ? { callback } : {}) });
    },
  });
  await sendReportCallback(ctx, target);
}

interface Asked {
  eTag?: string;
  callback?: CallbackRecord;
}

async function reportRound(ctx: UploadContext, target: ReportUpload, round: Round, asked: Asked): Promise<void> {
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

  // The callback is taken out of the envelope before the core sees it, and checked now.
  const taken = await takeUploadCallback(input, ctx.service.config.callback);
  if ("refused" in taken) {
    await round.beforeWrite();
    const file: ReportErrorFile = { source: input.source, ...taken.refused.body };
    await writeErrorFile(ctx, target, file);
    return ctx.log.info("upload.refused", { key: target.inputKey, error: file.error, errors: file.errors.length });
  }
  const callback = taken.callback ? { callback: taken.callback } : {};
  asked.eTag = input.source.eTag;
  asked.callback = taken.callback;

  const outcome = await renderInput(ctx, taken.input);
  const log = ctx.log.child({ templateId: outcome.templateId });
  await round.beforeWrite();
  if (!outcome.ok) {
    const file: ReportErrorFile = { source: input.source, ...outcome.failure.body, ...callback };
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
    ...callback,
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
