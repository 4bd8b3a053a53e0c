import pLimit from "p-limit";
import type { FailureBody } from "../service/failure.ts";
import {
  type BatchUpload,
  batchLineResultKey,
  batchLineResultOf,
  batchRunKey,
  batchRunResultsPrefix,
  batchRunsFolder,
} from "../service/storage/keys.ts";
import type { BatchItem } from "./batch-summary.ts";
import type { LineRange } from "./batch-split.ts";
import type { BatchContext, Source } from "./context.ts";

/**
 * A run: one version of a batch file split into line tasks. `batch-runs/<h>/run.json` holds the
 * batch's current run; a newer version (or a redo) writes a new run with a new id, which makes every
 * task of the older run stale. Each line's outcome is written once, to its own object in the run's
 * folder, by whichever task of the line gets there first (a conditional put).
 */
export interface BatchRun {
  runId: string;
  /** The input version the run was split from. */
  source: Source;
  /** Date.now() when the file was read, for the summary's totalMs. */
  startedAt: number;
  /** Every line of the file. */
  lines: number;
  /** The lines that get a task, by their byte range in the input. */
  tasks: LineRange[];
  /** The lines answered when the file was split (blank, too large, not JSON, past the limit). */
  items: BatchItem[];
  /** The file as a whole refused or failed: then there are no tasks and no items. */
  error?: FailureBody;
}

/** The run and the ETag its record had when read: a new run is a new record, with another ETag. */
export interface CurrentRun {
  run: BatchRun;
  eTag: string;
}

/** Results read (or deleted) at once by the finishing step: 1,000 small requests take about a second. */
const REQUESTS_AT_ONCE = 16;

/** The batch's current run, or undefined if it has none (or its record is unreadable: a new run replaces it). */
export async function readRun(ctx: BatchContext, target: BatchUpload): Promise<CurrentRun | undefined> {
  const { config, storage } = ctx.service;
  const got = await storage.get(config.outputBucket, batchRunKey(target.batch));
  if (!got.found || "tooLarge" in got) return undefined;
  try {
    return { run: JSON.parse(got.body.toString("utf8")) as BatchRun, eTag: got.eTag };
  } catch {
    return undefined;
  }
}

/** Make `run` the batch's current run. */
export async function writeRun(ctx: BatchContext, target: BatchUpload, run: BatchRun): Promise<CurrentRun> {
  const eTag = await ctx.service.storage.putJson(
    ctx.service.config.outputBucket,
    batchRunKey(target.batch),
    JSON.stringify(run),
  );
  if (eTag === undefined) throw new Error("an unconditional put had a condition");
  return { run, eTag };
}

/** Whether `current` is still the batch's run (one HEAD). */
export async function isCurrent(ctx: BatchContext, target: BatchUpload, current: CurrentRun): Promise<boolean> {
  const { config, storage } = ctx.service;
  return (await storage.head(config.outputBucket, batchRunKey(target.batch)))?.eTag === current.eTag;
}

/** Line `line`'s outcome in the run, if one was written. */
export async function readLineResult(
  ctx: BatchContext,
  target: BatchUpload,
  runId: string,
  line: number,
): Promise<BatchItem | undefined> {
  const { config, storage } = ctx.service;
  const got = await storage.get(config.outputBucket, batchLineResultKey(target.batch, runId, line));
  if (!got.found || "tooLarge" in got) return undefined;
  return JSON.parse(got.body.toString("utf8")) as BatchItem;
}

/**
 * Write `item` as its line's outcome unless one is written already (a duplicate task got there
 * first). Returns the outcome that stands: ours, or the earlier one.
 */
export async function claimLineResult(
  ctx: BatchContext,
  target: BatchUpload,
  runId: string,
  item: BatchItem,
): Promise<BatchItem> {
  const key = batchLineResultKey(target.batch, runId, item.line);
  const written = await ctx.service.storage.putJson(ctx.service.config.outputBucket, key, JSON.stringify(item), {
    ifNoneMatch: "*",
  });
  if (written !== undefined) return item;
  const earlier = await readLineResult(ctx, target, runId, item.line);
  if (!earlier) throw new Error(`the result of line ${item.line} was neither written nor found`);
  return earlier;
}

/** The lines of the run that have an outcome. */
export async function linesWithResults(ctx: BatchContext, target: BatchUpload, runId: string): Promise<Set<number>> {
  const { config, storage } = ctx.service;
  const objects = await storage.list(config.outputBucket, batchRunResultsPrefix(target.batch, runId));
  const lines = objects.map((o) => batchLineResultOf(target.batch, runId, o.key));
  return new Set(lines.filter((line) => line !== undefined));
}

/** The outcomes of `lines`, in their order; throws if one is missing or unreadable. */
export async function readLineResults(
  ctx: BatchContext,
  target: BatchUpload,
  runId: string,
  lines: number[],
): Promise<BatchItem[]> {
  const limit = pLimit(REQUESTS_AT_ONCE);
  return Promise.all(
    lines.map((line) =>
      limit(async () => {
        const item = await readLineResult(ctx, target, runId, line);
        if (!item) throw new Error(`line ${line} of run ${runId} has no result`);
        return item;
      }),
    ),
  );
}

/**
 * Delete what earlier runs of the batch left (their line outcomes), once this run's summary is
 * written: nothing reads them again, and outputs may be kept forever (outputExpirationDays 0).
 */
export async function removeEarlierRuns(ctx: BatchContext, target: BatchUpload, runId: string): Promise<void> {
  const { config, storage } = ctx.service;
  const ours = batchRunResultsPrefix(target.batch, runId);
  const record = batchRunKey(target.batch);
  const objects = await storage.list(config.outputBucket, batchRunsFolder(target.batch));
  const stale = objects.filter((o) => o.key !== record && !o.key.startsWith(ours));
  const limit = pLimit(REQUESTS_AT_ONCE);
  await Promise.all(stale.map((o) => limit(() => storage.delete(config.outputBucket, o.key))));
}
