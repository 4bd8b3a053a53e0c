import { describe, expect, it } from "vitest";
import { cssFindings } from "../../../functions/packages/fence/css-policy.ts";
import { type MarkKind, marked, splitMarks } from "../../../functions/packages/fence/output-marks.ts";
import { parseOutput } from "../../../functions/packages/fence/output-policy.ts";
import { fence } from "../../helpers/fence.ts";

// The rules for a package's HTML, on the HTML as Chromium parses it, with the ranges that came from
// data: each case is the output of a template run (data bracketed as the fence brackets it).

const d = (text: string, kind: MarkKind = "data") => marked(kind, text);

/** The data: URL of the package's one asset in these cases. */
const ASSET = "data:image/png;base64,AAAA";

const findings = (output: string) => {
  const { html, ranges } = splitMarks(output);
  return parseOutput(html, ranges, new Set([ASSET])).findings;
};
const rules = (output: string): string[] => findings(output).map((f) => f.rule);

describe("the output rules, on the parsed HTML", () => {
  it.each([
    ["text and attributes from data", `<p class="${d("x")}" title="${d("a b")}">${d("a &lt; b")}</p>`],
    ["a number from data in CSS", `<style>p { width: ${d("12.5")}mm }</style><p style="width:${d("50")}%">`],
    [
      "cssString / cssValue output in CSS",
      `<style>p { content: ${d("'\\00004e'", "css")}; color: ${d("red", "css")} }</style>`,
    ],
    ["an image's whole src through dataImage", `<img alt="" src="${d("data:image/png;base64,AAAA", "image")}">`],
    [
      "a link after its literal scheme",
      `<a href="https://${d("example.org/x")}">x</a><a href="mailto:${d("a@b.c")}">m</a>`,
    ],
    [
      "assets inlined as data: URLs",
      `<img src="${ASSET}"><p style="background:url(${ASSET})"><svg><image href="${ASSET}"/></svg>`,
    ],
    ["an asset quoted, in a <style>", `<style>p{background:url("${ASSET}")}</style>`],
    ["#id references", `<svg><use href="#a"/><rect fill="url(#g)"/></svg><a href="#top">t</a>`],
    ["data in a comment", `<!-- ${d("--&gt;")} -->`],
  ])("allows %s", (_what, output) => {
    expect(rules(output)).toEqual([]);
  });

  it.each([
    ["data as a CSS keyword after a lone CR", `<p>x</p>\r<style>p { display: ${d("none")} }</style>`, "css-data"],
    ["data in a style attribute", `<p style="display:${d("none")}">`, "css-data"],
    ["data in an SVG presentation attribute", `<svg><rect fill="${d("url(#a)")}"/></svg>`, "css-data"],
    ["a tag's name from data", `<${d("script")}>x`, "data-in-tag"],
    ["a tag's name completed by data", `<sty${d("le")}>p{}</style>`, "data-in-tag"],
    ["an attribute's name from data", `<p ${d("hidden")}>`, "data-in-tag"],
    ["an image's src from plain data", `<img src="${d("data:image/png;base64,AAAA")}">`, "url-data"],
    ["an unquoted src from data", `<img src=${d("http://x")}>`, "url-data"],
    ["a link whose scheme is data", `<a href="${d("https://x")}">x</a>`, "url-data"],
    ["a javascript: link", `<a href="jav&#x09;ascript&colon;x()">x</a>`, "script"],
    ["an event handler", `<img src="" onerror="x()">`, "script"],
    ["a remote image", `<img src="http://127.0.0.1:9/a.png">`, "fetch"],
    ["url() in CSS, upper case", `<style>p{background:URL(http://x)}</style>`, "fetch"],
    ["url() spelt with a CSS escape", `<style>p{background:\\75 rl(http://x)}</style>`, "fetch"],
    [
      "@import spelt with a reference, in SVG (parsed, decoded)",
      `<svg><style>@&#105;mport 'x.css';</style></svg>`,
      "fetch",
    ],
    ["image-set()", `<p style="background: image-set('a.png' 1x)">`, "fetch"],
    ["attr() as a URL", `<p style="background: attr(data-x url)">`, "fetch"],
    ["xlink:href out", `<svg><use xlink:href="http://x#a"/></svg>`, "fetch"],
    ["a <select> hiding an image from parse5's older parsing", `<select><img src="http://x"></select>`, "parser"],
    ["<noscript>", "<noscript><p>x</p></noscript>", "script"],
    ["<script>", "<script>x()</script>", "script"],
    ["<template> content is read too", "<template><style>p{background:url(http://x)}</style></template>", "fetch"],
    ["srcset", `<img srcset="data:image/png;base64,AA 2x">`, "srcset"],
    ["an image of the template's own that is no asset", `<img src="data:image/png;base64,AAAB">`, "fetch"],
    ["a data: URL in CSS that is no asset", `<style>p{background:url(data:image/png;base64,AAAB)}</style>`, "fetch"],
    [
      "url( split from a cssString that makes a data: URL",
      `<style>.a { background: url(${d("'data\\00003aimage/svg+xml,x'", "css")}) }</style>`,
      "fetch",
    ],
    ["data in <font color>", `<font color="${d("white")}">x</font>`, "css-data"],
  ])("refuses %s", (_what, output, rule) => {
    expect(rules(output)).toContain(rule);
  });

  it("every finding says where (the attribute at fault), and HTML without data is judged the same way (no locations kept)", () => {
    expect(findings(`<p>${d("x")}</p><img src="http://x">`)).toEqual([
      expect.objectContaining({ rule: "fetch", offset: 13 }),
    ]);
    expect(rules('<p>x</p><img src="http://x">')).toEqual(["fetch"]);
  });
});

