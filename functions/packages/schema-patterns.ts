import { escapePointer } from "../core/input/index.ts";

/**
 * Where a schema's regular expressions are: `pattern` values and `patternProperties` names. The
 * package check tries each on the linear-time engine first, so that one it cannot run is shown at
 * its place in schema.json (ajv, compiling, stops at the first and does not say where it was).
 */
export interface SchemaPattern {
  /** JSON Pointer of the `pattern` member, or of the name in `patternProperties`. */
  pointer: string;
  pattern: string;
}

/** Keywords whose members are schemas by name (the names are data's, never keywords). */
const NAMED_SCHEMAS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
/** Keywords whose values are data: a "pattern" inside one is no pattern. */
const DATA_VALUES = new Set(["const", "enum", "default", "examples"]);

export function schemaPatterns(schema: unknown): SchemaPattern[] {
  const found: SchemaPattern[] = [];
  const visit = (node: unknown, pointer: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        visit(item, `${pointer}/${i}`);
      });
      return;
    }
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      const member = `${pointer}/${escapePointer(key)}`;
      if (DATA_VALUES.has(key)) continue;
      if (key === "pattern" && typeof value === "string") {
        found.push({ pointer: member, pattern: value });
      } else if (NAMED_SCHEMAS.has(key) && typeof value === "object" && value !== null && !Array.isArray(value)) {
        for (const [name, subschema] of Object.entries(value)) {
          const named = `${member}/${escapePointer(name)}`;
          if (key === "patternProperties") found.push({ pointer: named, pattern: name });
          visit(subschema, named);
        }
      } else {
        visit(value, member);
      }
    }
  };
  visit(schema, "");
  return found;
}
