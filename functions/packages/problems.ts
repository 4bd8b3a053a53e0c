/**
 * One thing wrong with a template package: the file it is in (a path inside the package, or
 * PACKAGE for the package as a whole), where in that file when one place is to blame (1-based), the
 * rule it breaks and what to do about it.
 */
export interface PackageProblem {
  file: string;
  line?: number;
  column?: number;
  rule: string;
  message: string;
}

/** The `file` of a problem with the package as a whole (not a zip, too large, no template.json…). */
export const PACKAGE = "(package)";

/**
 * The most characters of a name or value from the input that a problem shows (a package's names
 * have at most 200, so a name that fits the layout is shown whole): a zip may hold names of 65,535
 * bytes, and a refusal must stay small.
 */
export const MAX_QUOTED = 200;
/** The most characters of one problem's message (room for the longest the checks write, which list the helpers). */
export const MAX_MESSAGE = 1000;

/** `text` at most `max` UTF-16 units long: a longer one keeps its start and end, "…" between them. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = max - 1;
  let head = Math.ceil(kept / 2);
  let tail = text.length - (kept - head);
  // Never half a surrogate pair on either side of the cut.
  if (isLowSurrogate(text.charCodeAt(head))) head--;
  if (isLowSurrogate(text.charCodeAt(tail))) tail++;
  return `${text.slice(0, head)}…${text.slice(tail)}`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The bidirectional controls (a class's contents): they reorder what a terminal or a viewer shows. */
export const BIDI_CONTROLS = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";

/**
 * `text` with control and bidirectional characters written as `\uXXXX`: a name in a zip or a folder
 * may hold an escape sequence, a newline or a right-to-left override, which must not reach a
 * terminal as such (nor start a line of its own, nor reorder what is printed).
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const UNPRINTABLE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${BIDI_CONTROLS}]`, "g");

/**
 * `file:line:column: message`, or `file: message` without a position (the CLI's lines): one line
 * per problem, whatever a name holds, and long names shortened.
 */
export function formatProblem(p: PackageProblem): string {
  const at = p.line === undefined ? "" : `:${p.line}${p.column === undefined ? "" : `:${p.column}`}`;
  const file = printable(shorten(p.file, MAX_QUOTED));
  return `${file}${at}: ${printable(shorten(p.message, MAX_MESSAGE))} [${p.rule}]`;
}

/** Problems in a stable order: by file (the package first), then by position. */
export function sortProblems(problems: PackageProblem[]): PackageProblem[] {
  const rank = (file: string) => (file === PACKAGE ? "" : file);
  return [...problems].sort(
    (a, b) =>
      rank(a.file).localeCompare(rank(b.file)) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
}

/** 1-based line and column of a UTF-16 offset in `text`. */
function positionAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/** A problem at `offset` of `text` in `file`. */
export function problemAt(file: string, text: string, offset: number, rule: string, message: string): PackageProblem {
  return { file, ...positionAt(text, offset), rule, message };
}
