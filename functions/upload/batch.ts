import pLimit from "p-limit";
import { LimitError } from "../core/errors.ts";
import { bodyTooLarge, describeFailure, type FailureBody } from "../service/failure.ts";
import { since } from "../service/log.ts";
import { type StoredPdf, storePdf } from "../service/stored-pdf.ts";
import { batchLineOf, batchLinePdfKey, batchLinesPrefix, type BatchUpload } from "../service/storage/keys.ts";
import type { Source, UploadContext } from "./context.ts";
import { processLatest, type Round } from "./latest.ts";
import { readJsonOutput } from "./read-input.ts";
import { renderInput } from "./render-input.ts";

/** `<batch>.summary.json`: one item for every line of the file, good or bad. */
export interface BatchSummary {
  source: Source;
  lines: number;
  rendered: number;
  failed: number;
  skipped: number;
  /**
   * Set when the file as a whole was refused (too large to read) or could not be processed (an
   * `internal` failure on the last attempt); then no line was rendered and `items` is empty.
   */
  error?: FailureBody;
  items: BatchItem[];
  totalMs: number;
}

export type BatchItem =
  | ({ line: number; status: "done" } & StoredPdf)
  | ({ line: number; status: "failed" } & FailureBody)
  | { line: number; status: "skipped"; reason: string };

/** Lines rendered at once: the render core shares one Chromium, which keeps two cores busy. */
const LINE_CONCURRENCY = 2;

/**
 * incoming/<batch>.jsonl → batches/<batch>/<n>.pdf for each good line n, and <batch>.summary.json.
 * A bad line does not stop the others. Idempotent like a single upload: an answered version is not
 * redone; the latest version wins (processLatest), and the last attempt always leaves a summary.
 */
export async function processBatch(ctx: UploadContext, target: BatchUpload): Promise<void> {
  await processLatest(ctx, target.inputKey, {
    maxBytes: ctx.service.config.maxUploadBytes,
    round: (round) => batchRound(ctx, target, round),
    answer: async (failure, source) => {
      await removeLinePdfs(ctx, target, new Set());
      await writeSummary(ctx, target, {
        source,
        lines: 0,
        rendered: 0,
        failed: 0,
        skipped: 0,
        error: failure.body,
        items: [],
        totalMs: 0,
      });
    },
  });
}

async function batchRound(ctx: UploadContext, target: BatchUpload, round: Round): Promise<void> {
  const { input } = round;
  const previous = await readJsonOutput<BatchSummary>(ctx, target.summaryKey);
  // A summary that records a fault of ours (the file's or a line's "internal") is no answer.
  const faulted =
    previous?.error?.error === "internal" || previous?.items.some((i) => "error" in i && i.error === "internal");
  if (previous?.source.eTag === input.source.eTag && !faulted && !round.redo) {
    return ctx.log.info("upload.skipped", { key: target.inputKey, reason: "this version was already rendered" });
  }

  const lines = input.text === undefined ? [] : splitLines(input.text);
  // Lines past the limit get no work and one entry between them, however many there are: a 2 MB file
  // of a million short lines must not become a million tasks and a 300 MB summary.
  const { maxBatchLines } = ctx.service.config;
  const items = await renderLines(lines.slice(0, maxBatchLines), (text, line) =>
    renderLine(ctx, target, round, text, line),
  );
  if (lines.length > maxBatchLines) items.push(linesPastLimit(maxBatchLines, lines.length));

  // Line PDFs of an earlier version of this file that this version does not produce are removed,
  // so the folder always matches the summary.
  await round.beforeWrite();
  await removeLinePdfs(ctx, target, new Set(items.flatMap((item) => (item.status === "done" ? [item.key] : []))));

  const count = (status: BatchItem["status"]) => items.filter((i) => i.status === status).length;
  const summary: BatchSummary = {
    source: input.source,
    lines: lines.length,
    rendered: count("done"),
    failed: count("failed"),
    skipped: count("skipped"),
    ...(input.tooLarge ? { error: refusal(input.tooLarge) } : {}),
    items,
    totalMs: since(round.started),
  };
  await writeSummary(ctx, target, summary);
  ctx.log.info("upload.batch_rendered", {
    key: target.inputKey,
    lines: summary.lines,
    rendered: summary.rendered,
    failed: summary.failed,
    skipped: summary.skipped,
    totalMs: summary.totalMs,
  });
}

