import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createTemplateRegistry } from "../../functions/core/template/templates.ts";
import {
  defaultPackageLimits,
  formatProblem,
  type PackageLimits,
  type PackageProblem,
  readPackageDir,
  readPackageZip,
  writeZip,
} from "../../functions/packages/index.ts";
import { root } from "../helpers/examples.ts";
import { fence } from "../helpers/fence.ts";

// Every kind of problem the package check reports, each with the file, line and column it names. The
// packages are zipped and read back, as a publication would read them.

const BASE: Record<string, string> = {
  "template.json": '{ "id": "test-notice", "title": "Test notice" }',
  "template.hbs": "<h1>{{title}}</h1>\n<p>{{formatNumber amount decimals=2}}</p>\n",
  "style.css": "h1 { font-size: 20pt; }\n",
  "schema.json": JSON.stringify({
    type: "object",
    required: ["title", "amount"],
    additionalProperties: false,
    properties: { title: { type: "string" }, amount: { type: "number" } },
  }),
  "example.json": '{ "title": "Hello", "amount": 12.5 }',
};

type Files = Record<string, string | Uint8Array | null>;

async function check(overrides: Files = {}, limits: PackageLimits = defaultPackageLimits) {
  const files = new Map<string, Uint8Array>();
  for (const [name, content] of Object.entries({ ...BASE, ...overrides })) {
    if (content !== null) files.set(name, typeof content === "string" ? new TextEncoder().encode(content) : content);
  }
  return fence.check(readPackageZip(writeZip(files), limits));
}

async function problems(overrides: Files, limits?: PackageLimits): Promise<PackageProblem[]> {
  const result = await check(overrides, limits);
  return result.ok ? [] : result.problems;
}

/** The one problem of a package with one thing wrong. */
async function only(overrides: Files, limits?: PackageLimits): Promise<PackageProblem> {
  const found = await problems(overrides, limits);
  expect(found.map(formatProblem)).toHaveLength(1);
  return found[0] as PackageProblem;
}

const fontsource = (file: string) =>
  new Uint8Array(readFileSync(join(root, "node_modules/@fontsource/noto-sans-sc/files", file)));

/** An sfnt header with the given tables (the check reads the table directory only). */
function sfnt(version: number | string, tags: string[]): Uint8Array {
  const bytes = new Uint8Array(12 + 16 * tags.length);
  const view = new DataView(bytes.buffer);
  if (typeof version === "number") view.setUint32(0, version);
  else bytes.set(new TextEncoder().encode(version), 0);
  view.setUint16(4, tags.length);
  for (const [i, tag] of tags.entries()) bytes.set(new TextEncoder().encode(tag), 12 + 16 * i);
  return bytes;
}

describe("a valid package", () => {
  it("passes, with its assets inlined as data: URLs and a stable digest", async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>';
    const overrides = {
      "template.hbs": '<img src="assets/logo.svg" alt=""><h1>{{title}}</h1>',
      "style.css":
        "@font-face { font-family: X; src: url(assets/face.woff2); }\nh1 { background: url('assets/logo.svg'); }",
      "assets/logo.svg": svg,
      "assets/face.woff2": fontsource("noto-sans-sc-latin-500-normal.woff2"),
    };
    const result = await check(overrides);
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
    if (!result.ok) return;
    const { source, digest } = result.package;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(result.package.manifest).toMatchObject({ id: "test-notice", title: "Test notice" });
    const template = createTemplateRegistry([source]).get("test-notice");
    const { html } = await template.render({ title: "Hi", amount: 1 }, AbortSignal.timeout(60_000));
    expect(html).toContain('src="data:image/svg+xml;base64,');
    expect(template.css).toContain("url(data:font/woff2;base64,");
    expect(template.css).toContain("url(data:image/svg+xml;base64,");
    expect(`${html}${template.css}`).not.toContain("assets/");
    const again = await check(overrides);
    expect(again.ok && again.package.digest).toBe(digest);
  });

  it("the example package in examples/packages/payment-notice passes", async () => {
    const result = await fence.check(await readPackageDir(join(root, "examples/packages/payment-notice")));
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
  });
});

