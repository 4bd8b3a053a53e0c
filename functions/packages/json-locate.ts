import { escapePointer } from "../core/input/index.ts";

/**
 * JSON read with the place of every value, so that a problem found by JSON Pointer (an ajv error in
 * example.json, a wrong field in template.json) can be shown at its line and column. The value
 * itself comes from JSON.parse, which this scanner only precedes: it checks the syntax the same way
 * and says where it breaks.
 */
export interface LocatedJson {
  value: unknown;
  /** The offset of the value at `pointer`, or of the nearest enclosing one that exists. */
  offsetOf(pointer: string): number;
}

export class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Nesting deeper than this is refused (the scanner recurses; data this deep cannot be rendered anyway). */
const MAX_DEPTH = 200;

export function parseLocatedJson(text: string): LocatedJson {
  const offsets = new Map<string, number>();
  let at = text.startsWith("\uFEFF") ? 1 : 0;

  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, Math.min(at, text.length));
  };
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at] as string)) at++;
  };
  const expect = (ch: string) => {
    if (text[at] !== ch) fail(at >= text.length ? `expected "${ch}", found the end of the file` : `expected "${ch}"`);
    at++;
  };
  const string = (): string => {
    const start = at;
    expect('"');
    while (at < text.length && text[at] !== '"') {
      const code = text.charCodeAt(at);
      if (code < 0x20) fail("a control character inside a string (write it as an escape such as \\n)");
      if (text[at] === "\\") {
        at++;
        if (text[at] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail("a \\u escape needs four hex digits");
          at += 4;
        } else if (!'"\\/bfnrt'.includes(text[at] ?? "x")) {
          fail("an unknown escape in a string");
        }
      }
      at++;
    }
    expect('"');
    return JSON.parse(text.slice(start, at)) as string;
  };
  const value = (pointer: string, depth: number): void => {
    if (depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep`);
    space();
    if (!offsets.has(pointer)) offsets.set(pointer, at);
    const ch = text[at];
    if (ch === "{") {
      at++;
      space();
      if (text[at] === "}") {
        at++;
        return;
      }
      for (;;) {
        space();
        const keyAt = at;
        if (text[at] !== '"') fail("expected a property name in double quotes");
        const member = `${pointer}/${escapePointer(string())}`;
        offsets.set(member, keyAt);
        space();
        expect(":");
        value(member, depth + 1);
        offsets.set(member, keyAt);
        space();
        if (text[at] === ",") {
          at++;
          continue;
        }
        expect("}");
        return;
      }
    }
    if (ch === "[") {
      at++;
      space();
      if (text[at] === "]") {
        at++;
        return;
      }
      for (let i = 0; ; i++) {
        value(`${pointer}/${i}`, depth + 1);
        space();
        if (text[at] === ",") {
          at++;
          continue;
        }
        expect("]");
        return;
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(at, at + 400));
    if (!literal) fail(at >= text.length ? "unexpected end of the file" : "not a JSON value");
    at += (literal as RegExpExecArray)[0].length;
  };

  value("", 0);
  space();
  if (at < text.length) fail("unexpected text after the JSON value");
  const parsed = JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text) as unknown;
  return {
    value: parsed,
    offsetOf(pointer) {
      for (let p = pointer; ; p = p.slice(0, p.lastIndexOf("/"))) {
        const found = offsets.get(p);
        if (found !== undefined) return found;
        if (p === "") return 0;
      }
    },
  };
}
