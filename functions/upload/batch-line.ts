import { internalFailure } from "../service/failure.ts";
import { storePdf } from "../service/stored-pdf.ts";
import { type BatchUpload, batchLinePdfKey, classifyInputKey } from "../service/storage/keys.ts";
import { finishIfComplete } from "./batch-finish.ts";
import { claimLineResult, type CurrentRun, isCurrent, readLineResult, readRun } from "./batch-run.ts";
import { rewriteIfSuperseded } from "./batch-rewrite.ts";
import type { LineRange } from "./batch-split.ts";
import type { BatchItem } from "./batch-summary.ts";
import type { BatchContext } from "./context.ts";
import type { LineTask } from "./line-task.ts";
import { renderInput } from "./render-input.ts";

/**
 * A line task: line n of a run → batches/<batch>/<n>.pdf and the line's outcome in the run; then,
 * if every line of the run has one, the summary (batch-finish.ts).
 *
 * - Only the batch's current run does anything: a task of another run (a newer version or a redo
 *   has replaced it) or of a line the run does not render is dropped.
 * - The line is read by its byte range, from the version the run was split from only (the read
 *   tells its ETag): after a newer upload the task stands down.
 * - Delivered twice, a line renders at most twice and has one outcome: the first written stands (a
 *   conditional put). A PDF is only ever written before its outcome, so "done" has its PDF there.
 * - The last attempt always answers: whatever failed, the line's outcome is written as an
 *   `internal` failure, so the run still finishes and its summary appears.
 */
export async function processLineTask(ctx: BatchContext, task: LineTask): Promise<void> {
  const target = classifyInputKey(task.key);
  if (target.kind !== "batch") {
    const why = target.kind === "ignored" ? target.reason : `a ${target.kind}, not a batch`;
    return ctx.log.warn("upload.ignored", { reason: `a line task for ${why}` });
  }
  try {
    await runLine(ctx, target, task);
  } catch (e) {
    // A rewrite has no outcome to write: it goes to the dead-letter queue, where someone looks.
    if (!ctx.lastAttempt || task.rewrite) throw e;
    await answerLine(ctx, target, task, e);
  }
}

async function runLine(ctx: BatchContext, target: BatchUpload, task: LineTask): Promise<void> {
  // Read together: a line task is mostly these small requests and its render.
  const [current, written] = await Promise.all([
    readRun(ctx, target),
    readLineResult(ctx, target, task.runId, task.line),
  ]);
  if (current?.run.runId !== task.runId || current.run.source.eTag !== task.eTag) {
    return ctx.log.info("upload.line_stale", { reason: current ? "not the batch's current run" : "no run" });
  }
  const range = current.run.tasks.find((t) => t.line === task.line);
  if (!range && !task.rewrite) return ctx.log.warn("upload.ignored", { reason: "not a line this run renders" });
  const outcome = range && written;
  if (task.rewrite) await rewriteLine(ctx, target, current, task.line, range, outcome);
  else if (range && !outcome) await renderLine(ctx, target, current, range);
  await finishIfComplete(ctx, target, current);
}

/**
 * Render the line and write its outcome (first the PDF, if it rendered). A duplicate's outcome
 * written first stands: if it is not "done", the PDF written here is removed again.
 */
async function renderLine(ctx: BatchContext, target: BatchUpload, current: CurrentRun, range: LineRange) {
  const rendered = await renderRange(ctx, target, current, range);
  if (rendered === undefined) return;
  const { item, wrotePdf } = rendered;
  const standing = await claimLineResult(ctx, target, current.run.runId, item);
  if (wrotePdf && standing.status !== "done") await deletePdf(ctx, target, range.line);
  if (wrotePdf) await rewriteIfSuperseded(ctx, target, current, [range.line]);
}

/**
 * Make the PDF of `line` what `current` says again, after an older run's writer may have changed it:
 * rendered again if its outcome is "done" (identical input renders identical bytes), rendered as on
 * a first delivery if it has no outcome yet, removed otherwise.
 */
async function rewriteLine(
  ctx: BatchContext,
  target: BatchUpload,
  current: CurrentRun,
  line: number,
  range: LineRange | undefined,
  outcome: BatchItem | undefined,
): Promise<void> {
  if (range && !outcome) return renderLine(ctx, target, current, range);
  if (range && outcome?.status === "done") {
    const rendered = await renderRange(ctx, target, current, range);
    if (!rendered) return;
    if (!rendered.wrotePdf) throw new Error(`line ${line} rendered before but failed now`);
  } else {
    if (!(await isCurrent(ctx, target, current))) return;
    await deletePdf(ctx, target, line);
  }
  await rewriteIfSuperseded(ctx, target, current, [line]);
}

/**
 * The line read from the run's input version and rendered; its PDF stored if it rendered and the run
 * is still the batch's current one. Undefined if the run was superseded before anything was written.
 */
async function renderRange(
  ctx: BatchContext,
  target: BatchUpload,
  current: CurrentRun,
  { line, start, end }: LineRange,
): Promise<{ item: BatchItem; wrotePdf: boolean } | undefined> {
  const { run } = current;
  const read = await ctx.service.storage.getRange(run.source.bucket, run.source.key, start, end);
  if (read?.eTag !== run.source.eTag) {
    ctx.log.info("upload.superseded", { key: target.inputKey, eTag: run.source.eTag, latestETag: read?.eTag, line });
    return undefined;
  }
  const outcome = await renderInput(ctx, { text: read.body.toString("utf8") });
  if (!outcome.ok) return { item: { line, status: "failed", ...outcome.failure.body }, wrotePdf: false };

  const { result } = outcome;
  if (!(await isCurrent(ctx, target, current))) {
    ctx.log.info("upload.line_stale", { reason: "a newer run took over while the line rendered" });
    return undefined;
  }
  const { stored, uploadMs } = await storePdf(ctx.service, batchLinePdfKey(target.batch, line), result);
  ctx.log.debug("upload.line_rendered", {
    key: target.inputKey,
    line,
    templateId: outcome.templateId,
    pages: result.pages,
    bytes: result.bytes,
    durations: { ...result.timings, uploadMs },
  });
  return { item: { line, status: "done", ...stored }, wrotePdf: true };
}

async function deletePdf(ctx: BatchContext, target: BatchUpload, line: number): Promise<void> {
  const { config, storage } = ctx.service;
  await storage.delete(config.outputBucket, batchLinePdfKey(target.batch, line));
}

/** The last attempt's answer: the line failed as `internal`, unless its run is no longer current. */
async function answerLine(ctx: BatchContext, target: BatchUpload, task: LineTask, error: unknown): Promise<void> {
  ctx.log.error("upload.failed_finally", { key: target.inputKey, line: task.line, error });
  ctx.service.metrics.failed("internal");
  try {
    const current = await readRun(ctx, target);
    if (current?.run.runId !== task.runId || !current.run.tasks.some((t) => t.line === task.line)) return;
    const failure = internalFailure(ctx.messageId);
    await claimLineResult(ctx, target, task.runId, { line: task.line, status: "failed", ...failure.body });
    ctx.log.warn("upload.answered_internal", { key: target.inputKey, line: task.line });
    await finishIfComplete(ctx, target, current);
  } catch (answerError) {
    if (answerError !== error) ctx.log.error("upload.answer_failed", { key: target.inputKey, error: answerError });
    throw error;
  }
}
