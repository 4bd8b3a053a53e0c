/**
 * The progress bar the CLI draws on stderr while it renders several inputs, when stderr is a
 * terminal: `[#####...............] 12/40 a.json`. Redrawn in place on one line (carriage return,
 * then erase to the end of the line); other output is written above it.
 */

const BAR_WIDTH = 20;
/** Carriage return, then erase to the end of the line (ECMA-48 EL). */
const CLEAR_LINE = "\r\x1b[K";

/**
 * One line of progress, at most `columns - 1` columns wide so that the terminal never wraps it (a
 * wrapped line cannot be redrawn in place). `label` (the input last finished) is cut from the left,
 * keeping its end (`…/batch.jsonl:12`); control characters in it are shown as `?`.
 */
export function formatProgress(done: number, total: number, label: string, columns = 80): string {
  const shown = Math.max(0, Math.min(done, total));
  const filled = total > 0 ? Math.floor((shown / total) * BAR_WIDTH) : BAR_WIDTH;
  const head = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${done}/${total}`;
  const clean = label.replace(/\p{Cc}/gu, "?");
  const room = Math.max(0, columns - 1) - head.length - 1;
  if (clean === "" || room < 2) return head.slice(0, Math.max(0, columns - 1));
  return `${head} ${fitFromLeft(clean, room)}`;
}

/** `text` in at most `room` terminal columns: whole if it fits, else `…` and as much of its end as fits. */
function fitFromLeft(text: string, room: number): string {
  const chars = [...text];
  if (width(chars) <= room) return text;
  let kept = 0;
  let start = chars.length;
  while (start > 0 && kept + charWidth(chars[start - 1] ?? "") <= room - 1) {
    start -= 1;
    kept += charWidth(chars[start] ?? "");
  }
  return `…${chars.slice(start).join("")}`;
}

/** East Asian wide and fullwidth characters take two columns (CJK file names are common here). */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

function charWidth(char: string): number {
  return WIDE.test(char) ? 2 : 1;
}

function width(chars: string[]): number {
  return chars.reduce((sum, c) => sum + charWidth(c), 0);
}

/** What the CLI writes while it works: lines on stdout and stderr, and the bar under them when there is one. */
export interface Reporter {
  /** A line on stdout (the summary of one output). */
  out(line: string): void;
  /** A line on stderr (a warning, an error). */
  err(line: string): void;
  /** `done` of `total` finished, the last one being `label`. */
  progress(done: number, total: number, label: string): void;
  /** Removes the bar, if one is drawn. */
  end(): void;
}

interface Terminal {
  write(text: string): unknown;
  columns?: number;
}

/**
 * Lines as they come; with `bar`, a progress bar on `stderr` kept below them (each line is written
 * after erasing the bar, which is then drawn again).
 */
export function createReporter(stdout: Terminal, stderr: Terminal, bar: boolean): Reporter {
  let drawn: string | undefined;
  const erase = () => {
    if (drawn !== undefined) stderr.write(CLEAR_LINE);
  };
  const redraw = () => {
    if (drawn !== undefined) stderr.write(drawn);
  };
  return {
    out(line) {
      erase();
      stdout.write(`${line}\n`);
      redraw();
    },
    err(line) {
      erase();
      stderr.write(`${line}\n`);
      redraw();
    },
    progress(done, total, label) {
      if (!bar) return;
      erase();
      drawn = formatProgress(done, total, label, stderr.columns || 80);
      stderr.write(drawn);
    },
    end() {
      erase();
      drawn = undefined;
    },
  };
}
