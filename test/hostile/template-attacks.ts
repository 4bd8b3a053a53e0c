import { writeZip } from "../../functions/packages/index.ts";

/**
 * Template packages made to stall, starve or mislead the service (issue 21), shared by the hostile
 * tests (test/hostile/template-fence.test.ts) and the bench (bench/attacks/hostile.ts). Two kinds:
 *
 * - `published`: a package whose example is harmless, so it passes the checks and is published;
 *   the attack is in the data a render then sends (`data`), through any door.
 * - `refused`: a package whose own files are the attack: its check (and so its publication) must
 *   refuse it, with `error`.
 */

export interface PublishedAttack {
  name: string;
  id: string;
  files: Record<string, string>;
  /** The data of the hostile render. */
  data: () => Record<string, unknown>;
  /** The refusal it must get (HTTP 422 with this error; a job or an upload: the same code). */
  error: "too_complex" | "invalid_data";
  /** A rule the refusal names, when it is the point. */
  rule?: string;
}

export interface RefusedAttack {
  name: string;
  files: Record<string, string>;
  /** too_complex: the check's example run is too much work; invalid_template: a problem in the files. */
  error: "too_complex" | "invalid_template";
  /** The rule of a problem the check must list (invalid_template). */
  rule?: string;
}

const manifest = (id: string) => JSON.stringify({ id, title: id });
const OBJECT = '{ "type": "object" }';

/** Inline partials q0…q`depth`, each calling the next twice: 2^depth calls for 1 KB of text. */
function doublingPartials(depth: number): string {
  let text = "";
  for (let i = depth; i >= 0; i--) {
    text += `{{#*inline "q${i}"}}${i === depth ? "x" : `{{> q${i + 1}}}{{> q${i + 1}}}`}{{/inline}}`;
  }
  return text;
}

/** The same as partial files: partials/q0.hbs … */
function doublingPartialFiles(depth: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i <= depth; i++) files[`partials/q${i}.hbs`] = i === depth ? "x" : `{{> q${i + 1}}}{{> q${i + 1}}}`;
  return files;
}

export const PUBLISHED_ATTACKS: PublishedAttack[] = [
  {
    name: "partials that each call the next twice, 26 levels, when the data says so",
    id: "attack-doubling",
    files: {
      "template.hbs": `${doublingPartials(26)}<h1>{{title}}</h1>{{#if deep}}{{> q0}}{{/if}}`,
      "schema.json": OBJECT,
      "example.json": '{ "title": "x", "deep": false }',
    },
    data: () => ({ title: "x", deep: true }),
    error: "too_complex",
  },
  {
    name: "a 1,000,000-character string written once per item, 150 items",
    id: "attack-memory",
    files: {
      "template.hbs": "<h1>{{title}}</h1>{{#each items}}<p>{{../big}}</p>{{/each}}",
      "schema.json": OBJECT,
      "example.json": '{ "title": "x", "big": "b", "items": [1] }',
    },
    data: () => ({ title: "x", big: "字".repeat(1_000_000), items: Array.from({ length: 150 }, (_, i) => i) }),
    error: "too_complex",
  },
  {
    name: 'a schema pattern that backtracks, "^(a|a)*$", on 34 a and a !',
    id: "attack-pattern",
    files: {
      "template.hbs": "<h1>{{code}}</h1>",
      "schema.json": '{ "type": "object", "properties": { "code": { "type": "string", "pattern": "^(a|a)*$" } } }',
      "example.json": '{ "code": "aa" }',
    },
    data: () => ({ code: `${"a".repeat(34)}!` }),
    error: "invalid_data",
    rule: "schema",
  },
  {
    name: "<style> in one partial, data in the template: data reaches CSS when the data asks",
    id: "attack-style-split",
    files: {
      "partials/open.hbs": "<style>",
      "template.hbs": "{{#if evil}}{{> open}}p { display: {{x}} }</style>{{/if}}<p>shown</p>",
      "schema.json": OBJECT,
      "example.json": '{ "evil": false, "x": "block" }',
    },
    data: () => ({ evil: true, x: "none" }),
    error: "invalid_data",
    rule: "template-output",
  },
  {
    name: '`<img src="` in one partial, the URL from data in the template',
    id: "attack-src-split",
    files: {
      "partials/img.hbs": '<img alt="" src="',
      "template.hbs": '<p>shown</p>{{#if evil}}{{> img}}{{x}}">{{/if}}',
      "schema.json": OBJECT,
      "example.json": '{ "evil": false, "x": "" }',
    },
    data: () => ({ evil: true, x: "data:image/png;base64,iVBORw0KGgo=" }),
    error: "invalid_data",
    rule: "template-output",
  },
  {
    name: "uniqueItems over 32,000 small arrays, the last a repeat",
    id: "attack-unique",
    files: {
      "template.hbs": "<h1>{{title}}</h1>",
      "schema.json":
        '{ "type": "object", "properties": { "rows": { "type": "array", "uniqueItems": true, "items": { "type": "array" } } } }',
      "example.json": '{ "title": "x", "rows": [[1], [2]] }',
    },
    data: () => ({ title: "x", rows: [...Array.from({ length: 32_000 }, (_, i) => [i, i + 1]), [0, 1]] }),
    error: "invalid_data",
    rule: "schema",
  },
];