describe("template.json", () => {
  it("missing", async () => {
    expect(await only({ "template.json": null })).toMatchObject({ file: "template.json", rule: "missing" });
  });

  it("not JSON: where it breaks", async () => {
    const p = await only({ "template.json": '{\n  "id": "abc",\n  "title": x\n}' });
    expect(p).toMatchObject({ file: "template.json", line: 3, column: 12, rule: "json" });
  });

  it("an id that breaks the pattern, at the id", async () => {
    const p = await only({ "template.json": '{\n  "id": "Bad_ID",\n  "title": "x"\n}' });
    expect(p).toMatchObject({ file: "template.json", line: 2, column: 3, rule: "manifest" });
    expect(p.message).toContain("/id");
  });

  it("an unknown field", async () => {
    const p = await only({ "template.json": '{ "id": "abc", "title": "x", "author": "me" }' });
    expect(p).toMatchObject({ file: "template.json", line: 1, column: 30, rule: "manifest" });
  });

  it("margins that leave no room, checked as the core checks options", async () => {
    const p = await only({
      "template.json": '{\n  "id": "abc",\n  "title": "x",\n  "page": { "size": "A5", "margin": "80mm" }\n}',
    });
    expect(p).toMatchObject({ file: "template.json", line: 4, column: 27, rule: "page-margin" });
  });
});

describe("template.hbs and partials: Handlebars", () => {
  it("a syntax error, at the token where parsing stopped", async () => {
    const p = await only({ "template.hbs": "<h1>{{title}}</h1>\n<p>{{formatNumber amount decimals=}}</p>" });
    expect(p).toMatchObject({ file: "template.hbs", line: 2, column: 35, rule: "syntax" });
  });

  it("a block closed by the wrong name", async () => {
    const p = await only({ "template.hbs": "{{#if title}}\n  <p>{{title}}</p>\n{{/each}}" });
    expect(p).toMatchObject({ file: "template.hbs", rule: "syntax", line: 1 });
    expect(p.message).toContain("if doesn't match each");
  });

  it("an unknown helper", async () => {
    const p = await only({ "template.hbs": "<h1>{{title}}</h1>\n  <p>{{fmtNumber amount}}</p>" });
    expect(p).toMatchObject({ file: "template.hbs", line: 2, column: 6, rule: "unknown-helper" });
    expect(p.message).toContain('"fmtNumber"');
  });

  it("an unknown helper in a subexpression and in a partial", async () => {
    const found = await problems({
      "template.hbs": "{{title}} {{formatNumber (double amount)}} {{> row}}",
      "partials/row.hbs": "<td>\n{{shout title}}</td>",
    });
    expect(found.map((p) => [p.file, p.line, p.column, p.rule])).toEqual([
      ["partials/row.hbs", 2, 1, "unknown-helper"],
      ["template.hbs", 1, 26, "unknown-helper"],
    ]);
  });

  it("an unknown partial", async () => {
    const p = await only({ "template.hbs": "{{title}}{{amount}}\n\n   {{> footer}}" });
    expect(p).toMatchObject({ file: "template.hbs", line: 3, column: 4, rule: "unknown-partial" });
  });

  it("inline partials and the package's partials are known", async () => {
    const result = await check({
      "template.hbs":
        '{{#*inline "cell"}}<td>{{this}}</td>{{/inline}}<table><tr>{{> cell title}}{{> row}}</tr></table>',
      "partials/row.hbs": "<td>{{formatNumber amount}}</td>",
    });
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
  });

  it("unescaped output", async () => {
    const p = await only({ "template.hbs": "<h1>{{{title}}}</h1>{{amount}}" });
    expect(p).toMatchObject({ file: "template.hbs", line: 1, column: 5, rule: "unescaped" });
  });

  it("a plain helper used as a block", async () => {
    const p = await only({ "template.hbs": '{{#eq title "x"}}yes{{/eq}}{{amount}}' });
    expect(p).toMatchObject({ file: "template.hbs", line: 1, column: 1, rule: "block-helper" });
  });

  it("decorators other than inline partials", async () => {
    const p = await only({ "template.hbs": "{{title}}{{amount}}{{* activate}}" });
    expect(p).toMatchObject({ file: "template.hbs", line: 1, column: 20, rule: "decorator" });
  });

  it("names of Object.prototype", async () => {
    const found = await problems({
      "template.hbs": '{{title}}{{amount}}\n{{constructor}}\n{{lookup this "__proto__"}}\n{{this.__proto__.x}}',
    });
    expect(found.map((p) => [p.line, p.rule])).toEqual([
      [2, "prototype"],
      [3, "prototype"],
      [4, "prototype"],
    ]);
  });

  it("a file that is not UTF-8", async () => {
    const p = await only({ "template.hbs": new Uint8Array([0x3c, 0x70, 0x3e, 0xff, 0xfe, 0x3c]) });
    expect(p).toMatchObject({ file: "template.hbs", rule: "encoding" });
  });
});

