import type { FailureBody } from "../service/failure.ts";
import type { StoredPdf } from "../service/stored-pdf.ts";
import type { Source } from "./context.ts";

/**
 * `<batch>.summary.json`: one item for every line of the file, good or bad. A contract with clients:
 * fields may be added, never renamed or removed.
 */
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
  /** From the start of the run (the file read) to the summary, across every invocation. */
  totalMs: number;
  /** The run this summary ends: each version of the file is split into one run (absent before runs). */
  runId?: string;
}

export type BatchItem =
  | ({ line: number; status: "done" } & StoredPdf)
  | ({ line: number; status: "failed" } & FailureBody)
  | { line: number; status: "skipped"; reason: string };

/** Whether a summary records a fault of ours (the file's or a line's `internal`): no answer then. */
export function isFaulted(summary: BatchSummary): boolean {
  return summary.error?.error === "internal" || summary.items.some((i) => "error" in i && i.error === "internal");
}
