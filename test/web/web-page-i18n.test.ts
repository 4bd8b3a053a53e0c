import chromium from "@sparticuz/chromium";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messages } from "../../functions/web/messages.js";
import { example, examplePath, startTestService, type TestService } from "../helpers/local-service.ts";
import { gotoSettled, reloadSettled } from "../helpers/settled.ts";

// The page in Chinese and English, in its own fonts: driven in the project's Chromium, which has no
// CJK font of its own (only DejaVu), so any Chinese not drawn with the bundled font would be boxes.
let service: TestService;
let browser: Browser;
const pageErrors: string[] = [];

const web = join(import.meta.dirname, "../../functions/web");
const { en, "zh-CN": zh } = messages;

beforeAll(async () => {
  service = await startTestService();
  browser = await puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((arg) => arg !== "--disable-web-security"),
    headless: "shell",
  });
});

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await service?.stop();
});

/** A page whose browser says it prefers `languages` (navigator.languages and Accept-Language, as Chromium's --lang does). */
async function open(languages: string, setup: (page: Page) => Promise<void> = async () => {}): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const cdp = await page.createCDPSession();
  await cdp.send("Emulation.setUserAgentOverride", { userAgent: await browser.userAgent(), acceptLanguage: languages });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await setup(page);
  await gotoSettled(page, `${service.url}/`);
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  return page;
}

/** Closes the page, and forgets the language it remembered (the pages share one profile). */
async function close(page: Page): Promise<void> {
  await page.evaluate(() => localStorage.clear()).catch(() => {});
  await page.close();
}

const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent?.trim() ?? "");

/** The fonts Chromium drew an element's text with (CSS.getPlatformFontsForNode), by family. */
async function fontsOf(page: Page, selector: string): Promise<{ family: string; custom: boolean; glyphs: number }[]> {
  const cdp = await page.createCDPSession();
  await cdp.send("DOM.enable");
  await cdp.send("CSS.enable");
  const { root } = await cdp.send("DOM.getDocument", { depth: -1, pierce: true });
  const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector });
  // A text field's text is in its user-agent shadow tree (the inner editor, beside the placeholder).
  const { node } = await cdp.send("DOM.describeNode", { nodeId, depth: 2, pierce: true });
  const inner = (node.shadowRoots?.[0]?.children ?? []).map((child) => child.backendNodeId);
  const targets = inner.length
    ? (await cdp.send("DOM.pushNodesByBackendIdsToFrontend", { backendNodeIds: inner })).nodeIds
    : [nodeId];
  const fonts = [];
  for (const target of targets)
    fonts.push(...(await cdp.send("CSS.getPlatformFontsForNode", { nodeId: target })).fonts);
  await cdp.detach();
  return fonts.map((f) => ({ family: f.familyName, custom: f.isCustomFont, glyphs: f.glyphCount }));
}