describe("schema.json and example.json", () => {
  it("a schema.json over 256 KB is refused before it is compiled (its validator grows with it)", async () => {
    const properties = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`p${i}`, { type: "string" }]));
    const p = await only({ "schema.json": JSON.stringify({ type: "object", properties }) });
    expect(p).toMatchObject({ file: "schema.json", rule: "schema-too-large" });
  });

  it("a schema that is not a valid JSON Schema, at the faulty keyword", async () => {
    const p = await only({
      "schema.json": '{\n  "type": "object",\n  "properties": {\n    "title": { "type": "strnig" }\n  }\n}',
    });
    expect(p).toMatchObject({ file: "schema.json", line: 4, column: 16, rule: "schema-invalid" });
  });

  it("an unknown keyword (ajv's strict mode, as the core compiles it)", async () => {
    const p = await only({ "schema.json": '{\n  "type": "object",\n  "requires": ["title"]\n}' });
    expect(p).toMatchObject({ file: "schema.json", line: 3, column: 3, rule: "schema-invalid" });
  });

  it("a pattern the linear-time engine cannot run (a lookahead), at the pattern, saying what to write instead", async () => {
    const p = await only({
      "schema.json":
        '{\n  "type": "object",\n  "properties": {\n    "title": { "type": "string", "pattern": "^(?=.*\\\\d).+$" }\n  }\n}',
      "example.json": '{ "title": "a1" }',
      "template.hbs": "{{title}}",
    });
    expect(p).toMatchObject({ file: "schema.json", line: 4, column: 34, rule: "schema-pattern" });
    expect(p.message).toBe(
      'the pattern "^(?=.*\\\\d).+$" (at its character 2): a lookahead "(?=" cannot run on the engine that patterns run on (RE2, which never backtracks, so no data can make a pattern slow); express the condition in the schema: "allOf" with one pattern per thing the text must contain, "not": { "pattern": … } for what it must not',
    );
  });

  it("every pattern it cannot run, in patternProperties and $defs too, each at its place", async () => {
    const found = await problems({
      "schema.json": [
        "{",
        '  "type": "object",',
        '  "patternProperties": { "^(x)\\\\1$": { "type": "string" } },',
        '  "properties": { "title": { "$ref": "#/$defs/name" }, "amount": { "type": "number", "pattern": "(" } },',
        '  "$defs": { "name": { "type": "string", "pattern": "^\\\\p{Letter}+$" } }',
        "}",
      ].join("\n"),
    });
    expect(found.map((p) => [p.file, p.line, p.column, p.rule])).toEqual([
      ["schema.json", 3, 26, "schema-pattern"],
      ["schema.json", 4, 86, "schema-pattern"],
      ["schema.json", 5, 42, "schema-pattern"],
    ]);
    expect(found.map((p) => p.message.split(": ")[1])).toEqual([
      "a backreference (\\1) cannot run on the engine that patterns run on (RE2, which never backtracks, so no data can make a pattern slow); write out the alternatives the repeat may take (([ab])\\1 as (aa|bb))",
      "it is not an ECMAScript regular expression (Unterminated group); write it as JavaScript's RegExp with the u flag reads it",
      "the property \\p{Letter} is not one RE2 (the engine patterns run on) knows; name a general category by its short name (\\p{L}, \\p{Lu}, \\p{Nd}) or a script by its long name (\\p{Han}, \\p{Latin})",
    ]);
  });

  it("a pattern too large for its matching time to stay small, with what to write instead", async () => {
    const p = await only({
      "schema.json": '{ "type": "object", "properties": { "title": { "type": "string", "pattern": "a[ab]{400}c" } } }',
      "example.json": JSON.stringify({ title: `a${"b".repeat(400)}c` }),
      "template.hbs": "{{title}}",
    });
    expect(p).toMatchObject({ file: "schema.json", line: 1, column: 66, rule: "schema-pattern" });
    expect(p.message).toBe(
      'the pattern "a[ab]{400}c": it takes up to 404 steps for each character of the text, more than the 128 allowed; bound lengths with "minLength"/"maxLength" rather than long counted repeats such as {1,250}',
    );
  });

  it("a pattern that would backtrack exponentially elsewhere passes: here it cannot", async () => {
    const result = await check({
      "schema.json": '{ "type": "object", "properties": { "title": { "type": "string", "pattern": "^(a+)+$" } } }',
      "example.json": '{ "title": "aaa" }',
      "template.hbs": "{{title}}",
    });
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
  });

  it("an example that breaks the schema: each error where it is", async () => {
    const found = await problems({ "example.json": '{\n  "title": 7,\n  "amount": "12.5",\n  "extra": true\n}' });
    expect(found.map((p) => [p.file, p.line, p.column, p.rule, p.message])).toEqual([
      ["example.json", 2, 3, "example-invalid", '/title must be string (expected "string")'],
      ["example.json", 3, 3, "example-invalid", '/amount must be number (expected "number")'],
      ["example.json", 4, 3, "example-invalid", "/extra is not allowed here"],
    ]);
  });

  it("a missing required field, at the object that lacks it", async () => {
    const p = await only({ "example.json": '{ "title": "x" }' });
    expect(p).toMatchObject({ file: "example.json", line: 1, column: 1, rule: "example-invalid" });
    expect(p.message).toBe("/amount is required");
  });

  it("an example that does not render: a field strict mode misses", async () => {
    const p = await only({ "template.hbs": "<h1>{{title}}</h1>\n<p>{{amount}} {{unit.name}}</p>" });
    expect(p).toMatchObject({ file: "template.hbs", line: 2, column: 17, rule: "example-render" });
    expect(p.message).toMatch(/^the example does not render: "name" not defined/);
  });

  it("… in a partial, named as the partial", async () => {
    const p = await only({
      "template.hbs": "<h1>{{title}}</h1>{{amount}}\n{{> row}}",
      "partials/row.hbs": "<p>\n  <b>{{nope}}</b></p>",
    });
    expect(p).toMatchObject({ file: "partials/row.hbs", line: 2, column: 8, rule: "example-render" });
  });

  it("… a helper that refuses a value", async () => {
    const p = await only({ "template.hbs": "{{formatDate title}}{{amount}}" });
    expect(p).toMatchObject({ file: "template.hbs", rule: "example-render" });
    expect(p.message).toContain('formatDate: "Hello" is not a date');
  });
});

