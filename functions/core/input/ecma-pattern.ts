/**
 * JSON Schema patterns are ECMA-262 regular expressions (with the `u` flag); they run on RE2, which
 * cannot backtrack. This writes an ECMAScript pattern in RE2's syntax with the same meaning, or says
 * which part RE2 cannot run. RE2 reads some things differently, so nothing is passed through as
 * written: `\s` and `.` are spelled out (RE2's `\s` is ASCII only, its `.` matches `\r`), literals
 * become `\x{…}`, and classes are rebuilt (RE2 reads `[]a]` as one class, `[[:alpha:]]` as POSIX).
 */

/** What RE2 cannot run: where in the pattern (a UTF-16 index) when one place is to blame, why, and what to write instead. */
export interface Untranslatable {
  index?: number;
  reason: string;
  instead: string;
}

/**
 * `steps`: about the instructions RE2 compiles the pattern to (a character or class one, repeats
 * multiplying), known before compiling it: a pattern of 7 KB can compile to a million (3 s, 450 MB).
 */
export type Translation = { re2: string; steps: number } | { refused: Untranslatable };

type Range = readonly [number, number];

/** ECMAScript's WhiteSpace and LineTerminator: `\s`, with or without `u`. */
const ECMA_SPACE: readonly Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const LINE_TERMINATORS: readonly Range[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];
const MAX_CODE_POINT = 0x10ffff;
/** RE2's most repetitions of one thing (nested repeats multiply). */
const MAX_REPEAT = 1000;

/** RE2's general categories: ECMAScript's short names less C (it counts unassigned code points, RE2's does not). */
const CATEGORIES = new Set(
  "Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs".split(" "),
);
/** RE2 knows scripts by their long names (Han, Latin), as ECMAScript does besides the four-letter codes. */
const SCRIPT_NAME = /^[A-Z][A-Za-z_]+$/;

/** Why RE2 runs patterns, said with each thing it cannot run. */
const NOT_LINEAR =
  "cannot run on the engine that patterns run on (RE2, which never backtracks, so no data can make a pattern slow)";
const LOOKAROUND_INSTEAD =
  'express the condition in the schema: "allOf" with one pattern per thing the text must contain, "not": { "pattern": … } for what it must not';

export function translateEcmaPattern(pattern: string): Translation {
  let at = 0;
  let out = "";
  const steps = new StepCount();
  const refuse = (index: number, reason: string, instead: string): Translation => ({
    refused: { index, reason, instead },
  });

  while (at < pattern.length) {
    const start = at;
    const ch = pattern[at] as string;
    if (ch === "\\") {
      const escaped = escapeOutsideClass(pattern, at + 1);
      if ("refused" in escaped) return escaped;
      out += escaped.re2;
      at = escaped.end;
      steps.atom();
    } else if (ch === "[") {
      const cls = readClass(pattern, at + 1);
      if ("refused" in cls) return cls;
      out += cls.re2;
      at = cls.end;
      steps.atom();
    } else if (ch === "(") {
      const group = /^\(\?(?::|=|!|<=|<!|<[^>]*>)?/.exec(pattern.slice(at, at + 200))?.[0] ?? "(";
      if (group === "(?=" || group === "(?!")
        return refuse(start, `a lookahead "${group}" ${NOT_LINEAR}`, LOOKAROUND_INSTEAD);
      if (group === "(?<=" || group === "(?<!")
        return refuse(start, `a lookbehind "${group}" ${NOT_LINEAR}`, LOOKAROUND_INSTEAD);
      if (group === "(?")
        return refuse(start, `the group "${pattern.slice(at, at + 4)}…" is not supported`, "use (…) or (?:…)");
      out += "(?:"; // nothing reads the groups: a test only asks whether the text matches
      at += group.length;
      steps.open();
    } else if (ch === "{") {
      const repeat = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at, at + 40));
      if (!repeat) return refuse(start, "a repeat count too long to read", "write a count of at most 1000");
      const counts = [repeat[1], repeat[3]].filter((c): c is string => c !== undefined && c !== "");
      if (counts.some((c) => Number(c) > MAX_REPEAT))
        return refuse(
          start,
          `the repeat ${repeat[0]} is over ${MAX_REPEAT}, the most RE2 (the engine patterns run on) allows`,
          'bound the length with "minLength"/"maxLength" instead of a count',
        );
      out += repeat[0];
      at += repeat[0].length;
      steps.repeat(
        Number(repeat[1]),
        repeat[2] === undefined ? Number(repeat[1]) : repeat[3] ? Number(repeat[3]) : undefined,
      );
    } else if (ch === ".") {
      out += classOf(complement(LINE_TERMINATORS));
      at++;
      steps.atom();
    } else if ("^$|)*+?".includes(ch)) {
      if (ch === "^" || ch === "$") steps.atom();
      else if (ch === "|") steps.alternative();
      else if (ch === ")") steps.close();
      else if (ch === "?") steps.optionalOrLazy();
      else steps.repeat(ch === "+" ? 1 : 0, undefined);
      out += ch;
      at++;
    } else {
      const cp = pattern.codePointAt(at) as number;
      out += literal(cp);
      at += cp > 0xffff ? 2 : 1;
      steps.atom();
    }
  }
  return { re2: out, steps: steps.total() };
}

