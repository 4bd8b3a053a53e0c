import pLimit from "p-limit";
import { batchLineOf, batchLinesPrefix, type BatchUpload } from "../service/storage/keys.ts";
import { type CurrentRun, isCurrent, linesWithResults, readLineResults, removeEarlierRuns } from "./batch-run.ts";
import { rewriteIfSuperseded } from "./batch-rewrite.ts";
import type { BatchItem, BatchSummary } from "./batch-summary.ts";
import type { BatchContext } from "./context.ts";

/** Rounds of "someone else wrote the summary between our read and our write" before SQS retries. */
const SUMMARY_ROUNDS = 5;
const DELETES_AT_ONCE = 16;

/** The finishing step, after a line's outcome is written: the summary, if every line now has one. */
export async function finishIfComplete(ctx: BatchContext, target: BatchUpload, current: CurrentRun): Promise<void> {
  const { run } = current;
  if (run.tasks.length > 0) {
    const done = await linesWithResults(ctx, target, run.runId);
    if (run.tasks.some((task) => !done.has(task.line))) return;
  }
  await finishRun(ctx, target, current);
}

/**
 * Write the run's summary, exactly once. Any task of the run may find it complete: the last two lines
 * can finish at the same moment, and SQS may deliver a task twice. So the summary is put on condition
 * that it is still the one read just before (S3 If-Match, or If-None-Match when there was none): of
 * the finishers of one run one writes it, the others find it written. A finisher of a run that is no
 * longer the batch's current one writes nothing, and the condition keeps it from writing over a
 * newer run's summary that lands between its check and its write.
 *
 * Before the summary, line PDFs that this run does not produce (an earlier version's) are removed,
 * so the folder matches the summary.
 */
export async function finishRun(ctx: BatchContext, target: BatchUpload, current: CurrentRun): Promise<void> {
  const { config } = ctx.service;
  const { run } = current;
  let items: BatchItem[] | undefined;
  for (let round = 1; round <= SUMMARY_ROUNDS; round++) {
    const previous = await readSummary(ctx, target);
    if (previous?.summary?.runId === run.runId) {
      return ctx.log.debug("upload.batch_finished_already", { key: target.inputKey, runId: run.runId });
    }
    if (!(await isCurrent(ctx, target, current))) {
      return ctx.log.info("upload.superseded", { key: target.inputKey, runId: run.runId, when: "before the summary" });
    }
    items ??= await itemsOf(ctx, target, run);
    const removed = await removeOtherPdfs(ctx, target, items);
    const summary = summaryOf(current, items);
    const written = await ctx.service.storage.putJson(
      config.outputBucket,
      target.summaryKey,
      JSON.stringify(summary, null, 2),
      previous ? { ifMatch: previous.eTag } : { ifNoneMatch: "*" },
    );
    await rewriteIfSuperseded(ctx, target, current, removed);
    if (written !== undefined) {
      await removeEarlierRuns(ctx, target, run.runId);
      const { lines, rendered: done, failed, skipped, totalMs } = summary;
      const refused = summary.items.filter((i) => i.status === "failed" && i.error !== "internal").length;
      ctx.service.metrics.batchLines("rendered", done);
      ctx.service.metrics.batchLines("refused", refused);
      ctx.service.metrics.batchLines("failed", failed - refused);
      return ctx.log.info("upload.batch_rendered", {
        key: target.inputKey,
        runId: run.runId,
        lines,
        rendered: done,
        failed,
        skipped,
        totalMs,
      });
    }
  }
  throw new Error(`${target.summaryKey} was written by others ${SUMMARY_ROUNDS} times while this run finished`);
}

/** Every line's item, in order: those answered when the file was split, and each task's outcome. */
async function itemsOf(ctx: BatchContext, target: BatchUpload, run: CurrentRun["run"]): Promise<BatchItem[]> {
  const lines = run.tasks.map((task) => task.line);
  const outcomes = await readLineResults(ctx, target, run.runId, lines);
  return [...run.items, ...outcomes].sort((a, b) => a.line - b.line);
}

function summaryOf({ run }: CurrentRun, items: BatchItem[]): BatchSummary {
  const count = (status: BatchItem["status"]) => items.filter((i) => i.status === status).length;
  return {
    source: run.source,
    lines: run.lines,
    rendered: count("done"),
    failed: count("failed"),
    skipped: count("skipped"),
    ...(run.error ? { error: run.error } : {}),
    items,
    totalMs: Math.max(0, Math.round(Date.now() - run.startedAt)),
    runId: run.runId,
  };
}

/** The summary there now and its ETag; `summary` undefined if it is not JSON (it is replaced all the same). */
async function readSummary(
  ctx: BatchContext,
  target: BatchUpload,
): Promise<{ summary?: BatchSummary; eTag: string } | undefined> {
  const { config, storage } = ctx.service;
  const got = await storage.get(config.outputBucket, target.summaryKey);
  if (!got.found) return undefined;
  if ("tooLarge" in got) return { eTag: got.eTag };
  try {
    return { summary: JSON.parse(got.body.toString("utf8")) as BatchSummary, eTag: got.eTag };
  } catch {
    return { eTag: got.eTag };
  }
}

/** Deletes the line PDFs (only ever batches/<batch>/<n>.pdf) that `items` does not list as done; their lines. */
async function removeOtherPdfs(ctx: BatchContext, target: BatchUpload, items: BatchItem[]): Promise<number[]> {
  const { config, storage } = ctx.service;
  const keep = new Set(items.flatMap((item) => (item.status === "done" ? [item.key] : [])));
  const existing = await storage.list(config.outputBucket, batchLinesPrefix(target.batch));
  const stale = existing.filter((o) => batchLineOf(target.batch, o.key) !== undefined && !keep.has(o.key));
  const limit = pLimit(DELETES_AT_ONCE);
  await Promise.all(stale.map((o) => limit(() => storage.delete(config.outputBucket, o.key))));
  return stale.map((o) => batchLineOf(target.batch, o.key) ?? 0);
}
