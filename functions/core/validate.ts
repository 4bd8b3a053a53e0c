import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule, { type FormatsPlugin } from "ajv-formats";
import type { Issue } from "./types.ts";

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext resolution.
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

// addUsedSchema off: schemas are cached by object (below), so two registries may load schemas with the same $id.
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, addUsedSchema: false });
addFormats(ajv);

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
