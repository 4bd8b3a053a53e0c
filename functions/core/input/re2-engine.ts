import type { RegExpEngine, RegExpLike } from "ajv/dist/types/index.js";
import { RE2JS } from "re2js";
import { type Untranslatable, translateEcmaPattern } from "./ecma-pattern.ts";

/**
 * Every schema `pattern` and `patternProperties` runs here: on RE2 (re2js), which never backtracks,
 * so its time grows with the text, whatever the pattern. A backtracking engine took 117 s for
 * `^(a|a)*$` on 34 letters and a "!", and a template package's schema is written by whoever
 * publishes it. Patterns keep ECMAScript's meaning (ecma-pattern.ts); what RE2 cannot run
 * (lookarounds, backreferences) is refused when the schema is compiled.
 */

/**
 * The most steps (about RE2's instructions) of a pattern in any schema, counted before compiling:
 * compiling takes time and memory in proportion (a million steps, 3 s and 450 MB). The built-in
 * schemas' largest pattern has about 400; a package's may have 300 (`data-check.ts`).
 */
const MAX_STEPS = 5000;

/** A pattern the engine does not run: why, and what to write instead. */
export class RefusedPattern extends Error {
  override readonly name = "RefusedPattern";
  constructor(
    readonly pattern: string,
    readonly refusal: Untranslatable,
  ) {
    super(`the pattern ${JSON.stringify(pattern.slice(0, 200))}: ${refusal.reason}; ${refusal.instead}`);
  }
}

/** The pattern compiled for RE2, or a RefusedPattern saying why not. */
export function compilePattern(pattern: string, maxSteps = MAX_STEPS): RE2JS {
  try {
    new RegExp(pattern, "u"); // JSON Schema's definition of a pattern: ECMA-262 with `u` (only parsed)
  } catch (e) {
    const detail = (e as Error).message.split(": ").at(-1) ?? "";
    throw new RefusedPattern(pattern, {
      reason: `it is not an ECMAScript regular expression (${detail.slice(0, 100)})`,
      instead: "write it as JavaScript's RegExp with the u flag reads it",
    });
  }
  const translated = translateEcmaPattern(pattern);
  if ("refused" in translated) throw new RefusedPattern(pattern, translated.refused);
  if (translated.steps > maxSteps)
    throw new RefusedPattern(pattern, {
      reason: `it takes up to ${translated.steps} steps for each character of the text, more than the ${maxSteps} allowed`,
      instead: 'bound lengths with "minLength"/"maxLength" rather than long counted repeats such as {1,250}',
    });
  try {
    return RE2JS.compile(translated.re2);
  } catch (e) {
    throw new RefusedPattern(pattern, re2Refusal((e as Error).message));
  }
}

/** Why RE2 refused what the translation let through (repeats that multiply past its limit, mostly). */
function re2Refusal(message: string): Untranslatable {
  if (/too large/.test(message))
    return { reason: "it is too large for RE2 (the engine patterns run on)", instead: "write a shorter pattern" };
  if (/repeat count/.test(message))
    return {
      reason: "its repeats multiply past the 1000 repetitions RE2 (the engine patterns run on) allows",
      instead: 'bound lengths with "minLength"/"maxLength" rather than nested counted repeats',
    };
  if (/nesting depth/.test(message))
    return { reason: "its groups are nested too deeply", instead: "write it with fewer nested groups" };
  return {
    reason: `RE2 (the engine patterns run on) cannot read it (${message.slice(0, 100)})`,
    instead: "simplify it",
  };
}

/**
 * ajv's `code.regExp`: called with a schema's pattern and the flags ("u": ajv's unicodeRegExp,
 * on by default). ajv keys compiled patterns by `toString()`, so it must differ between patterns;
 * `code` is read only when ajv writes standalone validation code, which this service never does.
 */
export const re2RegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string): RegExpLike => {
    if (flags !== "u") throw new Error(`schema patterns are read with the u flag, not "${flags}"`);
    return new Re2Pattern(pattern, compilePattern(pattern));
  },
  { code: 'require("./functions/core/re2-engine.ts").re2RegExp' },
);

class Re2Pattern implements RegExpLike {
  constructor(
    private readonly source: string,
    private readonly re: RE2JS,
  ) {}

  test(text: string): boolean {
    return this.re.test(text);
  }

  toString(): string {
    return `/${this.source}/u`;
  }
}