async function renderLine(
  ctx: UploadContext,
  target: BatchUpload,
  round: Round,
  text: string,
  line: number,
): Promise<BatchItem> {
  const { config } = ctx.service;
  if (text.trim() === "") return { line, status: "skipped", reason: "blank line" };
  const bytes = Buffer.byteLength(text, "utf8");
  const outcome = await renderInput(ctx, {
    text,
    tooLarge: bytes > config.maxBodyBytes ? bodyTooLarge(bytes, config.maxBodyBytes) : undefined,
  });
  if (!outcome.ok) return { line, status: "failed", ...outcome.failure.body };

  const { result } = outcome;
  await round.beforeWrite();
  const { stored, uploadMs } = await storePdf(ctx.service, batchLinePdfKey(target.batch, line), result);
  ctx.log.debug("upload.line_rendered", {
    key: target.inputKey,
    line,
    templateId: outcome.templateId,
    pages: result.pages,
    bytes: result.bytes,
    durations: { ...result.timings, uploadMs },
  });
  return { line, status: "done", ...stored };
}

/** The one entry for lines max+1 … total, none of which is rendered. */
function linesPastLimit(max: number, total: number): BatchItem {
  const rest = total === max + 1 ? "" : ` (lines ${max + 1} to ${total} were not rendered)`;
  return {
    line: max + 1,
    status: "failed",
    ...refusal(new LimitError("batchLines", `a batch renders at most ${max} lines${rest}`)),
  };
}

/**
 * Every line, LINE_CONCURRENCY at a time, results in input order. After a failure no further line is
 * started, and the lines under way are finished before it is thrown, so nothing is still writing when
 * the message goes back to the queue (or the round starts over).
 */
async function renderLines(
  lines: string[],
  render: (text: string, line: number) => Promise<BatchItem>,
): Promise<BatchItem[]> {
  const limit = pLimit(LINE_CONCURRENCY);
  let failure: { reason: unknown } | undefined;
  const items = await Promise.all(
    lines.map((text, index) =>
      limit(async () => {
        if (failure) return undefined;
        try {
          return await render(text, index + 1);
        } catch (reason) {
          failure ??= { reason };
          return undefined;
        }
      }),
    ),
  );
  if (failure) throw failure.reason;
  return items as BatchItem[];
}

/** Only ever batches/<batch>/<n>.pdf: no other upload's outputs are there. */
async function removeLinePdfs(ctx: UploadContext, target: BatchUpload, keep: Set<string>): Promise<void> {
  const { config, storage } = ctx.service;
  const existing = await storage.list(config.outputBucket, batchLinesPrefix(target.batch));
  await Promise.all(
    existing
      .filter((o) => batchLineOf(target.batch, o.key) !== undefined && !keep.has(o.key))
      .map((o) => storage.delete(config.outputBucket, o.key)),
  );
}

/**
 * Written last. `<batch>.summary.json` sits beside the batch's name, outside batches/, yet no single
 * upload can reach it: their outputs end in .pdf, .result.json or .error.json, never .summary.json.
 */
async function writeSummary(ctx: UploadContext, target: BatchUpload, summary: BatchSummary): Promise<void> {
  const { config, storage } = ctx.service;
  await storage.put(config.outputBucket, target.summaryKey, JSON.stringify(summary, null, 2), {
    contentType: "application/json",
  });
}

/** The error body of a limit, as every door words it. */
function refusal(e: LimitError): FailureBody {
  const failure = describeFailure(e);
  if (!failure) throw e;
  return failure.body;
}

/** Lines as JSON Lines defines them: \n or \r\n separated; a final newline ends the last line. */
function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}