/** The steps of a pattern as it is read: each group's, and the last thing a repeat would apply to. */
class StepCount {
  private readonly groups: { total: number; last: number }[] = [{ total: 0, last: 0 }];
  /** Whether a repeat was the last thing read: a "?" after one makes it lazy, and costs nothing. */
  private afterRepeat = false;

  private get current() {
    return this.groups[this.groups.length - 1] as { total: number; last: number };
  }

  atom(): void {
    this.afterRepeat = false;
    this.current.total += 1;
    this.current.last = 1;
  }

  alternative(): void {
    this.afterRepeat = false;
    this.current.total += 1;
    this.current.last = 0;
  }

  open(): void {
    this.afterRepeat = false;
    this.groups.push({ total: 0, last: 0 });
  }

  close(): void {
    this.afterRepeat = false;
    const inner = this.groups.pop()?.total ?? 0;
    this.current.total += inner;
    this.current.last = inner;
  }

  optionalOrLazy(): void {
    if (this.afterRepeat) this.afterRepeat = false;
    else this.repeat(0, 1);
  }

  /** `{min,max}` (max undefined: without bound) on the last thing read, as RE2 unrolls it. */
  repeat(min: number, max: number | undefined): void {
    this.afterRepeat = true;
    const one = this.current.last;
    const repeated = max === undefined ? Math.max(min, 1) * one + 1 : min * one + (max - min) * (one + 1);
    this.current.total += repeated - one;
    this.current.last = repeated;
  }

  /** With RE2's two of every program (its start and its match). */
  total(): number {
    return (this.groups[0]?.total ?? 0) + 2;
  }
}

/** RE2 text, and where in the pattern what it translates ends. */
type Piece = { re2: string; end: number } | { refused: Untranslatable };
/**
 * What an escape means: one code point, a set of ranges, or RE2 text that means the same inside a
 * class and outside (`\d`, `\p{L}`).
 */
type Escape = { cp?: number; ranges?: Range[]; re2?: string; end: number } | { refused: Untranslatable };

/** The escape whose letter is at `at` (after the backslash), outside a class. */
function escapeOutsideClass(pattern: string, at: number): Piece {
  const piece = readEscape(pattern, at, false);
  if ("refused" in piece) return piece;
  if (piece.cp !== undefined) return { re2: literal(piece.cp), end: piece.end };
  if (piece.ranges) return { re2: classOf(piece.ranges), end: piece.end };
  return { re2: piece.re2 as string, end: piece.end };
}

/** The escape whose letter is at `at` (after the backslash); `inClass`, where `\b` is a backspace. */
function readEscape(pattern: string, at: number, inClass: boolean): Escape {
  const letter = pattern[at] ?? "";
  const end = at + 1;
  const refused = (reason: string, instead: string): Escape => ({
    refused: { index: at - 1, reason, instead },
  });
  switch (letter) {
    case "d":
    case "D":
    case "w":
    case "W":
      return { re2: `\\${letter}`, end }; // ASCII digits and word characters in both
    case "s":
      return { ranges: [...ECMA_SPACE], end };
    case "S":
      return { ranges: complement(ECMA_SPACE), end };
    case "b":
      return inClass ? { cp: 0x08, end } : { re2: "\\b", end };
    case "B":
      return { re2: "\\B", end };
    case "f":
      return { cp: 0x0c, end };
    case "n":
      return { cp: 0x0a, end };
    case "r":
      return { cp: 0x0d, end };
    case "t":
      return { cp: 0x09, end };
    case "v":
      return { cp: 0x0b, end };
    case "0":
      return { cp: 0, end };
    case "c":
      return { cp: (pattern.charCodeAt(end) as number) % 32, end: end + 1 };
    case "x":
      return { cp: Number.parseInt(pattern.slice(end, end + 2), 16), end: end + 2 };
    case "u":
      return unicodeEscape(pattern, end);
    case "k":
      return refused(`a backreference (\\k<…>) ${NOT_LINEAR}`, "write out the alternatives the repeat may take");
    case "p":
    case "P":
      return property(pattern, at, letter);
  }
  if (/[1-9]/.test(letter))
    return refused(
      `a backreference (\\${letter}) ${NOT_LINEAR}`,
      "write out the alternatives the repeat may take (([ab])\\1 as (aa|bb))",
    );
  // An escaped syntax character, "/" or (in a class) "-": itself.
  return { cp: pattern.codePointAt(at) as number, end: at + (letter.length || 1) };
}

