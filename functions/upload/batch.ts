import { bodyTooLarge, type FailureBody } from "../failure.ts";
import { since } from "../log.ts";
import { storedPdf, type StoredPdf } from "../stored-pdf.ts";
import { batchLineOf, batchLinePdfKey, type BatchUpload } from "../storage/keys.ts";
import type { Source, UploadContext } from "./context.ts";
import { readInput, readJsonOutput } from "./read-input.ts";
import { renderInput } from "./render-input.ts";

/** `<batch>.summary.json`: one item for every line of the file, good or bad. */
export interface BatchSummary {
  source: Source;
  lines: number;
  rendered: number;
  failed: number;
  skipped: number;
  /** Set when the file as a whole was refused (too large to read). */
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
 * incoming/<batch>.jsonl → <batch>/<n>.pdf for each good line n, and <batch>.summary.json. A bad line
 * does not stop the others. Idempotent like a single upload: an answered version is not redone.
 */
export async function processBatch(ctx: UploadContext, target: BatchUpload): Promise<void> {
  const { config, storage } = ctx.service;
  const out = config.outputBucket;
  const started = performance.now();
  const input = await readInput(ctx, target.inputKey, config.maxUploadBytes);
  if (!input) return ctx.log.warn("upload.gone", { key: target.inputKey });

  const previous = await readJsonOutput<BatchSummary>(ctx, target.summaryKey);
  if (previous?.source.eTag === input.source.eTag) {
    return ctx.log.info("upload.skipped", { key: target.inputKey, reason: "this version was already rendered" });
  }

  const lines = input.text === undefined ? [] : splitLines(input.text);
  const items = await mapInOrder(lines, LINE_CONCURRENCY, (text, index) => renderLine(ctx, target, text, index + 1));

  // Line PDFs of an earlier version of this file that this version does not produce are removed,
  // so the folder always matches the summary.
  const produced = new Set(items.flatMap((item) => (item.status === "done" ? [item.key] : [])));
  const existing = await storage.list(out, `${target.batch}/`);
  await Promise.all(
    existing
      .filter((o) => batchLineOf(target.batch, o.key) !== undefined && !produced.has(o.key))
      .map((o) => storage.delete(out, o.key)),
  );

  const count = (status: BatchItem["status"]) => items.filter((i) => i.status === status).length;
  const summary: BatchSummary = {
    source: input.source,
    lines: lines.length,
    rendered: count("done"),
    failed: count("failed"),
    skipped: count("skipped"),
    ...(input.tooLarge ? { error: tooLargeBody(input.tooLarge.message) } : {}),
    items,
    totalMs: since(started),
  };
  await storage.put(out, target.summaryKey, JSON.stringify(summary, null, 2), { contentType: "application/json" });
  ctx.log.info("upload.batch_rendered", {
    key: target.inputKey,
    lines: summary.lines,
    rendered: summary.rendered,
    failed: summary.failed,
    skipped: summary.skipped,
    totalMs: summary.totalMs,
  });
}

async function renderLine(ctx: UploadContext, target: BatchUpload, text: string, line: number): Promise<BatchItem> {
  const { config, storage } = ctx.service;
  if (text.trim() === "") return { line, status: "skipped", reason: "blank line" };
  if (line > config.maxBatchLines) {
    const message = `a batch renders at most ${config.maxBatchLines} lines`;
    return { line, status: "failed", error: "body_too_large", message, errors: [{ rule: "limit.batchLines", path: "", message }] };
  }
  const bytes = Buffer.byteLength(text, "utf8");
  const outcome = await renderInput(ctx, {
    text,
    tooLarge: bytes > config.maxBodyBytes ? bodyTooLarge(bytes, config.maxBodyBytes) : undefined,
  });
  if (!outcome.ok) return { line, status: "failed", ...outcome.failure.body };

  const { result } = outcome;
  const key = batchLinePdfKey(target.batch, line);
  const uploadStarted = performance.now();
  await storage.put(config.outputBucket, key, result.pdf, { contentType: "application/pdf", downloadName: result.filename });
  ctx.log.debug("upload.line_rendered", {
    key: target.inputKey,
    line,
    templateId: outcome.templateId,
    pages: result.pages,
    bytes: result.bytes,
    durations: { ...result.timings, uploadMs: since(uploadStarted) },
  });
  return { line, status: "done", ...storedPdf(key, result) };
}

/** Lines as JSON Lines defines them: \n or \r\n separated; a final newline ends the last line. */
function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function tooLargeBody(message: string): FailureBody {
  return { error: "body_too_large", message, errors: [{ rule: "limit.bodySize", path: "", message }] };
}

/**
 * `work` over `items`, at most `limit` at a time, results in input order. Every item is finished
 * before a failure is thrown, so nothing is still writing when the message goes back to the queue.
 */
async function mapInOrder<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index).then(
        (value): PromiseSettledResult<R> => ({ status: "fulfilled", value }),
        (reason: unknown): PromiseSettledResult<R> => ({ status: "rejected", reason }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}
