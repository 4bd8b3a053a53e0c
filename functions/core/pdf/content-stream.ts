/**
 * The text-showing operations of a page content stream, as Skia writes them: which font each
 * string is shown in and where the string and its operator are in the (inflated) stream, so that
 * single glyphs can be replaced or removed in place (page-numbers.ts). Skia positions every glyph
 * itself (`x 0 Td <gid> Tj`), so changing one glyph never moves another.
 */
import { PdfLayoutError, skipSpace, skipValue } from "./pdf-bytes.ts";

/** One `string Tj`; `hex` is the string's hex digits when it is a hex string. */
export interface ShownString {
  kind: "string";
  font: string;
  /** The font size the last Tf set. */
  size: number;
  hex: string | undefined;
  /** Where the string operand starts, and where its `Tj` operator ends, in the stream text. */
  at: number;
  end: number;
}

/** Text shown some other way (TJ, ', ", a form XObject): glyphs not worth following. */
export interface OtherText {
  kind: "other";
}

export type TextShow = ShownString | OtherText;

/** The stream cannot be followed (an inline image): the caller takes another way. */
export class UnreadableContent extends Error {}

/** Delimiters and white space: what ends a name, number or operator. */
const ENDS = new Set([..."()<>[]{}/%", "\0", "\t", "\n", "\f", "\r", " "]);

/** The text shows of a content stream (latin1 text: one char per byte), in painting order. */
export function textShows(stream: string): TextShow[] {
  const shows: TextShow[] = [];
  const operands: { text: string; at: number }[] = [];
  let font = "";
  let size = 0;
  let i = 0;
  for (;;) {
    i = skipSpace(stream, i);
    if (i >= stream.length) return shows;
    const c = stream[i] as string;
    const start = i;
    if (c === "<" || c === "(" || c === "[" || c === "/") {
      i = skipValue(stream, i);
      operands.push({ text: stream.slice(start, i), at: start });
      continue;
    }
    if (c === ")" || c === ">" || c === "]" || c === "{" || c === "}") {
      throw new PdfLayoutError(`unexpected ${JSON.stringify(c)} in a content stream at byte ${i}`);
    }
    while (i < stream.length && !ENDS.has(stream[i] as string)) i++;
    const token = stream.slice(start, i);
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(token) || token === "true" || token === "false" || token === "null") {
      operands.push({ text: token, at: start });
      continue;
    }
    switch (token) {
      case "Tf":
        font = operands[0]?.text.slice(1) ?? "";
        size = Number(operands[1]?.text ?? 0);
        break;
      case "Tj": {
        const operand = operands[0];
        if (!operand) throw new PdfLayoutError(`Tj without a string at byte ${start}`);
        const hex = operand.text.startsWith("<") ? operand.text.slice(1, -1) : undefined;
        shows.push({ kind: "string", font, size, hex, at: operand.at, end: i });
        break;
      }
      case "TJ":
      case "'":
      case '"':
      case "Do":
        shows.push({ kind: "other" });
        break;
      case "BI":
        // Inline image data is binary up to "EI": not tokens. Skia does not write them.
        throw new UnreadableContent("an inline image in a content stream");
    }
    operands.length = 0;
  }
}
