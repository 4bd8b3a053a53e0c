import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRenderer } from "../../functions/core/render.ts";
import {
  defaultPackageLimits,
  formatProblem,
  type PackageProblem,
  readPackageDir,
  readPackageZip,
  writeZip,
} from "../../functions/packages/index.ts";
import { defineTemplate } from "../../functions/core/template/template-definition.ts";
import type { TemplateSource } from "../../functions/core/template/templates.ts";
import { pageDefaults } from "../../functions/packages/manifest.ts";
import { fence } from "../helpers/fence.ts";
import { root } from "../helpers/examples.ts";
import { renderer, closeRenderer } from "../helpers/render.ts";
import { describeFailure } from "../../functions/service/failure.ts";
import { BASE, baseFiles, hostileZip, text } from "../helpers/package-zips.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { startTrapServer, type TrapServer } from "../helpers/trap-server.ts";
import { tempDir } from "../helpers/temp-dir.ts";

// Hostile template packages: zips that would inflate without bound or write outside a folder, and
// every way a template, its CSS or an SVG asset could make the page fetch or run something. Each is
// refused by the checks, with the file (and place) to blame; and a package that skipped the checks
// still fetches nothing when rendered: the browser's fence stops it before the loopback trap.

const rules = (problems: PackageProblem[]) => problems.map((p) => [p.file, p.rule]);

describe("zip bombs", () => {
  it("an entry that inflates past its declared size is stopped at that size", async () => {
    const bomb = new Uint8Array(100 * 1024 * 1024); // 100 MB of zeros: about 100 KB deflated
    const zip = hostileZip([{ name: "assets/a.png", data: bomb, deflate: true, declaredSize: 1000 }]);
    expect(zip.byteLength).toBeLessThan(200_000);
    const started = performance.now();
    const read = readPackageZip(zip);
    expect(rules(read.problems)).toEqual([["assets/a.png", "zip-entry"]]);
    expect(read.problems[0]?.message).toBe("inflates to more than the 1000 bytes it declares");
    expect(performance.now() - started).toBeLessThan(200);
  });

  it("an entry that declares more than a file may hold is not inflated at all", () => {
    const read = readPackageZip(
      hostileZip([{ name: "assets/a.png", data: new Uint8Array(10), declaredSize: 2 ** 31, deflate: true }]),
    );
    expect(rules(read.problems)).toEqual([["assets/a.png", "file-too-large"]]);
  });

  it("declared sizes that add up past the total are refused before inflating", () => {
    const entries = Array.from({ length: 3 }, (_, i) => ({
      name: `assets/p${i}.png`,
      data: new Uint8Array(10),
      declaredSize: defaultPackageLimits.maxFileBytes,
    }));
    const read = readPackageZip(hostileZip(entries));
    expect(rules(read.problems)).toContainEqual(["assets/p2.png", "package-too-large"]);
  });

  it("entries that share their data (the overlapping-files bomb), or whose local header names another file", () => {
    const overlapping = readPackageZip(
      hostileZip([
        { name: "assets/a.svg", data: text("<svg/>") },
        { name: "assets/a.svg", sameDataAs: 4 },
      ]),
    );
    expect(rules(overlapping.problems)).toEqual([["(package)", "zip-invalid"]]);
    expect(overlapping.problems[0]?.message).toBe(
      "assets/a.svg and assets/a.svg overlap in the archive (a zip bomb's trick)",
    );
    const misnamed = readPackageZip(
      hostileZip([
        { name: "assets/a.svg", data: text("<svg/>") },
        { name: "assets/b.svg", sameDataAs: 4 },
      ]),
    );
    expect(misnamed.problems[0]?.message).toBe("assets/b.svg: its local header describes another file");
  });

  it("too many entries, ZIP64, encryption, a wrong CRC, no zip at all, a zip too large", () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ name: `x${i}/` }));
    expect(readPackageZip(hostileZip(many)).problems[0]?.message).toMatch(/at most \d+ are read/);
    expect(rules(readPackageZip(hostileZip([{ name: "assets/a.png", zip64: true }])).problems)).toEqual([
      ["(package)", "zip-invalid"],
    ]);
    const encrypted = readPackageZip(hostileZip([{ name: "assets/a.png", data: text("x"), flags: 1 }]));
    expect(encrypted.problems.map((p) => p.message)).toEqual(["is encrypted"]);
    const corrupt = readPackageZip(hostileZip([{ name: "assets/a.png", data: text("x"), crc: 1 }]));
    expect(corrupt.problems.map((p) => p.message)).toEqual(["is damaged (its CRC does not match)"]);
    expect(rules(readPackageZip(text("PK\u0003\u0004 not really")).problems)).toEqual([["(package)", "zip-invalid"]]);
    const small = { ...defaultPackageLimits, maxZipBytes: 100 };
    expect(rules(readPackageZip(writeZip(baseFiles()), small).problems)).toEqual([["(package)", "zip-too-large"]]);
  });
});