describe("what the parse gives the core", () => {
  it("the headings' text (not those in a <template>) and the <style> sheets", () => {
    const { html, ranges } = splitMarks(
      `<h1>第一&amp;章 <b>${d("甲")}</b></h1><template><h2>hidden</h2></template><h3>\n a\n b </h3><style>@page{}</style>`,
    );
    const parsed = parseOutput(html, ranges, new Set());
    expect(parsed.headings).toEqual(["第一&章 甲", "a b"]);
    expect(parsed.styles).toEqual(["@page{}"]);
  });
});

describe("a package that skipped the source checks", () => {
  it.each([
    ["{{{x}}}", "{{{text}}}"],
    ["{{& x}}", "{{& text}}"],
    ["lookup as a block (its output unescaped)", '{{#lookup this "text"}}{{/lookup}}'],
  ])("cannot write unmarked output with %s: its render is refused", async (_what, template) => {
    const source = fence.uncheckedSource({
      manifest: { id: "raw", title: "Raw" },
      template: `<p>x</p>${template}`,
      partials: {},
      css: "",
      schema: { type: "object" },
      example: {},
    });
    if (!("fenced" in source)) throw new Error("a package's source is fenced");
    const refusal = await source.fenced
      .render({ text: "<style>p{display:none}</style>" }, AbortSignal.timeout(60_000))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refusal).toMatchObject({ code: "invalid_data", issues: [{ rule: "template-render" }] });
  });
});

describe("marks", () => {
  it("split into the HTML without them and the ranges of data", () => {
    const { html, ranges } = splitMarks(`<p>${d("ab")}-${d("c", "css")}</p>`);
    expect(html).toBe("<p>ab-c</p>");
    expect(ranges).toEqual([
      { start: 3, end: 5, kind: "data" },
      { start: 6, end: 7, kind: "css" },
    ]);
  });

  it("a reserved character out of place (only a template's own text could hold one) is an error", () => {
    expect(() => splitMarks("<p>\ufdd1</p>")).toThrow("reserved");
    expect(() => splitMarks(`<p>\ufdd0x</p>`)).toThrow("inside a value");
  });

  it("data that holds the marks' characters cannot forge a range: they print as U+FFFD", async () => {
    const source = fence.uncheckedSource({
      manifest: { id: "marks", title: "Marks" },
      template: "<style>p { color: {{cssValue colour}} }</style><p>{{text}}</p>",
      partials: {},
      css: "",
      schema: { type: "object" },
      example: {},
      uses: { chart: false, qrcode: false },
    });
    if (!("fenced" in source)) throw new Error("a package's source is fenced");
    const { html } = await source.fenced.render(
      { colour: "red", text: "\ufdd1\ufdd2none\ufdd3" },
      AbortSignal.timeout(60_000),
    );
    expect(html).toContain("<p>\ufffd\ufffdnone\ufffd</p>");
    expect(html).toContain("color: red");
  });
});

describe("CSS as the browser tokenizes it", () => {
  it.each([
    ["a comment of İ before url()", `/* ${"İ".repeat(22)} */ p { background: url(http://x) }`, 1],
    ["url( in a comment is no url()", "/* url(http://x) */ p {}", 0],
    ["a quoted url()", `p { background: url("http://x") }`, 1],
    ["an asset and #id", `p { background: url(${ASSET}) } q { mask: url(#m) }`, 0],
    ["a data: URL that is no asset", "p { background: url(data:image/png;base64,AAAB) }", 1],
    ["@import in any case and escape", "@IMPORT 'a'; @\\69mport 'b';", 2],
    ["src() and -webkit-image-set()", "p { a: src('x'); b: -webkit-image-set('y' 1x) }", 2],
  ])("%s", (_what, css, count) => {
    expect(cssFindings(css, (url) => url === ASSET)).toHaveLength(count);
  });
});