describe("assets", () => {
  it("a font with CFF outlines (.ttf or .woff2) is refused; TrueType outlines pass", async () => {
    const found = await problems({
      "assets/cff.ttf": sfnt("OTTO", ["CFF ", "cmap", "head"]),
      "assets/cff2.ttf": sfnt(0x00010000, ["CFF2", "cmap"]),
      "assets/bitmap.ttf": sfnt(0x00010000, ["EBDT", "EBLC"]),
      "assets/truetype.ttf": sfnt(0x00010000, ["cmap", "glyf", "head", "loca"]),
      "assets/noto.woff2": fontsource("noto-sans-sc-latin-500-normal.woff2"),
    });
    expect(found.map((p) => [p.file, p.rule])).toEqual([
      ["assets/bitmap.ttf", "font"],
      ["assets/cff.ttf", "font-cff"],
      ["assets/cff2.ttf", "font-cff"],
    ]);
  });

  it("a WOFF2 font whose flavor is CFF", async () => {
    const woff2 = new Uint8Array(48);
    woff2.set(new TextEncoder().encode("wOF2OTTO"), 0);
    expect(await only({ "assets/cff.woff2": woff2 })).toMatchObject({ file: "assets/cff.woff2", rule: "font-cff" });
  });

  it("other types of files, and files that are not what their name says", async () => {
    const found = await problems({
      "assets/anim.gif": new Uint8Array([0x47, 0x49, 0x46, 0x38]),
      "assets/face.otf": sfnt("OTTO", ["CFF "]),
      "assets/photo.png": "not a png",
      "assets/logo.svg": "<html></html>",
    });
    expect(found.map((p) => [p.file, p.rule])).toEqual([
      ["assets/anim.gif", "asset-type"],
      ["assets/face.otf", "asset-type"],
      ["assets/logo.svg", "asset-content"],
      ["assets/photo.png", "asset-content"],
    ]);
  });
});

