import { parseJson } from "../core/input/index.ts";
import { LimitError } from "../core/errors.ts";
import { bodyTooLarge, describeFailure, type FailureBody } from "../service/failure.ts";
import type { BatchItem } from "./batch-summary.ts";

/** A line to render, by its bytes in the input: [start, end), the line's end (\n or \r\n) left out. */
export interface LineRange {
  line: number;
  start: number;
  end: number;
}

export interface SplitBatch {
  /** Every line of the file, those past the limit too. */
  lines: number;
  /** The lines to render, one line task each. */
  tasks: LineRange[];
  /** The lines answered at once: blank, too large, not JSON, and one entry for all lines past the limit. */
  items: BatchItem[];
}

/**
 * A JSONL file's lines as JSON Lines defines them (\n or \r\n separated; a final newline ends the
 * last line), split on its bytes: a line's byte range is what its task reads back, and a newline byte
 * is never inside a UTF-8 sequence, so the range decodes to exactly the line's text.
 *
 * The checks that need no renderer are made here, once, so that a line that cannot render costs no
 * task (a 2 MB file of a million lines of "x" becomes a summary, not 1,000 messages). Lines past
 * `maxBatchLines` are only counted: they get no work and one entry between them.
 */
export function splitBatch(bytes: Buffer, limits: { maxBatchLines: number; maxBodyBytes: number }): SplitBatch {
  const tasks: LineRange[] = [];
  const items: BatchItem[] = [];
  let lines = 0;
  for (let start = 0; start < bytes.length; ) {
    const newline = bytes.indexOf(0x0a, start);
    lines++;
    if (lines <= limits.maxBatchLines) {
      const end = newline === -1 ? bytes.length : newline - (newline > start && bytes[newline - 1] === 0x0d ? 1 : 0);
      const range = { line: lines, start, end };
      const answered = answerAtOnce(bytes, range, limits.maxBodyBytes);
      if (answered) items.push(answered);
      else tasks.push(range);
    }
    start = newline === -1 ? bytes.length : newline + 1;
  }
  if (lines > limits.maxBatchLines) items.push(linesPastLimit(limits.maxBatchLines, lines));
  return { lines, tasks, items };
}

/** The item of a line that needs no renderer to be answered, or undefined if it is to be rendered. */
function answerAtOnce(bytes: Buffer, { line, start, end }: LineRange, maxBodyBytes: number): BatchItem | undefined {
  const text = bytes.toString("utf8", start, end);
  if (text.trim() === "") return { line, status: "skipped", reason: "blank line" };
  if (end - start > maxBodyBytes)
    return { line, status: "failed", ...refusal(bodyTooLarge(end - start, maxBodyBytes)) };
  try {
    parseJson(text);
    return undefined;
  } catch (e) {
    const failure = describeFailure(e);
    if (!failure) throw e;
    return { line, status: "failed", ...failure.body };
  }
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

/** The error body of a limit, as every door words it. */
export function refusal(e: LimitError): FailureBody {
  const failure = describeFailure(e);
  if (!failure) throw e;
  return failure.body;
}
