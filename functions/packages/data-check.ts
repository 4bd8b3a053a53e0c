import { compilePattern, RefusedPattern } from "../core/input/index.ts";
import type { Untranslatable } from "../core/input/index.ts";
import { checkSchema } from "../core/input/index.ts";
import { JsonSyntaxError, type LocatedJson, parseLocatedJson } from "./json-locate.ts";
import { FILES } from "./layout.ts";
import { MAX_QUOTED, type PackageProblem, problemAt, shorten } from "./problems.ts";
import { schemaPatterns } from "./schema-patterns.ts";

/**
 * The largest schema.json, in characters. A schema's compiled validator grows with it: 100,000 plain
 * properties (2.7 MB) took ajv 16.6 s and 1.2 GB to compile. The built-in templates' schemas are
 * 20–30 KB; the limit is ten times theirs, about 1.5 s of compiling at worst.
 */
const MAX_SCHEMA_CHARS = 256 * 1024;

/**
 * schema.json (a JSON Schema 2020-12 of `data`, compiled by the core's own ajv, so it is checked
 * exactly as renders will check data) and example.json (valid against it: each failure where it is).
 */
export function checkData(
  schemaText: string | undefined,
  exampleText: string | undefined,
): { schema?: object; example?: object; problems: PackageProblem[] } {
  const problems: PackageProblem[] = [];
  if (schemaText !== undefined && schemaText.length > MAX_SCHEMA_CHARS) {
    const message = `has ${schemaText.length} characters; a schema may have at most ${MAX_SCHEMA_CHARS} (its validator grows with it)`;
    return { problems: [{ file: FILES.schema, rule: "schema-too-large", message }] };
  }
  const schemaJson = schemaText === undefined ? undefined : parse(FILES.schema, schemaText, problems);
  const exampleJson = exampleText === undefined ? undefined : parse(FILES.example, exampleText, problems);
  let schema: object | undefined;
  if (schemaJson && schemaText !== undefined) {
    if (typeof schemaJson.value !== "object" || schemaJson.value === null || Array.isArray(schemaJson.value)) {
      problems.push({
        file: FILES.schema,
        line: 1,
        column: 1,
        rule: "schema-invalid",
        message: "a JSON Schema is an object",
      });
    } else {
      schema = schemaJson.value;
      const refused = refusedPatterns(schemaText, schemaJson, problems);
      try {
        checkSchema(schema, {}); // compiles it (once: the core caches it by object)
      } catch (e) {
        // The engine refuses the first pattern it cannot run; each such pattern is shown already.
        if (!(e instanceof RefusedPattern && refused.has(e.pattern)))
          problems.push(schemaProblem(schemaText, schemaJson, e));
        schema = undefined;
      }
    }
  }
  let example: object | undefined;
  if (exampleJson && exampleText !== undefined) {
    const value = exampleJson.value;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.push(problemAt(FILES.example, exampleText, 0, "example-invalid", "the example data is an object"));
    } else if (schema) {
      const issues = checkSchema(schema, value);
      if (issues.length === 0) example = value;
      for (const issue of issues) {
        const shown = issue.expected === undefined ? "" : ` (expected ${JSON.stringify(issue.expected)})`;
        problems.push(
          problemAt(
            FILES.example,
            exampleText,
            exampleJson.offsetOf(issue.path),
            "example-invalid",
            `${issue.path || "/"} ${issue.message}${shown}`,
          ),
        );
      }
    }
  }
  return { schema, example, problems };
}

/**
 * Patterns run on RE2 (`functions/core/re2-engine.ts`), in time linear in the data: each pattern it
 * cannot run (a lookaround, a backreference…) is refused where it is, with what to write instead.
 */
function refusedPatterns(text: string, json: LocatedJson, problems: PackageProblem[]): Set<string> {
  const refused = new Set<string>();
  for (const { pointer, pattern } of schemaPatterns(json.value)) {
    const refusal = patternRefusal(pattern);
    if (!refusal) continue;
    refused.add(pattern);
    const { reason, instead, index } = refusal;
    const where = index === undefined ? "" : ` (at its character ${index + 1})`;
    problems.push(
      problemAt(
        FILES.schema,
        text,
        json.offsetOf(pointer),
        "schema-pattern",
        `the pattern ${JSON.stringify(shorten(pattern, MAX_QUOTED))}${where}: ${reason}; ${instead}`,
      ),
    );
  }
  return refused;
}

/**
 * The most steps a package's pattern may take for each character (about RE2's instructions). RE2's
 * time is linear in the text, but times the steps when the text is built to defeat its DFA:
 * `a[ab]{296}[cd]` (300 steps) over 5 MB of random a and b took 12–21 s, 104 steps 0.5 s. Ordinary
 * patterns are smaller (the service's own are 3 to 128 steps, `^[a-z0-9-]{1,63}$` 128, besides the
 * PDF filename's 407); counted repeats such as {1,500} are what make a pattern large, and
 * "maxLength" bounds a length for free.
 */
const MAX_PATTERN_STEPS = 128;

/** Why a package may not have `pattern`: the engine cannot run it, or it is too large. */
function patternRefusal(pattern: string): Untranslatable | undefined {
  try {
    compilePattern(pattern, MAX_PATTERN_STEPS);
    return undefined;
  } catch (e) {
    if (e instanceof RefusedPattern) return e.refusal;
    throw e;
  }
}

function parse(file: string, text: string, problems: PackageProblem[]): LocatedJson | undefined {
  try {
    return parseLocatedJson(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    problems.push(problemAt(file, text, e.offset, "json", `not valid JSON: ${e.message}`));
    return undefined;
  }
}

/**
 * ajv says where a schema is wrong as `data/properties/x/type` (a path in the schema) or names an
 * unknown keyword; either is found in the file.
 */
function schemaProblem(text: string, json: LocatedJson, e: unknown): PackageProblem {
  const message = (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
  // "schema is invalid: data/properties/x/type must be…", "strict mode: … at \"#/properties/x\""
  const path = /\bdata(\/[^\s,]*)/.exec(message)?.[1] ?? /at "#(\/[^"]*)"/.exec(message)?.[1];
  const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
  let offset: number | undefined;
  if (path !== undefined) offset = json.offsetOf(path);
  else if (keyword !== undefined) {
    const at = text.search(new RegExp(`"${keyword.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"\\s*:`));
    offset = at < 0 ? undefined : at;
  }
  const rule = "schema-invalid";
  const text1 = `not a valid JSON Schema (2020-12): ${message}`;
  return offset === undefined
    ? { file: FILES.schema, rule, message: text1 }
    : problemAt(FILES.schema, text, offset, rule, text1);
}