export const REFUSED_ATTACKS: RefusedAttack[] = [
  {
    name: "the 736-byte zip: inline partials that each call the next twice, 27 levels",
    files: { "template.hbs": `${doublingPartials(27)}<h1>{{title}}</h1>{{> q0}}` },
    error: "too_complex",
  },
  {
    name: "partial files that each call the next twice, 24 levels",
    files: { ...doublingPartialFiles(24), "template.hbs": "<h1>{{title}}</h1>{{> q0}}" },
    error: "too_complex",
  },
  {
    name: "an example of 1,000,000 characters written 150 times",
    files: {
      "template.hbs": "<h1>{{title}}</h1>{{#each items}}{{../big}}{{/each}}",
      "schema.json": OBJECT,
      "example.json": JSON.stringify({ title: "x", big: "a".repeat(1_000_000), items: Array(150).fill(0) }),
    },
    error: "too_complex",
  },
  {
    name: "a lone CR before a <style> with data in it",
    files: { "template.hbs": "<p>{{title}}</p>\r<style>p { display: {{title}} }</style>" },
    error: "invalid_template",
    rule: "css-mustache",
  },
  {
    name: "<style> opened in a partial, data in the template's CSS",
    files: { "partials/open.hbs": "<style>", "template.hbs": "{{> open}}p { display: {{title}} }</style>" },
    error: "invalid_template",
    rule: "example-output",
  },
  {
    name: "style.css: a comment of 22 × İ, then url(http://…)",
    files: { "style.css": `/* ${"İ".repeat(22)} */ p { background: url(http://127.0.0.1:9/x) }` },
    error: "invalid_template",
    rule: "fetch",
  },
  {
    name: "url( ended in a partial, a data: URL from cssString in the template: data picks an image",
    files: {
      "partials/u.hbs": "<style>.a { background: ur",
      "template.hbs": "<h1>{{title}}</h1>{{> u}}l({{cssString img}}) }</style>",
      "schema.json": OBJECT,
      "example.json": JSON.stringify({
        title: "x",
        img: "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
      }),
    },
    error: "invalid_template",
    rule: "example-output",
  },
  {
    name: "style.css: a data: image of its own that is no asset (past the assets' pixel budget)",
    files: { "style.css": "p { background: url(data:image/png;base64,iVBORw0KGgo=) }" },
    error: "invalid_template",
    rule: "fetch",
  },
  {
    name: "a <select> (parsed otherwise by older parsers) around an image from the net",
    files: { "template.hbs": '<h1>{{title}}</h1><select><img src="http://127.0.0.1:9/x"></select>' },
    error: "invalid_template",
  },
];

/**
 * Packages whose HTML once made the service's own scans of it quadratic on its event loop (the
 * headings for bookmarks, the style sheets for margin boxes): the fence reads them from its parse now.
 */
export const HEAVY_PACKAGES: { name: string; files: Record<string, string> }[] = [
  { name: "60,000 comments never closed", files: { "template.hbs": `<h1>{{title}}</h1>${"<!--".repeat(60_000)}` } },
  {
    name: "60,000 <h1 with a quote never closed",
    files: { "template.hbs": `<h1>{{title}}</h1>${'<h1 "'.repeat(60_000)}` },
  },
  { name: "60,000 <style> never closed", files: { "template.hbs": `<h1>{{title}}</h1>${"<style>".repeat(60_000)}` } },
];

/** A package's files: template.json for `id`, then `files` over a minimal package. */
export function attackFiles(id: string, files: Record<string, string>): Map<string, Uint8Array> {
  const all: Record<string, string> = {
    "template.json": manifest(id),
    "template.hbs": "<h1>{{title}}</h1>",
    "schema.json": '{ "type": "object", "properties": { "title": { "type": "string" } } }',
    "example.json": '{ "title": "x" }',
    ...files,
  };
  return new Map(Object.entries(all).map(([name, text]) => [name, new TextEncoder().encode(text)]));
}

/** Sums that binary floating point gets wrong by a fen or more, and what they must print. */
export const MONEY = {
  id: "exact-money",
  files: {
    "template.hbs":
      '<p>{{formatNumber (sum items "amount") decimals=2}}</p><p>{{cnyUpper (sum items "amount")}}</p><p>{{add a b}}</p>',
    "schema.json": OBJECT,
    "example.json": JSON.stringify({
      items: [{ amount: "90071992547409.90" }, { amount: "0.03" }],
      a: "123456789012345.67",
      b: "0.01",
    }),
  },
  printed: ["90,071,992,547,409.93", "玖角叁分", "123456789012345.68"],
};

export function attackZip(id: string, files: Record<string, string>): Uint8Array {
  return writeZip(attackFiles(id, files));
}
