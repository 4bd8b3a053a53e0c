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

/** `file:line:column: message`, or `file: message` without a position (the CLI's lines). */
export function formatProblem(p: PackageProblem): string {
  const at = p.line === undefined ? "" : `:${p.line}${p.column === undefined ? "" : `:${p.column}`}`;
  return `${p.file}${at}: ${p.message} [${p.rule}]`;
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
export function positionAt(text: string, offset: number): { line: number; column: number } {
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
