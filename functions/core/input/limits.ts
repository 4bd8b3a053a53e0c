import { LimitError } from "../errors.ts";
import type { Issue } from "../types.ts";
import { escapePointer } from "./validate.ts";

/**
 * What one render may cost. Every limit is checked before the work it bounds: the input's shape
 * before the JSON Schema (whose cost grows with the number of values and their depth), the page
 * count while printing (Chromium prints no more than one page past it), the time throughout.
 * The doors hand these in from their settings; the core reads no environment.
 */
export interface RenderLimits {
  /** Refuse a report longer than this many pages. */
  maxPages: number;
  /** Give up after this long: validation, templating, waiting for a page and printing, all together. */
  renderTimeoutMs: number;
  /** Arrays and objects nested deeper than this are refused (recursive templates and validators need a floor). */
  maxJsonDepth: number;
  /** Values (strings, numbers, …, arrays, objects) in one envelope: bounds validation and layout time. */
  maxJsonValues: number;
}

export const defaultLimits: RenderLimits = {
  maxPages: 500,
  renderTimeoutMs: 50_000,
  maxJsonDepth: 64,
  maxJsonValues: 100_000,
};

/**
 * One pass over a parsed envelope, before anything else looks at it:
 * - refuses input nested deeper than `maxJsonDepth` or holding more than `maxJsonValues` values
 *   (a LimitError naming the first place it is exceeded);
 * - replaces unpaired UTF-16 surrogates ("\ud83d" in JSON is legal but names no character, and
 *   nothing downstream can encode it) with U+FFFD, returning a warning for each place.
 * Iterative, so no input can overflow the stack; stops at the first limit.
 */
export function checkInputShape(root: unknown, limits: RenderLimits): { value: unknown; warnings: Issue[] } {
  const warnings: Issue[] = [];
  const fix = (text: string, path: string): string => {
    if (text.isWellFormed()) return text;
    if (warnings.length < 100) {
      warnings.push({
        rule: "text-encoding",
        path,
        message: "holds an unpaired UTF-16 surrogate, which is no character; it was replaced with U+FFFD (�)",
      });
    }
    return text.toWellFormed();
  };
  const tooMany = (path: string) =>
    new LimitError(
      "jsonValues",
      `the input holds more than ${limits.maxJsonValues} values (strings, numbers, arrays, objects); split it into several reports`,
      path,
    );
  // Values are counted as a container is opened, before its children are queued: a 5 MB array of
  // 2.6 million numbers is refused having looked at its length, not after queuing them all.
  let values = 1;
  const stack: { value: unknown; path: string; depth: number; set: (v: unknown) => void }[] = [
    { value: root, path: "", depth: 0, set: (v) => (root = v) },
  ];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, path, depth, set } = next;
    if (typeof value === "string") {
      const fixed = fix(value, path);
      if (fixed !== value) set(fixed);
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= limits.maxJsonDepth) {
      throw new LimitError("jsonDepth", `the input is nested more than ${limits.maxJsonDepth} levels deep`, path);
    }
    // Children are pushed last first, so they are visited (and reported) in document order.
    if (Array.isArray(value)) {
      values += value.length;
      if (values > limits.maxJsonValues) throw tooMany(path);
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i], path: `${path}/${i}`, depth: depth + 1, set: (v) => (value[i] = v) });
      }
      continue;
    }
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    values += keys.length;
    if (values > limits.maxJsonValues) throw tooMany(path);
    for (const key of keys.reverse()) {
      const safeKey = fix(key, `${path}/${escapePointer(key.toWellFormed())}`);
      if (safeKey !== key) {
        object[safeKey] = object[key];
        delete object[key];
      }
      const at = `${path}/${escapePointer(safeKey)}`;
      stack.push({ value: object[safeKey], path: at, depth: depth + 1, set: (v) => (object[safeKey] = v) });
    }
  }
  return { value: root, warnings };
}