describe("damaged zips", () => {
  it("a zip cut short or with bytes changed anywhere gives problems, never an exception", async () => {
    const zip = writeZip(baseFiles({ "assets/a.svg": "<svg><rect/></svg>", "partials/p.hbs": "<b>{{title}}</b>" }));
    for (let length = 0; length < zip.length; length += 7) {
      expect(() => readPackageZip(zip.subarray(0, length))).not.toThrow();
    }
    let seed = 1;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 300; i++) {
      const mutated = new Uint8Array(zip);
      for (let k = 0; k < 3; k++) mutated[Math.floor(random() * zip.length)] = Math.floor(random() * 256);
      const read = readPackageZip(mutated);
      await expect(fence.check(read)).resolves.toBeDefined();
    }
  });
});

describe("names", () => {
  it("are refused when they climb out, are absolute, use backslashes, link, repeat or leave the layout", () => {
    const read = readPackageZip(
      hostileZip([
        { name: "../evil.hbs", data: text("x") },
        { name: "partials/../../evil.hbs", data: text("x") },
        { name: "/etc/passwd", data: text("x") },
        { name: "C:/Windows/x.hbs", data: text("x") },
        { name: "partials\\x.hbs", data: text("x") },
        { name: "assets/./a.png", data: text("x") },
        { name: "assets/bell\u0007.png", data: text("x") },
        { name: "assets/link.png", data: text("/etc/passwd"), mode: 0o120777 },
        { name: "template.hbs", data: text("<p>again</p>") },
        { name: "assets/Logo.svg", data: text("<svg/>") },
        { name: "assets/logo.svg", data: text("<svg/>") },
        { name: "bin/run.sh", data: text("rm -rf /") },
        { name: "partials/constructor.hbs", data: text("x") },
      ]),
    );
    expect(rules(read.problems)).toEqual([
      ["../evil.hbs", "path-unsafe"],
      ["partials/../../evil.hbs", "path-unsafe"],
      ["/etc/passwd", "path-unsafe"],
      ["C:/Windows/x.hbs", "path-unsafe"],
      ["partials\\x.hbs", "path-unsafe"],
      ["assets/./a.png", "path-unsafe"],
      ["assets/bell\u0007.png", "path-unsafe"],
      ["assets/link.png", "symlink"],
      ["template.hbs", "path-duplicate"],
      ["assets/logo.svg", "path-duplicate"],
      ["bin/run.sh", "path-layout"],
      ["partials/constructor.hbs", "path-layout"],
    ]);
  });

  it("a folder's symbolic links are refused, not followed", async () => {
    const dir = tempDir("report-render-package-");
    for (const [name, content] of Object.entries(BASE)) writeFileSync(join(dir, name), content);
    mkdirSync(join(dir, "assets"));
    symlinkSync("/etc/passwd", join(dir, "assets", "passwd.svg"));
    symlinkSync("/etc", join(dir, "partials"));
    const read = await readPackageDir(dir);
    expect(rules(read.problems)).toEqual([
      ["assets/passwd.svg", "symlink"],
      ["partials", "symlink"],
    ]);
    expect([...read.files.keys()].some((k) => k.includes("passwd"))).toBe(false);
  });

  it("a zip of the package's folder is read as the package", async () => {
    const files = new Map([...baseFiles()].map(([k, v]) => [`hostile/${k}`, v]));
    const result = await fence.check(readPackageZip(writeZip(files)));
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
  });
});

const TRAP = "http://127.0.0.1:9";

