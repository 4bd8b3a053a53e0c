import { randomUUID } from "node:crypto";
import type { FailureBody } from "../service/failure.ts";
import { since } from "../service/log.ts";
import type { BatchUpload } from "../service/storage/keys.ts";
import { finishRun } from "./batch-finish.ts";
import { type BatchRun, type CurrentRun, readRun, writeRun } from "./batch-run.ts";
import { refusal, splitBatch } from "./batch-split.ts";
import { type BatchSummary, isFaulted } from "./batch-summary.ts";
import type { BatchContext, Source } from "./context.ts";
import { processLatest, type Round } from "./latest.ts";
import { LINE_TASK_KIND } from "./line-task.ts";
import { readJsonOutput } from "./read-input.ts";

export type { BatchSummary } from "./batch-summary.ts";

/**
 * incoming/<batch>.jsonl → a run: the file read and checked once, then one line task per line to
 * render, sent to the line queue so that many invocations render the lines at once
 * (batch-line.ts). Each writes batches/<batch>/<n>.pdf and its outcome; the last one to finish
 * writes <batch>.summary.json (batch-finish.ts). A file with no line to render is summarised here.
 *
 * Like a single upload: an answered version is not redone, the latest version wins (processLatest;
 * a new run makes every task of the older one stale), and the last attempt always leaves a summary.
 */
export async function processBatch(ctx: BatchContext, target: BatchUpload): Promise<void> {
  await processLatest(ctx, target.inputKey, {
    maxBytes: ctx.service.config.maxUploadBytes,
    round: (round) => splitRound(ctx, target, round),
    // No line rendered: the summary says why, and the line PDFs of earlier versions go.
    answer: (failure, source) => answerWhole(ctx, target, source, failure.body),
  });
}

async function splitRound(ctx: BatchContext, target: BatchUpload, round: Round): Promise<void> {
  const { input } = round;
  const [previous, existing] = await Promise.all([
    readJsonOutput<BatchSummary>(ctx, target.summaryKey),
    readRun(ctx, target),
  ]);
  if (!round.redo) {
    // A summary that records a fault of ours (the file's or a line's "internal") is no answer.
    if (previous?.source.eTag === input.source.eTag && !isFaulted(previous)) {
      return ctx.log.info("upload.skipped", { key: target.inputKey, reason: "this version was already rendered" });
    }
    // This version is split already and its run not finished: a redelivery, or a retry after its
    // tasks were only partly sent. All are sent again; a line with an outcome is not rendered twice.
    if (existing?.run.source.eTag === input.source.eTag && previous?.runId !== existing.run.runId) {
      await sendTasks(ctx, target, existing);
      return ctx.log.info("upload.batch_resent", { key: target.inputKey, runId: existing.run.runId });
    }
  }

  const { config } = ctx.service;
  const split = input.body ? splitBatch(input.body, config) : { lines: 0, tasks: [], items: [] };
  const run: BatchRun = {
    runId: randomUUID(),
    source: input.source,
    startedAt: Date.now() - since(round.started),
    ...split,
    ...(input.tooLarge ? { error: refusal(input.tooLarge) } : {}),
  };
  await round.beforeWrite();
  await startRun(ctx, target, run);
  // Lines refused before any render (not JSON, too large, past the limit), or the whole file.
  for (const item of run.items) if (item.status === "failed") ctx.service.metrics.refused(item.error);
  if (run.error) ctx.service.metrics.refused(run.error.error);
  ctx.log.info("upload.batch_split", {
    key: target.inputKey,
    runId: run.runId,
    lines: run.lines,
    tasks: run.tasks.length,
    answered: run.items.length,
  });
}

/** The last attempt's answer: a run of no lines, with the error, finished at once. */
async function answerWhole(ctx: BatchContext, target: BatchUpload, source: Source, error: FailureBody) {
  const run: BatchRun = { runId: randomUUID(), source, startedAt: Date.now(), lines: 0, tasks: [], items: [], error };
  await startRun(ctx, target, run);
}

/** `run` becomes the batch's current run (older runs' tasks now do nothing); then its lines go out. */
async function startRun(ctx: BatchContext, target: BatchUpload, run: BatchRun): Promise<void> {
  const current = await writeRun(ctx, target, run);
  if (run.tasks.length === 0) await finishRun(ctx, target, current);
  else await sendTasks(ctx, target, current);
}

async function sendTasks(ctx: BatchContext, target: BatchUpload, { run }: CurrentRun): Promise<void> {
  const { runId, source } = run;
  await ctx.lineTasks.send(
    run.tasks.map(({ line }) => ({ kind: LINE_TASK_KIND, key: target.inputKey, eTag: source.eTag, runId, line })),
  );
}
