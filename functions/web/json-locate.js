// Where a JSON Pointer (RFC 6901) points in JSON text, so an error about "/applications/total"
// can be shown at its place in the text the user sees. A small scanner that records the span of
// every value (with its key, for object members); no dependencies.

/** @returns {{ start: number, end: number, line: number, pointer: string } | undefined}
 *  the span of `pointer`, or of its nearest ancestor present in the text (a missing property
 *  is shown at the object that lacks it). */
export function locate(text, pointer) {
  const spans = valueSpans(text);
  let at = pointer;
  for (;;) {
    const span = spans.get(at);
    if (span) return { start: span[0], end: span[1], line: lineOf(text, span[0]), pointer: at };
    if (at === "") return undefined;
    at = at.slice(0, at.lastIndexOf("/"));
  }
}

/** The line (from 1) of a character offset. */
export function lineOf(text, offset) {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function valueSpans(text) {
  const spans = new Map();
  let i = 0;
  const fail = () => {
    throw new SyntaxError(`unexpected input at ${i}`);
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const expect = (ch) => {
    space();
    if (text[i] !== ch) fail();
    i++;
  };
  const string = () => {
    space();
    if (text[i] !== '"') fail();
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const escape = (key) => String(key).replace(/~/g, "~0").replace(/\//g, "~1");
  const value = (pointer, spanStart) => {
    space();
    const start = spanStart ?? i;
    const ch = text[i];
    if (ch === "{") {
      i++;
      space();
      if (text[i] === "}") i++;
      else
        for (;;) {
          space();
          const keyStart = i;
          const key = string();
          expect(":");
          value(`${pointer}/${escape(key)}`, keyStart);
          space();
          if (text[i] === ",") i++;
          else if (text[i] === "}") {
            i++;
            break;
          } else fail();
        }
    } else if (ch === "[") {
      i++;
      space();
      if (text[i] === "]") i++;
      else
        for (let index = 0; ; index++) {
          value(`${pointer}/${index}`);
          space();
          if (text[i] === ",") i++;
          else if (text[i] === "]") {
            i++;
            break;
          } else fail();
        }
    } else if (ch === '"') {
      string();
    } else {
      const from = i;
      while (i < text.length && !",}] \t\n\r".includes(text[i])) i++;
      if (i === from) fail();
    }
    spans.set(pointer, [start, i]);
  };
  try {
    value("");
  } catch {
    // Text edited into invalid JSON: the spans found so far still help.
  }
  return spans;
}