/** [what, file, content, rule]: each way to fetch or run, refused statically. */
const VECTORS: [string, string, string, string][] = [
  ["img src", "template.hbs", `<img src="${TRAP}/img">`, "fetch"],
  ["protocol-relative src", "template.hbs", '<img src="//127.0.0.1:9/img">', "fetch"],
  ["srcset", "template.hbs", `<img srcset="${TRAP}/a 2x">`, "srcset"],
  ["picture source", "template.hbs", `<picture><source srcset="${TRAP}/s"></picture>`, "media"],
  ["link stylesheet", "template.hbs", `<link rel="stylesheet" href="${TRAP}/css">`, "fetch"],
  ["iframe", "template.hbs", `<iframe src="${TRAP}/frame"></iframe>`, "embed"],
  ["object", "template.hbs", `<object data="${TRAP}/o"></object>`, "embed"],
  ["embed", "template.hbs", `<embed src="${TRAP}/e">`, "embed"],
  ["SVG image", "template.hbs", `<svg><image href="${TRAP}/svgimg"/></svg>`, "fetch"],
  ["SVG use", "template.hbs", `<svg><use xlink:href="${TRAP}/use.svg#a"/></svg>`, "fetch"],
  ["SVG feImage", "template.hbs", `<svg><filter><feImage href="${TRAP}/fe"/></filter></svg>`, "fetch"],
  ["SVG fill url()", "template.hbs", `<svg><rect fill="url(${TRAP}/fill#x)"/></svg>`, "fetch"],
  [
    "SVG animation",
    "template.hbs",
    `<svg><a><animate attributeName="href" to="${TRAP}/anim"/></a></svg>`,
    "svg-animation",
  ],
  ["style attribute", "template.hbs", `<div style="background:url(${TRAP}/style)"></div>`, "fetch"],
  ["style attribute, escaped", "template.hbs", `<div style="background:\\75 rl(${TRAP}/esc)"></div>`, "fetch"],
  ["style attribute, entities", "template.hbs", `<div style="background:&#117;rl(${TRAP}/ent)"></div>`, "fetch"],
  ["@import in <style>", "template.hbs", `<style>@import url(${TRAP}/imp.css);</style>`, "fetch"],
  ["image-set in <style>", "template.hbs", `<style>p{background:image-set("${TRAP}/set" 1x)}</style>`, "fetch"],
  ["background attribute", "template.hbs", `<table background="${TRAP}/bg"><tr><td>x</td></tr></table>`, "fetch"],
  ["video poster", "template.hbs", `<video poster="${TRAP}/p"></video>`, "media"],
  ["input image", "template.hbs", `<input type="image" src="${TRAP}/in">`, "fetch"],
  ["meta refresh", "template.hbs", `<meta http-equiv="refresh" content="0;url=${TRAP}/m">`, "fetch"],
  ["base", "template.hbs", `<base href="${TRAP}/">`, "fetch"],
  ["script", "template.hbs", `<script src="${TRAP}/s.js"></script>`, "script"],
  ["event handler", "template.hbs", `<img src="" onerror="fetch('${TRAP}/onerror')">`, "script"],
  ["javascript: URL", "template.hbs", `<a href="javascript:fetch('${TRAP}')">x</a>`, "script"],
  ["javascript: URL, obfuscated", "template.hbs", '<a href="jav&#x09;ascript&colon;x()">x</a>', "script"],
  ["in an HTML comment", "template.hbs", `<!-- <img src="${TRAP}/comment"> -->`, "fetch"],
  [
    "after a <style> a comment does not hide",
    "template.hbs",
    `<style>/*</style><img src=${TRAP}/x>*/</style>`,
    "fetch",
  ],
  ["a URL from data", "template.hbs", '<img src="{{title}}">', "url-not-literal"],
  ["CSS from data", "template.hbs", '<div style="{{title}}"></div>', "css-mustache"],
  ["CSS from data in <style>", "template.hbs", "<style>p { color: {{title}}; }</style>", "css-mustache"],
  ["a tag from data", "template.hbs", "<{{title}} src=x>", "mustache-in-tag"],
  ["an attribute from data", "template.hbs", '<img {{title}}="x">', "mustache-in-tag"],
  ["a partial inside CSS", "template.hbs", "<style>{{> css}}</style>", "css-partial"],
  ["@import", "style.css", `@import "${TRAP}/x.css";`, "fetch"],
  ["background url()", "style.css", `body { background: url(${TRAP}/bg); }`, "fetch"],
  ["@font-face src", "style.css", `@font-face { font-family: X; src: url(${TRAP}/font.woff2); }`, "fetch"],
  ["list-style-image", "style.css", `li { list-style-image: url("${TRAP}/li"); }`, "fetch"],
  ["cursor", "style.css", `a { cursor: url(${TRAP}/cur), auto; }`, "fetch"],
  ["escaped url()", "style.css", `p { background: \\75 rl(${TRAP}/escaped); }`, "fetch"],
  ["escaped @import", "style.css", `@\\69mport url(${TRAP}/escimport);`, "fetch"],
  ["image-set()", "style.css", `p { background-image: -webkit-image-set("${TRAP}/set" 1x); }`, "fetch"],
  ["mask", "style.css", `p { mask: url(${TRAP}/mask.svg#m); }`, "fetch"],
  ["content url()", "style.css", `p::before { content: url(${TRAP}/content); }`, "fetch"],
  ["an asset that is not there", "style.css", "p { background: url(assets/missing.png); }", "unknown-asset"],
  ["</style> in CSS", "style.css", `p{}</style><img src=${TRAP}/end>`, "css-style-end"],
  [
    "SVG asset: image",
    "assets/a.svg",
    `<svg xmlns="http://www.w3.org/2000/svg"><image href="${TRAP}/i"/></svg>`,
    "fetch",
  ],
  ["SVG asset: script", "assets/a.svg", "<svg><script>fetch('/x')</script></svg>", "script"],
  ["SVG asset: onload", "assets/a.svg", "<svg onload=\"fetch('/x')\"></svg>", "script"],
  ["SVG asset: entities", "assets/a.svg", '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>', "svg-doctype"],
  ["SVG asset: @import", "assets/a.svg", `<svg><style>@import url(${TRAP}/x);</style></svg>`, "fetch"],
  [
    "SVG asset: foreignObject",
    "assets/a.svg",
    `<svg><foreignObject><img src="${TRAP}/f"/></foreignObject></svg>`,
    "embed",
  ],
  ["SVG asset: another asset", "assets/a.svg", '<svg><use href="assets/b.svg#x"/></svg>', "fetch"],
];