/** `\uXXXX` (a surrogate pair of two is one code point) or `\u{X…}`; `at` is after the "u". */
function unicodeEscape(pattern: string, at: number): Escape {
  if (pattern[at] === "{") {
    const close = pattern.indexOf("}", at);
    return { cp: Number.parseInt(pattern.slice(at + 1, close), 16), end: close + 1 };
  }
  const high = Number.parseInt(pattern.slice(at, at + 4), 16);
  const next = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(pattern.slice(at + 4, at + 10));
  if (high >= 0xd800 && high <= 0xdbff && next) {
    const low = Number.parseInt(next[1] as string, 16);
    return { cp: 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00), end: at + 10 };
  }
  return { cp: high, end: at + 4 };
}

/** `\p{…}`/`\P{…}` at `at` (the letter): general categories and scripts RE2 knows under the same name. */
function property(pattern: string, at: number, letter: string): Escape {
  const close = pattern.indexOf("}", at);
  const body = pattern.slice(at + 2, close);
  const [name, value] = body.includes("=") ? (body.split("=") as [string, string]) : ["", body];
  const category = (name === "" || name === "gc" || name === "General_Category") && CATEGORIES.has(value);
  const script = (name === "sc" || name === "Script") && SCRIPT_NAME.test(value);
  if (category || script || (name === "" && value === "Any")) return { re2: `\\${letter}{${value}}`, end: close + 1 };
  return {
    refused: {
      index: at - 1,
      reason: `the property \\${letter}{${body}} is not one RE2 (the engine patterns run on) knows`,
      instead:
        "name a general category by its short name (\\p{L}, \\p{Lu}, \\p{Nd}) or a script by its long name (\\p{Han}, \\p{Latin})",
    },
  };
}

/** A class whose contents start at `at` (after the "["). */
function readClass(pattern: string, at: number): Piece {
  let i = at;
  const negated = pattern[i] === "^";
  if (negated) i++;
  const ranges: Range[] = [];
  const verbatim: string[] = []; // \d, \w, \p{…}: RE2 reads them inside a class as ECMAScript does
  const atom = (): Escape => {
    if (pattern[i] === "\\") return readEscape(pattern, i + 1, true);
    const cp = pattern.codePointAt(i) as number;
    return { cp, end: i + (cp > 0xffff ? 2 : 1) };
  };
  while (i < pattern.length && pattern[i] !== "]") {
    const first = atom();
    if ("refused" in first) return first;
    i = first.end;
    if (first.cp !== undefined && pattern[i] === "-" && pattern[i + 1] !== "]" && i + 1 < pattern.length) {
      i++;
      const last = atom();
      if ("refused" in last) return last;
      i = last.end;
      ranges.push([first.cp, last.cp as number]);
    } else if (first.cp !== undefined) ranges.push([first.cp, first.cp]);
    else if (first.ranges) ranges.push(...first.ranges);
    else verbatim.push(first.re2 as string);
  }
  const end = i + 1;
  if (ranges.length === 0 && verbatim.length === 0)
    // [] matches nothing, [^] any character; RE2 would read "]" as the first member.
    return { re2: negated ? classOf([[0, MAX_CODE_POINT]]) : `[^${rangeText([[0, MAX_CODE_POINT]])}]`, end };
  return { re2: `[${negated ? "^" : ""}${rangeText(ranges)}${verbatim.join("")}]`, end };
}

function classOf(ranges: readonly Range[]): string {
  return `[${rangeText(ranges)}]`;
}

function rangeText(ranges: readonly Range[]): string {
  return ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join("");
}

/** The code points not in `ranges` (sorted, not overlapping). */
function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [a, b] of ranges) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function literal(cp: number): string {
  return /[A-Za-z0-9]/.test(String.fromCodePoint(cp)) ? String.fromCodePoint(cp) : hex(cp);
}

function hex(cp: number): string {
  return `\\x{${cp.toString(16)}}`;
}
