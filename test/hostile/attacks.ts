import { deflateSync } from "node:zlib";
import { example } from "../helpers/examples.ts";

/**
 * Inputs a careless or malicious client sends, as the raw request body. Every door (HTTP, upload,
 * CLI) must answer each with a result or a small refusal in bounded time, and stay up.
 * `expect` is what the answer must be: a status, and for a 200 what must be true of the PDF.
 */
export interface Attack {
  name: string;
  body: string;
  /** The HTTP status it must get (200, or the 4xx of its refusal). */
  status: number;
  /** For refusals: the error code. */
  error?: string;
  /** For a 200: text the PDF must contain (whitespace removed). */
  contains?: string[];
  /** For a 200: runs of one letter that must be printed whole (counted, as they may wrap across pages). */
  printed?: string[];
}

const report = (data: Record<string, unknown>, options?: Record<string, unknown>) =>
  JSON.stringify({ template: "report", data: { title: "Hostile", ...data }, ...(options ? { options } : {}) });

/** A PNG that declares `width` × `height` pixels in a few hundred bytes (a decompression bomb). */
function pngDeclaring(width: number, height: number): string {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type, "latin1"), data, Buffer.alloc(4)]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 6;
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const png = Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.alloc(64))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
  return `data:image/png;base64,${png.toString("base64")}`;
}

/** A list item nested `depth` levels, as JSON text (JSON.stringify itself would overflow the stack). */
function nestedList(depth: number): string {
  return `${'{"text":"x","items":['.repeat(depth)}{"text":"x"}${"]}".repeat(depth)}`;
}

function gov(change: (data: Record<string, unknown>) => void): string {
  const envelope = example("zhanhe-transport-2020.json");
  change(envelope.data as Record<string, unknown>);
  return JSON.stringify(envelope);
}

const LONG_WORD = "W".repeat(480);
const LONG_KEY = "K".repeat(1900);