describe("every fetch vector is refused by the checks", () => {
  it.each(VECTORS)("%s", async (_what, file, content, rule) => {
    const files = baseFiles({ "partials/css.hbs": "p{}" });
    const before = new TextDecoder().decode(files.get(file) ?? new Uint8Array());
    files.set(file, text(file === "template.hbs" ? `${before}${content}\n` : content));
    const result = await fence.check(readPackageZip(writeZip(files)));
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => [p.file, p.rule])).toContainEqual([file, rule]);
    if (file !== "assets/a.svg" || rule !== "svg-doctype") {
      expect(problems.find((p) => p.rule === rule)?.line).toBeGreaterThan(0);
    }
  });
});

/**
 * A template in the core's own hands (no fence, no rules for its HTML): what a package would be if
 * both its source checks and the rules at render time missed something. Chromium's request fence
 * is then the last line.
 */
function unfenced(id: string, template: string, css: string): TemplateSource {
  const definition = defineTemplate<object>({
    id,
    title: id,
    page: pageDefaults({ id, title: id }),
    view: (data) => data,
    metadata: () => ({ title: id, lang: "zh-CN" }),
    filename: () => id,
  });
  return {
    definition: definition as TemplateSource["definition"],
    files: { template, partials: {}, css, schema: { type: "object" }, example: {} },
  };
}

describe("every template vector, in a package that skipped the source checks, is refused at render", () => {
  const templateVectors = VECTORS.filter(([, file]) => file === "template.hbs");
  it.each(templateVectors)("%s", async (what, _file, content) => {
    const source = fence.uncheckedSource({
      manifest: { id: "unchecked", title: "Unchecked" },
      template: `<p>{{title}}</p>${content}`,
      // Data in a partial that lands in CSS.
      partials: { css: "p { color: {{title}}; }" },
      css: "",
      schema: { type: "object" },
      example: { title: "x" },
      uses: { chart: false, qrcode: false },
    });
    const refusal = await renderer
      .render({ template: "unchecked", data: { title: "x" } }, { template: source })
      .then(() => undefined, describeFailure);
    // Comments hold nothing the browser reads: the one vector that is harmless once parsed.
    if (what === "in an HTML comment") expect(refusal).toBeUndefined();
    else expect(refusal, what).toMatchObject({ status: 422, body: { error: "invalid_data" } });
  });
});

