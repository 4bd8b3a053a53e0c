/**
 * The bookmarks (document outline) of a PDF as Chromium writes it, with the page each one points to.
 *
 * Chromium prints with `outline: true`, so Skia writes one bookmark per h1–h6 heading (nested by
 * level, in document order): `<< /Title … /Dest [pageRef /XYZ x y 0] /First … /Next … >>`. Skia
 * writes a classic xref table, no object streams and uncompressed dictionaries, so the few objects
 * needed (catalog, page tree, outline items) are read straight from the bytes through the xref: no
 * PDF library, no full parse, a few milliseconds even for a long report.
 */
export interface OutlineEntry {
  /** The heading's text as the bookmark shows it (white space collapsed by Chromium). */
  title: string;
  /** Depth in the bookmark tree, 1 for the top level. */
  level: number;
  /** 1-based page number the bookmark points to. */
  page: number;
}

export interface PdfOutline {
  pages: number;
  /** Every bookmark, in document order (a depth-first walk of the tree). */
  entries: OutlineEntry[];
}

export function readOutline(pdf: Uint8Array): PdfOutline {
  const reader = new RawPdf(pdf);
  const catalog = reader.dict(reader.rootRef());
  const pagesRef = ref(catalog, "Pages");
  if (pagesRef === undefined) throw new Error("unexpected PDF layout from Chromium: no page tree");
  const pageNumbers = new Map<number, number>();
  collectPages(reader, pagesRef, pageNumbers, 0);

  const entries: OutlineEntry[] = [];
  const outlinesRef = ref(catalog, "Outlines");
  if (outlinesRef !== undefined) {
    const visit = (first: number | undefined, level: number) => {
      const seen = new Set<number>();
      for (let item = first; item !== undefined && !seen.has(item); ) {
        seen.add(item);
        const dict = reader.dict(item);
        const target = /\/Dest\s*\[\s*(\d+)\s+\d+\s+R/.exec(dict)?.[1];
        const page = target === undefined ? undefined : pageNumbers.get(Number(target));
        if (page !== undefined) entries.push({ title: titleOf(dict), level, page });
        visit(ref(dict, "First"), level + 1);
        item = ref(dict, "Next");
      }
    };
    visit(ref(reader.dict(outlinesRef), "First"), 1);
  }
  return { pages: pageNumbers.size, entries };
}

/** Walk the page tree (Skia may nest /Pages nodes) and number the leaves in order. */
function collectPages(reader: RawPdf, node: number, out: Map<number, number>, depth: number): void {
  if (depth > 32) throw new Error("unexpected PDF layout from Chromium: page tree too deep");
  const dict = reader.dict(node);
  if (!/\/Type\s*\/Pages\b/.test(dict)) {
    out.set(node, out.size + 1);
    return;
  }
  const kids = /\/Kids\s*\[([^\]]*)\]/.exec(dict)?.[1] ?? "";
  for (const kid of kids.matchAll(/(\d+)\s+\d+\s+R/g)) collectPages(reader, Number(kid[1]), out, depth + 1);
}

/** Object access through the (last) classic xref table. */
class RawPdf {
  private readonly text: string;
  private readonly offsets = new Map<number, number>();
  private readonly trailer: string;

  constructor(pdf: Uint8Array) {
    // latin1 maps bytes 1:1 to UTF-16 code units, so string offsets are byte offsets.
    this.text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString("latin1");
    const trailerAt = this.text.lastIndexOf("\ntrailer");
    const start = /startxref\s+(\d+)/.exec(this.text.slice(trailerAt))?.[1];
    if (trailerAt < 0 || start === undefined) throw new Error("unexpected PDF layout from Chromium: no trailer");
    this.trailer = this.text.slice(trailerAt, this.text.indexOf(">>", trailerAt) + 2);
    const xref = /^xref\s*\n/.exec(this.text.slice(Number(start), Number(start) + 8));
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
    const offset = this.offsets.get(num);
    if (offset === undefined) throw new Error(`unexpected PDF layout from Chromium: object ${num} missing`);
    const begin = this.text.indexOf("obj", offset) + 3;
    const end = this.text.indexOf("endobj", begin);
    return this.text.slice(begin, end < 0 ? undefined : end);
  }
}

function ref(dict: string, key: string): number | undefined {
  const m = new RegExp(`/${key}\\s+(\\d+)\\s+\\d+\\s+R`).exec(dict);
  return m ? Number(m[1]) : undefined;
}

/** /Title as a hex string (<FEFF…> UTF-16BE, as Skia writes non-ASCII) or a literal string (ASCII). */
function titleOf(dict: string): string {
  const hex = /\/Title\s*<([0-9A-Fa-f\s]*)>/.exec(dict)?.[1];
  if (hex !== undefined) return decodeBytes(Buffer.from(hex.replace(/\s+/g, ""), "hex"));
  const at = dict.search(/\/Title\s*\(/);
  if (at < 0) return "";
  return decodeBytes(Buffer.from(literalString(dict, dict.indexOf("(", at) + 1), "latin1"));
}

function decodeBytes(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return Buffer.from(bytes.subarray(2)).swap16().toString("utf16le");
  }
  return bytes.toString("latin1"); // PDFDocEncoding agrees with Latin-1 for printable text
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" };

/** The bytes of a PDF literal string starting after its "(" (balanced parentheses, escapes). */
function literalString(text: string, from: number): string {
  let out = "";
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      const next = text[++i] ?? "";
      const octal = /^[0-7]{1,3}/.exec(text.slice(i, i + 3))?.[0];
      if (octal) {
        out += String.fromCharCode(parseInt(octal, 8) & 0xff);
        i += octal.length - 1;
      } else if (next === "\r" || next === "\n") {
        if (next === "\r" && text[i + 1] === "\n") i++;
      } else {
        out += ESCAPES[next] ?? next;
      }
    } else if (c === "(") {
      depth++;
      out += c;
    } else if (c === ")") {
      if (depth === 0) return out;
      depth--;
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}
