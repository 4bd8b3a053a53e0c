import { checkSchema } from "../core/validate.ts";
import { JsonSyntaxError, type LocatedJson, parseLocatedJson } from "./json-locate.ts";
import { FILES } from "./layout.ts";
import { type PackageProblem, problemAt } from "./problems.ts";
import { nestedQuantifiers } from "./schema-patterns.ts";

/**
 * schema.json (a JSON Schema 2020-12 of `data`, compiled by the core's own ajv, so it is checked
 * exactly as renders will check data) and example.json (valid against it: each failure where it is).
 */
export function checkData(
  schemaText: string | undefined,
  exampleText: string | undefined,
): { schema?: object; example?: object; problems: PackageProblem[] } {
  const problems: PackageProblem[] = [];
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
      for (const nested of nestedQuantifiers(schema)) {
        problems.push(
          problemAt(
            FILES.schema,
            schemaText,
            schemaJson.offsetOf(nested.pointer),
            "schema-pattern",
            `the pattern ${JSON.stringify(nested.pattern)} repeats a group that repeats without bound: on some text it would take exponential time; write it without the nesting`,
          ),
        );
      }
      try {
        checkSchema(schema, {}); // compiles it (once: the core caches it by object)
      } catch (e) {
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
