/**
 * Regular expressions in a published schema (`pattern`, `patternProperties`) run on every render's
 * data, synchronously: one with catastrophic backtracking, such as `^(a+)+$`, would hold a render
 * (and its Lambda) long past any deadline. Patterns that repeat a group which itself repeats without
 * bound are refused; they can almost always be written without the nesting.
 */

/** Pointers (in the schema) of patterns with a repeated group that repeats without bound inside. */
export function nestedQuantifiers(schema: unknown, pointer = ""): { pointer: string; pattern: string }[] {
  const found: { pointer: string; pattern: string }[] = [];
  if (Array.isArray(schema)) {
    schema.forEach((item, i) => {
      found.push(...nestedQuantifiers(item, `${pointer}/${i}`));
    });
  } else if (typeof schema === "object" && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      const at = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (key === "pattern" && typeof value === "string" && isNested(value))
        found.push({ pointer: at, pattern: value });
      if (key === "patternProperties" && typeof value === "object" && value !== null) {
        for (const name of Object.keys(value)) {
          if (isNested(name))
            found.push({ pointer: `${at}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`, pattern: name });
        }
      }
      found.push(...nestedQuantifiers(value, at));
    }
  }
  return found;
}

/** A group quantified with *, + or {n,} that holds such a quantifier itself (star height above one). */
export function isNested(pattern: string): boolean {
  // For each open group: whether an unbounded quantifier was seen inside it.
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      continue;
    }
    if (ch === "[") {
      inClass = true;
    } else if (ch === "(") {
      groups.push(false);
    } else if (ch === ")") {
      const innerUnbounded = groups.pop() ?? false;
      const quantifier = unboundedAt(pattern, i + 1);
      if (quantifier && innerUnbounded) return true;
      if ((quantifier || innerUnbounded) && groups.length > 0) groups[groups.length - 1] = true;
    } else if (unboundedAt(pattern, i) && groups.length > 0) {
      groups[groups.length - 1] = true;
    }
  }
  return false;
}

/** Whether an unbounded quantifier (*, +, {n,}) starts at `i`. */
function unboundedAt(pattern: string, i: number): boolean {
  const ch = pattern[i];
  return ch === "*" || ch === "+" || /^\{\d+,\}/.test(pattern.slice(i, i + 12));
}
