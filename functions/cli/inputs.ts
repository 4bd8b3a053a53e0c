import { createReadStream } from "node:fs";
import { basename, extname, join } from "node:path";

/**
 * One report to render: where its text comes from, what it is called in messages and where its PDF
 * goes. A batch file gives one for each line that is not blank.
 */
export interface InputItem {
  /** How messages name it: the argument (`a.json`), `<stdin>`, or `batch.jsonl:12` for line 12 of a batch. */
  label: string;
  /** The envelope's text (a file is read only when its turn comes). */
  text: () => Promise<string>;
  /** The PDF's path; `undefined` when it is named after the report (standard input). */
  output?: string;
}

/** A JSON Lines batch, by its name: `*.jsonl` (any case). */
export function isBatch(input: string): boolean {
  return input !== "-" && extname(input).toLowerCase() === ".jsonl";
}

/** The PDF of `input` (a JSON file) in `folder`: `a.json` → `<folder>/a.pdf`. */
export function pdfOf(input: string, folder: string): string {
  return join(folder, `${basename(input, extname(input))}.pdf`);
}

/** The PDF of line `line` (from 1) of `batch` in `folder`: `batch.jsonl` → `<folder>/batch-<line>.pdf`. */
export function batchLinePdfOf(batch: string, line: number, folder: string): string {
  return join(folder, `${basename(batch, extname(batch))}-${line}.pdf`);
}

/**
 * The lines of a text file as JSON Lines defines them (\n or \r\n separated; a final newline ends the
 * last line, as the upload flow reads a batch), numbered from 1, read as a stream: one line at a time
 * is held, however long the file.
 */
export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  let pending = "";
  let line = 0;
  const stream = createReadStream(file, { encoding: "utf8" });
  for await (const chunk of stream as AsyncIterable<string>) {
    // What was pending holds no line break: only the new chunk is searched, so a long line costs
    // time in proportion to its length.
    const from = pending.length;
    pending += chunk;
    let start = 0;
    for (let end = pending.indexOf("\n", from); end >= 0; end = pending.indexOf("\n", start)) {
      line += 1;
      yield { line, text: stripCarriageReturn(pending.slice(start, end)) };
      start = end + 1;
    }
    pending = pending.slice(start);
  }
  if (pending !== "") yield { line: line + 1, text: stripCarriageReturn(pending) };
}

function stripCarriageReturn(text: string): string {
  return text.endsWith("\r") ? text.slice(0, -1) : text;
}

/** A line with nothing but white space (a byte order mark too) is skipped, as in the upload flow. */
export function isBlank(text: string): boolean {
  return text.trim() === "";
}

/** The lines of `file` that would be rendered; 1 if it cannot be read (its failure is then one item). */
export async function countLines(file: string): Promise<number> {
  let count = 0;
  try {
    for await (const { text } of readLines(file)) if (!isBlank(text)) count += 1;
  } catch {
    return 1;
  }
  return count;
}