describe("the web page's languages", () => {
  it.each([
    ["zh-CN,zh", "zh-CN"],
    ["zh-TW", "zh-CN"],
    ["fr-FR,zh", "zh-CN"], // any Chinese the browser lists
    ["en-US,en", "en"],
    ["de-DE", "en"],
  ])("follows a browser that prefers %s: %s", async (languages, expected) => {
    const page = await open(languages);
    try {
      const chinese = expected === "zh-CN";
      expect(await page.$eval("html", (h) => h.lang)).toBe(expected);
      expect(await page.title()).toBe(chinese ? "report-render · JSON 转 PDF" : "report-render · JSON to PDF");
      expect(await text(page, "h1")).toBe(chinese ? "报告 JSON → PDF" : "Report JSON → PDF");
      expect(await text(page, "#render-button")).toBe(chinese ? "生成 PDF" : "Render PDF");
      expect(await text(page, "#status")).toBe(chinese ? "尚未生成报告。" : "No report rendered yet.");
      expect(await text(page, "#package-drop-zone .file-label")).toBe(
        chinese ? "选择模板包（.zip）" : "Choose a template package (.zip)",
      );
      expect(await page.$eval("#source", (t) => t.getAttribute("placeholder"))).toBe(
        chinese ? "在此粘贴或输入报告的 JSON" : "Paste or type a report's JSON here",
      );
      expect(await page.$eval("#pages", (p) => p.getAttribute("aria-label"))).toBe(
        chinese ? "页面预览" : "Page previews",
      );
      expect(await page.$eval(".language", (g) => g.getAttribute("aria-label"))).toBe(chinese ? "语言" : "Language");
      expect(await page.$eval(`.language-choice[data-lang="${expected}"]`, (b) => b.getAttribute("aria-pressed"))).toBe(
        "true",
      );
      // No sign-in without its settings (npm start): the account area stays hidden.
      expect(await page.$eval("#account", (a) => (a as HTMLElement).hidden)).toBe(true);
    } finally {
      await close(page);
    }
  });

  it("has every text in both languages, and every key the page uses", async () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en)) {
      expect(typeof zh[key], key).toBe(typeof en[key]);
      if (typeof zh[key] === "string" && !["source.label", "pdf.heading", "status.httpStatus"].includes(key))
        expect(zh[key], key).toMatch(/\p{Script=Han}/u);
    }

    // Keys in the HTML (data-i18n, data-i18n-attrs) and in the modules (string literals of a key's shape).
    const html = await readFile(join(web, "index.html"), "utf8");
    const used = new Set(["title"]);
    for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) used.add(m[1] ?? "");
    for (const m of html.matchAll(/data-i18n-attrs="([^"]+)"/g))
      for (const pair of (m[1] ?? "").split(";")) used.add(pair.split("=")[1] ?? "");
    const namespaces = new Set(Object.keys(en).flatMap((k) => (k.includes(".") ? [k.split(".")[0]] : [])));
    for (const file of ["app.js", "account.js", "sign-in.js", "i18n.js"]) {
      const code = await readFile(join(web, file), "utf8");
      for (const m of code.matchAll(/"([a-z][a-zA-Z]*)\.([a-zA-Z.]+)"/g))
        if (namespaces.has(m[1] ?? "")) used.add(`${m[1]}.${m[2]}`);
    }
    expect(used.size).toBeGreaterThan(60);
    expect([...used].filter((key) => !(key in en) || !(key in zh))).toEqual([]);
    // …and no text that nothing shows.
    expect(Object.keys(en).filter((key) => !used.has(key))).toEqual([]);
  });

  it("switches with its buttons, remembers the choice, and keeps what was typed and shown", async () => {
    const page = await open("en-US");
    try {
      // Errors shown in English first, from a file whose data breaks the schema.
      const broken = example();
      broken.data.year = "abc";
      delete broken.data.agency;
      const file = join(service.dir, "i18n-broken.json");
      await writeFile(file, JSON.stringify(broken, null, 2));
      await (await page.$("input#file-input"))?.uploadFile(file);
      await page.waitForSelector("#errors:not([hidden])");
      const status = await text(page, "#status");
      expect(status).toMatch(/^Not rendered: /);
      const serviceMessage = status.slice("Not rendered: ".length);
      await page.$eval("#source", (t) => {
        (t as HTMLTextAreaElement).value += "\n// typed by hand";
      });
      const typed = await page.$eval("#source", (t) => (t as HTMLTextAreaElement).value);
      await page.evaluate(() => {
        (window as unknown as { marker: number }).marker = 42; // gone if the page reloads
      });

      await page.click('.language-choice[data-lang="zh-CN"]');
      expect(await page.$eval("html", (h) => h.lang)).toBe("zh-CN");
      expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
      expect(await page.$eval("#source", (t) => (t as HTMLTextAreaElement).value)).toBe(typed);
      // The surrounding words are Chinese; the service's message, rules and paths stay as it wrote them.
      expect(await text(page, "#status")).toBe(`未生成：${serviceMessage}`);
      expect(await text(page, "#errors-heading")).toMatch(/^\d+ 个错误$/);
      expect(await text(page, "#errors-hint")).toBe("选择路径，即可在 JSON 中看到它的位置。");
      const items = await page.$$eval("#error-list li", (lis) => lis.map((li) => li.textContent ?? ""));
      expect(items.join("\n")).toMatch(/\/year.* · 第 \d+ 行/);
      expect(items.join("\n")).toContain("/agency");
      const label = await page.$eval("#error-list button.error-path", (b) => b.getAttribute("aria-label"));
      expect(label).toMatch(/^\/\S*，第 \d+ 行：在 JSON 中显示$/);
      expect(await page.evaluate(() => localStorage.getItem("report-render.language"))).toBe("zh-CN");

      // Remembered over the browser's language, after a reload.
      await reloadSettled(page);
      expect(await page.$eval("html", (h) => h.lang)).toBe("zh-CN");
      expect(await text(page, "h1")).toBe("报告 JSON → PDF");

      await page.click('.language-choice[data-lang="en"]');
      expect(await text(page, "h1")).toBe("Report JSON → PDF");
      expect(await page.$eval(".language-choice[data-lang='en']", (b) => b.getAttribute("aria-pressed"))).toBe("true");
      expect(await page.$eval(".language-choice[data-lang='zh-CN']", (b) => b.getAttribute("aria-pressed"))).toBe(
        "false",
      );
    } finally {
      await close(page);
    }
  });

  it("tells of a rendered PDF in Chinese, previews included, and in English after a switch", async () => {
    const page = await open("zh-CN,zh");
    try {
      await (await page.$("input#file-input"))?.uploadFile(examplePath);
      await page.waitForSelector("#pages[data-done='true']", { timeout: 30_000 });
      const name = "湛河区交通运输局-2020-政府信息公开工作年度报告.pdf";
      expect(await text(page, "#status")).toBe(`完成：${name}，共 7 页。预览见下方。`);
      expect(await text(page, "#download-link")).toBe(`下载 ${name}`);
      expect(await text(page, "#pdf-facts")).toMatch(/^7 页 · \d+ KB$/);
      expect(await text(page, "#pages figure:first-child figcaption")).toBe("第 1 页");
      expect(await page.$eval("#pages canvas", (c) => c.getAttribute("aria-label"))).toBe("第 1 页，共 7 页");

      await page.click('.language-choice[data-lang="en"]');
      expect(await text(page, "#status")).toBe(`Done: ${name}, 7 pages. Previews are below.`);
      expect(await text(page, "#pdf-facts")).toMatch(/^7 pages · \d+ KB$/);
      expect(await text(page, "#pages figure:first-child figcaption")).toBe("Page 1");
      expect(await page.$eval("#pages canvas", (c) => c.getAttribute("aria-label"))).toBe("Page 1 of 7");
      // Nothing on the page shows a key instead of its text.
      const keys = await page.$$eval("[data-i18n]", (els) =>
        els.filter((e) => e.textContent === (e as HTMLElement).dataset.i18n).map((e) => e.outerHTML),
      );
      expect(keys).toEqual([]);
    } finally {
      await close(page);
    }
  });

  it("draws its Chinese with the bundled Noto Sans SC, never boxes (and would fail without it)", async () => {
    const page = await open("zh-CN");
    try {
      await page.$eval("#source", (t) => {
        (t as HTMLTextAreaElement).value = '{ "标题": "湛河区交通运输局" }';
      });
      // New characters may need slices not loaded yet.
      await page.evaluate(() =>
        new Promise(requestAnimationFrame).then(() => document.fonts.ready).then(() => undefined),
      );
      expect(await page.evaluate(() => document.fonts.check('16px "Noto Sans SC"', "报告数据生成"))).toBe(true);
      for (const selector of ["h1", "#input-heading", "#render-button", "#status", "#drop-help", ".file-label"]) {
        const fonts = await fontsOf(page, selector);
        expect(fonts.length, selector).toBeGreaterThan(0);
        expect(fonts, selector).toEqual(
          fonts.map(() => expect.objectContaining({ family: expect.stringMatching(/^Noto Sans SC/), custom: true })),
        );
      }
      // The JSON text: its Latin in a monospace font, its Chinese (10 characters) in the bundled one.
      const source = await fontsOf(page, "#source");
      expect(source.find((f) => f.custom && f.family.startsWith("Noto Sans SC"))?.glyphs).toBe(10);
      expect(source.find((f) => !f.custom)?.family).toMatch(/Mono/);
    } finally {
      await close(page);
    }

    // The same page with the font files refused: the machine's own font draws the same text.
    const bare = await open("zh-CN", async (p) => {
      await p.setRequestInterception(true);
      p.on("request", (request) => {
        if (new URL(request.url()).pathname.startsWith("/assets/fonts/")) void request.abort();
        else void request.continue();
      });
    });
    try {
      const fonts = await fontsOf(bare, "h1");
      expect(fonts.length).toBeGreaterThan(0);
      expect(fonts.every((f) => !f.custom && !f.family.startsWith("Noto Sans SC"))).toBe(true);
      expect(await bare.evaluate(() => document.fonts.check('16px "Noto Sans SC"', "报告"))).toBe(false);
    } finally {
      await close(bare);
    }
  });

  it("serves the font as @fontsource ships it: woff2 slices by unicode-range, each one served", async () => {
    const css = await (await fetch(`${service.url}/assets/fonts.css`)).text();
    const faces = [...css.matchAll(/@font-face\{([^}]*)\}/g)].map((m) => m[1] ?? "");
    expect(faces.length).toBeGreaterThan(150); // ~100 slices a weight, 400 and 700
    for (const weight of ["400", "700"]) expect(faces.some((f) => f.includes(`font-weight:${weight};`))).toBe(true);
    for (const face of faces) {
      expect(face).toMatch(/font-family:"Noto Sans SC"/);
      expect(face).toMatch(/unicode-range:U\+/);
      expect(face).toMatch(/src:url\(\/assets\/fonts\/noto-sans-sc\/[a-z0-9-]+\.woff2\) format\("woff2"\)/);
    }
    const urls = faces.map((f) => /url\(([^)]+)\)/.exec(f)?.[1] ?? "");
    // A sample of them (the first, a CJK slice and the last): woff2 bytes, cached a day.
    for (const url of [urls[0], urls[Math.floor(urls.length / 3)], urls.at(-1)]) {
      const response = await fetch(`${service.url}${url}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("font/woff2");
      expect(response.headers.get("cache-control")).toBe("public, max-age=86400");
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("wOF2");
    }
  });
});
