/**
 * Chromium's PDF as bytes: object access through its classic xref table, and in-place edits that
 * keep that layout. Skia writes one xref table, no object streams and uncompressed dictionaries, so
 * reading the few objects we need (catalog, page tree, outline, info) and splicing a few of them is
 * a matter of milliseconds, where a general PDF library re-serialises the whole file (120–270 ms).
 */

/** Object access through the (last) classic xref table. */
export class RawPdf {
  private readonly text: string;
  private readonly offsets = new Map<number, number>();
  private readonly xrefAt: number;
  /** The trailer dictionary's text, `<<` to `>>`. */
  readonly trailer: string;

  constructor(pdf: Uint8Array) {
    // latin1 maps bytes 1:1 to UTF-16 code units, so string offsets are byte offsets.
    this.text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString("latin1");
    const trailerAt = this.text.lastIndexOf("\ntrailer");
    const start = /startxref\s+(\d+)/.exec(this.text.slice(trailerAt))?.[1];
    if (trailerAt < 0 || start === undefined) throw new Error("unexpected PDF layout from Chromium: no trailer");
    this.trailer = this.text.slice(this.text.indexOf("<<", trailerAt), this.text.indexOf(">>", trailerAt) + 2);
    this.xrefAt = Number(start);
    const xref = /^xref\s*\n/.exec(this.text.slice(this.xrefAt, this.xrefAt + 8));
    if (!xref) throw new Error("unexpected PDF layout from Chromium: no classic xref table");
    let at = Number(start) + xref[0].length;
    // Subsections: "first count\n" then `count` entries of 20 bytes ("oooooooooo ggggg n\r\n" or " \n").
    const section = /(\d+) (\d+)[ \t]*\r?\n/y;
    for (;;) {
      section.lastIndex = at;
      const head = section.exec(this.text);
      if (!head) break;
      const first = Number(head[1]);
      const count = Number(head[2]);
      at = section.lastIndex;
      for (let i = 0; i < count; i++, at += 20) {
        if (this.text.charCodeAt(at + 17) === 110 /* n */) this.offsets.set(first + i, Number(this.text.slice(at, at + 10)));
      }
    }
  }

  rootRef(): number {
    const root = ref(this.trailer, "Root");
    if (root === undefined) throw new Error("unexpected PDF layout from Chromium: no /Root");
    return root;
  }

  /** The dictionary text of object `num` (objects read here carry no stream). */
  dict(num: number): string {
    const begin = this.bodyOffset(num);
    const end = this.text.indexOf("endobj", begin);
    return this.text.slice(begin, end < 0 ? undefined : end);
  }

  /** Where the text returned by dict(num) starts in the file. */
  bodyOffset(num: number): number {
    const offset = this.offsets.get(num);
    if (offset === undefined) throw new Error(`unexpected PDF layout from Chromium: object ${num} missing`);
    return this.text.indexOf("obj", offset) + 3;
  }

  /**
   * Replace byte ranges inside objects (before the xref), shift the xref and startxref to match,
   * and add `trailerEntries` to the trailer dictionary. Returns the file as a latin1 string.
   */
  splice(edits: Edit[], trailerEntries = ""): string {
    const sorted = [...edits].sort((a, b) => a.at - b.at);
    const shift = (offset: number) =>
      sorted.reduce((d, e) => (e.end <= offset ? d + e.text.length - (e.end - e.at) : d), 0);
    const trailerAt = this.text.lastIndexOf("\ntrailer") + 1;
    let out = "";
    let from = 0;
    for (const e of sorted) {
      out += this.text.slice(from, e.at) + e.text;
      from = e.end;
    }
    const xref = this.text
      .slice(this.xrefAt, trailerAt)
      .replace(/^(\d{10})( \d{5} n)/gm, (_, offset: string, rest: string) =>
        `${String(Number(offset) + shift(Number(offset))).padStart(10, "0")}${rest}`,
      );
    const dict = this.trailer.slice(0, -2) + (trailerEntries ? `\n${trailerEntries}` : "") + ">>";
    return `${out}${this.text.slice(from, this.xrefAt)}${xref}trailer\n${dict}\nstartxref\n${this.xrefAt + shift(this.xrefAt)}\n%%EOF\n`;
  }
}

/** A replacement of the bytes [at, end) of the file. */
export interface Edit {
  at: number;
  end: number;
  text: string;
}

export function ref(dict: string, key: string): number | undefined {
  const m = new RegExp(`/${key}\\s+(\\d+)\\s+\\d+\\s+R`).exec(dict);
  return m ? Number(m[1]) : undefined;
}

/** A PDF text string as UTF-16BE hex with a byte order mark: any script, no escaping needed. */
export function pdfTextString(value: string): string {
  return `<FEFF${Buffer.from(value, "utf16le").swap16().toString("hex").toUpperCase()}>`;
}