export const attacks: Attack[] = [
  {
    name: "a header cell with colspan 1000000000",
    body: report({ blocks: [{ type: "table", header: [[{ text: "a", colspan: 1_000_000_000 }]], rows: [["a"]] }] }),
    status: 422,
    error: "invalid_data",
  },
  {
    name: "a table of 8,000 × 100 cells that are true",
    body: report({ blocks: [{ type: "table", rows: Array.from({ length: 8000 }, () => Array(100).fill(true)) }] }),
    status: 422,
    error: "too_complex",
  },
  {
    name: "a table of 900 × 100 cells that are true (90,000 schema errors)",
    body: report({ blocks: [{ type: "table", rows: Array.from({ length: 900 }, () => Array(100).fill(true)) }] }),
    status: 422,
    error: "invalid_data",
  },
  {
    name: "a list nested 5,000 levels deep",
    body: `{"template":"report","data":{"title":"x","blocks":[{"type":"list","items":[${nestedList(5000)}]}]}}`,
    status: 422,
    error: "too_complex",
  },
  {
    name: "arrays nested 1,000,000 deep in data",
    body: `{"template":"report","data":{"title":"x","blocks":${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}}`,
    status: 422,
    error: "too_complex",
  },
  {
    name: "an array of 2,400,000 numbers (4.8 MB)",
    body: `{"template":"report","data":{"title":"x","blocks":[${Array(2_400_000).fill(0).join(",")}]}}`,
    status: 422,
    error: "too_complex",
  },
  {
    name: "margins of 9000 mm",
    body: report({ blocks: [] }, { page: { margin: "9000mm" } }),
    status: 422,
    error: "invalid_options",
  },
  {
    name: "a PNG that declares 100,000 × 100,000 pixels",
    body: report({ blocks: [{ type: "image", src: pngDeclaring(100_000, 100_000), alt: "bomb" }] }),
    status: 422,
    error: "invalid_data",
  },
  {
    name: "an SVG that embeds a PNG declaring 50,000 × 50,000 pixels",
    body: report({
      blocks: [
        {
          type: "image",
          src: `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="${pngDeclaring(50_000, 50_000)}"/></svg>`)}`,
        },
      ],
    }),
    status: 422,
    error: "invalid_data",
  },
  {
    name: "an SVG that embeds a 50,000 × 50,000 PNG declared as application/octet-stream, its colon a character reference",
    body: report({
      blocks: [
        {
          type: "image",
          src: `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="data&#58;application/octet-stream;base64,${pngDeclaring(50_000, 50_000).split(",")[1]}"/></svg>`)}`,
        },
      ],
    }),
    status: 422,
    error: "invalid_data",
  },
  {
    name: "a PNG of 100,000 × 100,000 pixels with options.validation warn",
    body: report({ blocks: [{ type: "image", src: pngDeclaring(100_000, 100_000) }] }, { validation: "warn" }),
    status: 422,
    error: "invalid_data",
  },
  {
    // Each within its own limit; together 480 megapixels (Chromium took 19.7 s to decode them).
    name: "twelve PNGs of 40 megapixels each (the budget of a whole report)",
    body: report({
      blocks: Array.from({ length: 12 }, (_, i) => ({ type: "image", src: pngDeclaring(8000 - i, 5000), alt: `${i}` })),
    }),
    status: 422,
    error: "invalid_data",
  },
  {
    // Each within its own limits; together 80,000 points (13.3 s of ECharts on the main thread).
    name: "four charts of 20 series × 1,000 points (the budget of a whole report)",
    body: report({
      blocks: Array.from({ length: 4 }, () => ({
        type: "chart",
        kind: "line",
        categories: Array.from({ length: 1000 }, (_, i) => `c${i}`),
        series: Array.from({ length: 20 }, (_, s) => ({ name: `s${s}`, data: Array(1000).fill(s) })),
      })),
    }),
    status: 422,
    error: "invalid_data",
  },
  {
    name: "keys __proto__ and constructor in data and options",
    body: `{"template":"report","data":{"title":"x","blocks":[],"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}},"options":{"__proto__":{"polluted":1}}}`,
    status: 400,
    error: "invalid_envelope",
  },
  {
    name: "template named __proto__",
    body: `{"template":"__proto__","data":{}}`,
    status: 404,
    error: "unknown_template",
  },
  {
    name: "template named constructor",
    body: `{"template":"constructor","data":{}}`,
    status: 404,
    error: "unknown_template",
  },
  { name: "not JSON", body: '{"template": ', status: 400, error: "invalid_json" },
  { name: "JSON that is not an object", body: "[1,2,3]", status: 400, error: "invalid_envelope" },
  {
    name: "a title of 480 letters without a space",
    body: report({ title: "T".repeat(480), blocks: [] }),
    status: 200,
    printed: ["T".repeat(480)],
  },
  {
    name: "a title of 600 letters (over its limit)",
    body: report({ title: "T".repeat(600), blocks: [] }),
    status: 422,
    error: "invalid_data",
  },
  {
    name: "a lone surrogate in the title and in options.filename",
    body: '{"template":"report","data":{"title":"Q3 \\ud83d","blocks":[]},"options":{"filename":"\\ud800.pdf"}}',
    status: 200,
    contains: ["Q3\uFFFD"],
  },
  {
    name: "a heading of 480 letters without a space and a key–value key of 1,900",
    body: report({
      blocks: [
        { type: "heading", level: 1, text: LONG_WORD },
        { type: "keyValue", items: [{ key: LONG_KEY, value: "v" }] },
      ],
    }),
    status: 200,
    printed: [LONG_WORD, LONG_KEY],
  },
  {
    name: "an agency of 180 letters without a space (gov template)",
    body: gov((data) => {
      data.agency = "X".repeat(180);
    }),
    status: 200,
    printed: ["X".repeat(180)],
  },
  {
    name: "an agency that is a path out of the working folder",
    body: gov((data) => {
      data.agency = "../../../x/escaped";
    }),
    status: 200,
  },
  {
    name: "a UTF-8 byte order mark before the JSON",
    body: `\uFEFF${report({ blocks: [{ type: "paragraph", text: "BOM" }] })}`,
    status: 200,
    contains: ["BOM"],
  },
  {
    name: "script, iframe and remote image in text",
    body: report({
      blocks: [
        {
          type: "paragraph",
          text: `<script>alert(1)</script><iframe src="http://127.0.0.1:9/"></iframe><img src="http://127.0.0.1:9/x.png">`,
        },
      ],
    }),
    status: 200,
    contains: ["<script>alert(1)</script>"],
  },
  {
    // <page-ref> is template markup: in data it is text. Text that reads like a placeholder (ten
    // digits then an index) on the TOC's page makes the render print its numbers as text instead.
    name: "a <page-ref> in text, and a title that reads like a page-number placeholder",
    body: report({
      title: "0123456789000",
      toc: true,
      blocks: [
        { type: "heading", level: 1, text: '<page-ref for="s0"></page-ref>' },
        { type: "paragraph", text: '<page-ref for="nowhere"></page-ref> 0123456789001' },
      ],
    }),
    status: 200,
    contains: ['<page-ref for="s0"></page-ref>', '<page-ref for="nowhere"></page-ref> 0123456789001'],
  },
];