describe("limits and layout", () => {
  it("a file too large", async () => {
    const p = await only(
      { "example.json": `{ "title": "${"x".repeat(300)}", "amount": 1 }` },
      {
        ...defaultPackageLimits,
        maxFileBytes: 256,
      },
    );
    expect(p).toMatchObject({ file: "example.json", rule: "file-too-large" });
  });

  it("too many files", async () => {
    const partials = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`partials/p${i}.hbs`, "x"]));
    const p = await only(partials, { ...defaultPackageLimits, maxFiles: 8 });
    expect(p).toMatchObject({ file: "(package)", rule: "too-many-files" });
  });

  it("a package too large in all", async () => {
    const found = await problems(
      { "assets/a.svg": `<svg>${" ".repeat(400)}</svg>` },
      {
        ...defaultPackageLimits,
        maxTotalBytes: 500,
      },
    );
    expect(found.map((p) => p.rule)).toContain("package-too-large");
  });

  it("names outside the layout", async () => {
    const found = await problems({ "notes.txt": "x", "partials/deep/x.hbs": "x", "assets/sub/a.png": "x" });
    expect(found.map((p) => [p.file, p.rule])).toEqual([
      ["assets/sub/a.png", "path-layout"],
      ["notes.txt", "path-layout"],
      ["partials/deep/x.hbs", "path-layout"],
    ]);
  });
});

describe("anything that would fetch or run", () => {
  it("each vector, where it is", async () => {
    const found = await problems({
      "template.hbs": [
        "<h1>{{title}}</h1>{{amount}}",
        '<img src="http://127.0.0.1/x.png">',
        "<script>alert(1)</script>",
        '<div onclick="x()">',
        '<img src="assets/nope.png">',
        '<div style="width: {{title}}"></div>',
        '<img src="{{title}}">',
        "<{{title}}>",
        '<a href="javascript:alert(1)">x</a>',
      ].join("\n"),
      "style.css": "h1 { color: red; }\nbody { background: url(https://example.com/bg.png); }\n@import 'x.css';",
    });
    expect(found.map((p) => [p.file, p.line, p.column, p.rule])).toEqual([
      ["style.css", 2, 24, "fetch"],
      ["style.css", 3, 1, "fetch"],
      ["template.hbs", 2, 11, "fetch"],
      ["template.hbs", 3, 1, "script"],
      ["template.hbs", 4, 6, "script"],
      ["template.hbs", 5, 11, "unknown-asset"],
      ["template.hbs", 6, 20, "css-mustache"],
      ["template.hbs", 7, 11, "url-not-literal"],
      ["template.hbs", 8, 2, "mustache-in-tag"],
      ["template.hbs", 9, 10, "script"],
    ]);
  });
});
