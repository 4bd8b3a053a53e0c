import { Ajv2020, type CodeKeywordDefinition, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule, { type FormatsPlugin } from "ajv-formats";
import { linearFormats } from "./linear-formats.ts";
import { re2RegExp } from "./re2-engine.ts";
import type { Issue } from "../types.ts";
import { uniqueItems } from "./unique-items.ts";

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext resolution.
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

// One instance for the built-in schemas and the packages' alike; nothing in it may take more than
// linear time on the data, whoever wrote the schema:
// - patterns run on RE2 (re2-engine.ts);
// - addUsedSchema off: schemas are cached by object (below), so two registries may load schemas
//   with the same $id;
// - allowMatchingProperties: strict mode would otherwise test each name in `properties` against each
//   `patternProperties` with a backtracking RegExp while compiling (a name of 34 "a" and a "!"
//   against `^(a|a)*$`: minutes). Such a schema is valid JSON Schema, and its example must still
//   validate against it.
const ajv = new Ajv2020({
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  addUsedSchema: false,
  allowMatchingProperties: true,
  code: { regExp: re2RegExp },
});
addFormats(ajv);
for (const [name, format] of Object.entries(linearFormats(addFormats.get))) ajv.addFormat(name, format);
replaceKeyword(uniqueItems);

/** ajv's keyword of the same name replaced by `definition`, evaluated where it was (so errors keep their order). */
function replaceKeyword(definition: CodeKeywordDefinition): void {
  const keyword = definition.keyword as string;
  const group = ajv.RULES.rules.find((g) => g.rules.some((rule) => rule.keyword === keyword));
  const rules = group?.rules ?? [];
  const next = rules[rules.findIndex((rule) => rule.keyword === keyword) + 1]?.keyword;
  ajv.removeKeyword(keyword);
  ajv.addKeyword(next === undefined ? definition : { ...definition, before: next });
}

const compiled = new WeakMap<object, ValidateFunction>();

/** Compile a JSON Schema once (per schema object) and check `value` against it; every error is listed. */
export function checkSchema(schema: object, value: unknown, basePath = ""): Issue[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).filter(isReportable).map((e) => toIssue(e, basePath, value));
}

// allErrors also reports the "if" branch that selected a "then"; it carries no information.
function isReportable(e: ErrorObject): boolean {
  return e.keyword !== "if";
}

function toIssue(e: ErrorObject, basePath: string, root: unknown): Issue {
  const params = e.params as Record<string, unknown>;
  let path = basePath + e.instancePath;
  let message = e.message ?? "is invalid";
  const issue: Issue = { rule: "schema", path, message };
  switch (e.keyword) {
    case "required":
      path += `/${escapePointer(String(params.missingProperty))}`;
      message = "is required";
      break;
    case "additionalProperties":
      path += `/${escapePointer(String(params.additionalProperty))}`;
      message = "is not allowed here";
      break;
    case "enum":
      issue.expected = params.allowedValues;
      break;
    case "const":
      issue.expected = params.allowedValue;
      break;
    case "type":
      issue.expected = params.type;
      break;
  }
  const actual = valueAt(root, e.instancePath);
  if (e.keyword !== "required" && e.keyword !== "additionalProperties" && isPrimitive(actual)) {
    issue.actual = actual;
  }
  issue.path = path;
  issue.message = message;
  return issue;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function isPrimitive(v: unknown): v is string | number | boolean | null {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}