describe("a package that skipped every check", () => {
  let trap: TrapServer;
  beforeAll(async () => {
    trap = await startTrapServer();
  });
  afterAll(async () => {
    await trap.close();
    await closeRenderer();
  });

  it("still fetches nothing and runs nothing when rendered: the browser's fence stops every vector", async () => {
    const base = trap.base;
    // A meta refresh navigates the page away (refused by the fence too, but it ends the render): apart, below.
    const vectors = VECTORS.filter(([what, file]) => file !== "assets/a.svg" && what !== "meta refresh").map(
      ([, file, content]): [string, string] => [
        file,
        content.replaceAll(TRAP, base).replaceAll("//127.0.0.1:9", base.replace("http:", "")),
      ],
    );
    const body = vectors.filter(([file]) => file === "template.hbs").map(([, c]) => c);
    const css = vectors.filter(([file]) => file === "style.css").map(([, c]) => c);
    const source = unfenced(
      "unchecked",
      [
        "<p>fence holds {{title}}</p>",
        `<img src="${base}/data-driven" onerror="document.body.textContent='SCRIPT RAN'">`,
        ...body.map((c) => c.replaceAll("{{title}}", "t").replaceAll("{{> css}}", "")),
      ].join("\n"),
      css.join("\n"),
    );
    const own = createRenderer({ templates: [source], packagesRoot: root, producer: "hostile test" });
    const result = await own.render({ template: "unchecked", data: { title: "ok" } }).finally(() => own.close());
    const printed = squash((await pageTexts(result.pdf)).join(""));
    expect(printed).toContain("fenceholdsok");
    expect(printed).not.toContain("SCRIPTRAN");
    expect(printed).not.toContain("root:");
    expect(trap.hits()).toBe(0);
    expect(result.refusedRequests).toEqual(
      expect.arrayContaining(
        ["img", "data-driven", "bg", "style", "esc", "ent", "imp.css", "svgimg", "fe", "frame", "cur"].map(
          (path) => `${base}/${path}`,
        ),
      ),
    );
  });

  it("a meta refresh that skipped the checks navigates nowhere: the render fails, the trap is not reached", async () => {
    const source = unfenced("refresh", `<p>x</p><meta http-equiv="refresh" content="0;url=${trap.base}/refresh">`, "");
    const own = createRenderer({ templates: [source], packagesRoot: root, producer: "hostile test" });
    await own.render({ template: "refresh", data: {} }).catch(() => undefined);
    await own.close();
    expect(trap.hits()).toBe(0);
  });
});

describe("a package that is too much work for its data", () => {
  it("a grid of 6,000 × 6,000 cells from 12,000 values is refused (too_complex) within seconds, not computed", async () => {
    const checked = await fence.check(
      readPackageZip(
        writeZip(
          baseFiles({
            "template.hbs":
              "<table>{{#each rows}}<tr>{{#each ../cols}}<td>{{this}}</td>{{/each}}</tr>{{/each}}</table>",
            "schema.json":
              '{ "type": "object", "properties": { "rows": { "type": "array" }, "cols": { "type": "array" } } }',
            "example.json": '{ "rows": ["a"], "cols": ["b"] }',
          }),
        ),
      ),
    );
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    const data = { rows: Array(6000).fill(""), cols: Array(6000).fill("") };
    const started = performance.now();
    const refusal = await renderer
      .render({ template: "hostile", data }, { template: checked.package.source })
      .catch((e: unknown) => describeFailure(e));
    // A runaway guard (about 1 s here, its thread's start included): the budget stops it, not a clock.
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(refusal).toMatchObject({ status: 422, body: { error: "too_complex" } });
    // The same package with data of a sensible size renders.
    const fine = await renderer.render(
      { template: "hostile", data: { rows: ["甲", "乙"], cols: ["一", "二"] } },
      { template: checked.package.source },
    );
    expect(squash((await pageTexts(fine.pdf)).join(""))).toContain("一二一二");
  });
});
