import { isRunId, MAX_KEY_BYTES } from "../service/storage/keys.ts";

/**
 * One line of a batch run, as a message on the line queue. It carries references only, never the
 * line: a line may be 5 MB (MAX_BODY_BYTES) and an SQS message 256 KB. The line task reads the run
 * (batch-runs/<h>/run.json) for the line's byte range, and the line from the input by that range.
 */
export interface LineTask {
  kind: "batch-line";
  /** The batch's input key, `incoming/<batch>.jsonl`. */
  key: string;
  /** The version of the input the run was split from (its ETag, without quotes). */
  eTag: string;
  /** The run: a task of any other run than the batch's current one does nothing. */
  runId: string;
  /** From 1, as in the summary. */
  line: number;
  /**
   * Set by a writer of an older run that found, after writing, that it may have written over this
   * run's PDF of the line (or deleted it): make batches/<batch>/<line>.pdf what this run says again.
   */
  rewrite?: true;
}

export const LINE_TASK_KIND = "batch-line";

/**
 * Line tasks per invocation (the line queue's batch size), handled at once: two, so that both
 * browsers of an instance render (RENDER_BROWSERS is 2 at 2048 MB). The stack reads it from here.
 */
export const LINE_TASKS_PER_INVOCATION = 2;

/** The message body of a task. */
export function lineTaskBody(task: LineTask): string {
  return JSON.stringify(task);
}

/** Whether a parsed message body says it is a line task (the S3 notifications never do). */
export function isLineTaskMessage(body: unknown): body is { kind: typeof LINE_TASK_KIND } {
  return typeof body === "object" && body !== null && (body as { kind?: unknown }).kind === LINE_TASK_KIND;
}

const FIELDS = new Set(["kind", "key", "eTag", "runId", "line", "rewrite"]);
/** S3 ETags: an MD5 in hex, with `-<parts>` for multipart uploads. */
const ETAG = /^[0-9a-f]{32}(-\d{1,5})?$/;

/**
 * The task a line-task message holds, or why it holds none. Only the shape is checked here: whether
 * the key is a batch, the run its current one and the line one of its lines is for the line task to
 * find out (a wrong one does nothing).
 */
export function parseLineTask(body: { kind: typeof LINE_TASK_KIND }): LineTask | { refused: string } {
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((name) => !FIELDS.has(name));
  if (unknown.length > 0) return { refused: `unknown fields: ${unknown.slice(0, 5).join(", ")}` };
  const { key, eTag, runId, line, rewrite } = fields;
  if (typeof key !== "string" || key === "" || Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    return { refused: "key is not an S3 key" };
  }
  if (typeof eTag !== "string" || !ETAG.test(eTag)) return { refused: "eTag is not an S3 ETag" };
  if (typeof runId !== "string" || !isRunId(runId)) return { refused: "runId is not a run id (a UUID)" };
  if (typeof line !== "number" || !Number.isSafeInteger(line) || line < 1) {
    return { refused: "line is not a line number (a whole number from 1)" };
  }
  if (rewrite !== undefined && rewrite !== true) return { refused: "rewrite is not true" };
  return { kind: LINE_TASK_KIND, key, eTag, runId, line, ...(rewrite ? { rewrite } : {}) };
}
