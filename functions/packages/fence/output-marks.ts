/**
 * Where the data landed in a package's HTML. While a package's template runs (in a fence thread),
 * every value it writes is bracketed by marks: data as text, the CSS helpers' output (cssString,
 * cssValue) and dataImage's URLs each by their own pair. The marks are Unicode noncharacters, which
 * no data and no package text may hold (they are replaced in data, refused in packages). Splitting
 * the output gives the HTML without marks, exactly as Chromium will get it, and the ranges of it
 * that came from data: output-policy.ts parses that HTML and judges each range by where it landed.
 */

export type MarkKind = "data" | "css" | "image";

const OPEN: Record<MarkKind, string> = { data: "\ufdd0", css: "\ufdd2", image: "\ufdd4" };
const CLOSE: Record<MarkKind, string> = { data: "\ufdd1", css: "\ufdd3", image: "\ufdd5" };
/** By code unit: the kind a mark opens (even offsets from U+FDD0) or closes (odd ones). */
const KINDS: readonly MarkKind[] = ["data", "css", "image"];

/** Every noncharacter of the block U+FDD0–U+FDEF: reserved for the marks. */
export const RESERVED = /[\ufdd0-\ufdef]/g;
const RESERVED_TEST = /[\ufdd0-\ufdef]/;

/** `text` with the marks' characters replaced (U+FFFD): what data and helpers' markup may carry. */
export function unmarkable(text: string): string {
  return RESERVED_TEST.test(text) ? text.replace(RESERVED, "\ufffd") : text;
}

/** `html` (already escaped) bracketed as output of `kind`. */
export function marked(kind: MarkKind, html: string): string {
  return OPEN[kind] + unmarkable(html) + CLOSE[kind];
}

/** A range of the unmarked HTML that came from data, as `kind`. */
export interface DataRange {
  start: number;
  end: number;
  kind: MarkKind;
}

/** The HTML without its marks, and the ranges they bracketed (in order, never nested or overlapping). */
export function splitMarks(output: string): { html: string; ranges: DataRange[] } {
  if (!RESERVED_TEST.test(output)) return { html: output, ranges: [] };
  const ranges: DataRange[] = [];
  const parts: string[] = [];
  let at = 0;
  let length = 0;
  let open: MarkKind | undefined;
  let openedAt = 0;
  // A loop over the code units: a report's HTML holds a mark or two for every value it shows.
  for (let i = 0; i < output.length; i++) {
    const code = output.charCodeAt(i);
    if (code < 0xfdd0 || code > 0xfdef) continue;
    parts.push(output.slice(at, i));
    length += i - at;
    at = i + 1;
    const kind = KINDS[(code - 0xfdd0) >> 1];
    const opens = (code - 0xfdd0) % 2 === 0;
    if (kind !== undefined && opens && open === undefined) {
      open = kind;
      openedAt = length;
    } else if (kind !== undefined && !opens && kind === open) {
      if (length > openedAt) ranges.push({ start: openedAt, end: length, kind: open });
      open = undefined;
    } else {
      // Only the template's own text could hold one out of place, and checked packages cannot.
      throw new Error("the template's output holds a reserved character (U+FDD0–U+FDEF) out of place");
    }
  }
  if (open !== undefined) throw new Error("the template's output ends inside a value");
  parts.push(output.slice(at));
  return { html: parts.join(""), ranges };
}
