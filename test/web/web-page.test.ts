import chromium from "@sparticuz/chromium";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import puppeteer, { type Browser, type ElementHandle, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPackageDir, writeZip } from "../../functions/packages/index.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import {
  example,
  EXAMPLE_AGENCY,
  examplePath,
  startTestService,
  type TestService,
  waitFor,
} from "../helpers/local-service.ts";
import { gotoSettled } from "../helpers/settled.ts";

// The page at / driven in a real browser: the same @sparticuz/chromium, but a browser of the test's
// own (the render core's Chromium refuses all network access and runs no page scripts).
let service: TestService;
let browser: Browser;
let page: Page;
let downloads: string;

beforeAll(async () => {
  service = await startTestService();
  downloads = join(service.dir, "downloads");
  browser = await puppeteer.launch({
    executablePath: await chromium.executablePath(),
    // As a user's browser: @sparticuz/chromium's args turn the same-origin policy off (CORS unchecked).
    // In English, whatever the machine's locale (the page follows the browser's language).
    args: [...chromium.args.filter((arg) => arg !== "--disable-web-security"), "--lang=en-US"],
    headless: "shell",
  });
  const session = await browser.target().createCDPSession();
  await session.send("Browser.setDownloadBehavior", {
    behavior: "allow",
    downloadPath: downloads,
    eventsEnabled: true,
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on("pageerror", (error) => {
    throw error;
  });
  await gotoSettled(page, `${service.url}/`);
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

async function chooseFile(path: string, input = "input#file-input"): Promise<void> {
  const handle = (await page.$(input)) as ElementHandle<HTMLInputElement> | null;
  if (!handle) throw new Error(`no ${input}`);
  await handle.uploadFile(path);
}

const packageDir = join(import.meta.dirname, "../../examples/packages/payment-notice");

/** The example package zipped, with `change` applied to its files (name → text) first. */
async function zippedPackage(change: (text: Map<string, string>) => void = () => {}): Promise<Uint8Array> {
  const { files } = await readPackageDir(packageDir);
  const texts = new Map<string, string>();
  change(texts);
  for (const [name, text] of texts) files.set(name, new TextEncoder().encode(text));
  return writeZip(files);
}

async function packageText(name: string): Promise<string> {
  return readFile(join(packageDir, name), "utf8");
}

/** The problem list as shown: each file with the problems listed under it. */
async function shownProblems(on: Page = page): Promise<{ file: string; problems: string[] }[]> {
  return on.$$eval("#error-list > li.problem-file", (groups) =>
    groups.map((group) => ({
      file: group.querySelector(".problem-file-name")?.textContent ?? "",
      problems: [...group.querySelectorAll(".problem")].map((li) => li.textContent ?? ""),
    })),
  );
}

describe("the web page", () => {
  it("is accessible: every control labelled, a live region for results, a skip link", async () => {
    const unlabelled = await page.$$eval("input, select, textarea", (controls) =>
      controls.filter((c) => (c as HTMLInputElement).labels?.length === 0).map((c) => c.id),
    );
    expect(unlabelled).toEqual([]);
    expect(await page.$eval("#status", (s) => [s.getAttribute("role"), s.getAttribute("aria-live")])).toEqual([
      "status",
      "polite",
    ]);
    expect(await page.$eval("html", (h) => h.lang)).toBe("en");
    expect(await page.$eval(".skip-link", (a) => a.getAttribute("href"))).toBe("#main");
    // The language switch says which language is on; without sign-in settings there is no account area.
    expect(
      await page.$$eval(".language-choice", (bs) => bs.map((b) => [b.textContent, b.getAttribute("aria-pressed")])),
    ).toEqual([
      ["中文", "false"],
      ["English", "true"],
    ]);
    expect(await page.$eval("#account", (a) => (a as HTMLElement).hidden)).toBe(true);
  });

  it("renders an uploaded example: page previews are drawn and the PDF downloads", async () => {
    await chooseFile(examplePath);
    await page.waitForSelector("#pages[data-done='true']", { timeout: 30_000 });

    const status = await page.$eval("#status", (s) => s.textContent ?? "");
    expect(status).toMatch(/^Done: .*7 pages/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("pdf-heading");

    const previews = await page.$$eval("#pages canvas", (canvases) =>
      canvases.map((canvas) => {
        const { data } = (canvas as HTMLCanvasElement)
          .getContext("2d")!
          .getImageData(0, 0, canvas.width, canvas.height);
        let inked = 0;
        for (let i = 0; i < data.length; i += 4) if ((data[i] ?? 255) < 128) inked++;
        return { label: canvas.getAttribute("aria-label"), inked };
      }),
    );
    expect(previews).toHaveLength(7);
    expect(previews[0]?.label).toBe("Page 1 of 7");
    for (const preview of previews) expect(preview.inked).toBeGreaterThan(100); // text was drawn

    const link = await page.$eval("#download-link", (a) => ({
      href: (a as HTMLAnchorElement).href,
      name: (a as HTMLAnchorElement).download,
    }));
    expect(link.href).toMatch(/^blob:/);
    expect(link.name).toBe("湛河区交通运输局-2020-政府信息公开工作年度报告.pdf");
    await page.click("#download-link");
    const saved = await waitFor(async () => {
      const files = await readdir(downloads).catch((): string[] => []);
      return files.includes(link.name) ? join(downloads, link.name) : undefined;
    });
    const pdf = new Uint8Array(await readFile(saved));
    expect(squash((await pageTexts(pdf)).join(""))).toContain(EXAMPLE_AGENCY);
  });

  it("shows the errors of a broken file by path, each linked to its place in the JSON", async () => {
    const broken = example();
    broken.data.year = "abc";
    delete broken.data.agency;
    const file = join(service.dir, "broken.json");
    await writeFile(file, JSON.stringify(broken, null, 2));
    await chooseFile(file);
    await page.waitForSelector("#errors:not([hidden])");

    expect(await page.$eval("#pdf", (p) => (p as HTMLElement).hidden)).toBe(true);
    expect(await page.$eval("#status", (s) => s.textContent)).toMatch(/^Not rendered: /);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("errors-heading");
    const paths = await page.$$eval("#error-list .error-path", (els) => els.map((e) => e.textContent));
    expect(paths).toEqual(expect.arrayContaining(["/agency", "/year"]));

    // Selecting /year selects the "year" member in the text beside the list.
    const buttons = await page.$$("#error-list button.error-path");
    for (const button of buttons) {
      if ((await button.evaluate((b) => b.textContent)) !== "/year") continue;
      await button.click();
    }
    const selected = await page.$eval("#source", (t) => {
      const area = t as HTMLTextAreaElement;
      return [area.value.slice(area.selectionStart, area.selectionEnd), document.activeElement === area];
    });
    expect(selected).toEqual(['"year": "abc"', true]);
  });

  it("shows where a file stops being JSON", async () => {
    const file = join(service.dir, "not-json.json");
    await writeFile(file, '{\n  "template": "gov-disclosure-annual-report",\n  "data": {,\n}');
    await chooseFile(file);
    await page.waitForFunction(() => document.querySelector("#status")?.textContent?.includes("not JSON"));
    const item = await page.$eval("#error-list li", (li) => li.textContent ?? "");
    expect(item).toMatch(/line 3/);
  });

  it("says how many more errors there are when the service lists only the first ones", async () => {
    // The service stops the list at 100 and counts the rest in `truncated`; answered here by hand.
    const errors = Array.from({ length: 100 }, (_, i) => ({
      rule: "schema",
      path: `/rows/${i}/value`,
      message: "must be number",
    }));
    const other = await browser.newPage();
    try {
      await other.setRequestInterception(true);
      other.on("request", (request) => {
        if (request.method() === "POST" && new URL(request.url()).pathname === "/v1/render") {
          void request.respond({
            status: 422,
            contentType: "application/json; charset=utf-8",
            body: JSON.stringify({
              error: "invalid_data",
              message: "the data does not fit the template (250 errors)",
              errors,
              truncated: 150,
            }),
          });
        } else void request.continue();
      });
      await gotoSettled(other, `${service.url}/`);
      const file = join(service.dir, "many-errors.json");
      await writeFile(file, JSON.stringify(example(), null, 2));
      const input = await other.$("input#file-input");
      await input?.uploadFile(file);
      await other.waitForSelector("#errors:not([hidden])");
      expect(await other.$$eval("#error-list .error-path", (els) => els.length)).toBe(100);
      expect(await other.$eval("#error-list li:last-child", (li) => li.textContent)).toBe("… and 150 more");
      expect(await other.$eval("#errors-heading", (h) => h.textContent)).toBe("250 errors");
    } finally {
      await other.close();
    }
  });

  it("shows a PDF too large to return inline, fetched from storage by the page's origin (CORS)", async () => {
    const big = await startTestService({ maxResponseBytes: 100_000 });
    const other = await browser.newPage();
    try {
      const failed: string[] = [];
      other.on("requestfailed", (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
      await gotoSettled(other, `${big.url}/`);
      const input = await other.$("input#file-input");
      await input?.uploadFile(examplePath);
      await other.waitForSelector("#pages[data-done='true'], #status.error", { timeout: 30_000 });
      expect(failed).toEqual([]);
      // The name comes from the storage answer's Content-Disposition, which CORS lets the page read.
      expect(await other.$eval("#status", (s) => s.textContent)).toMatch(
        /^Done: 湛河区交通运输局-2020-政府信息公开工作年度报告\.pdf/,
      );
      expect(await other.$eval("#download-link", (a) => (a as HTMLAnchorElement).href)).toMatch(
        new RegExp(`^${big.s3Endpoint}/`),
      );
      expect(await other.$$eval("#pages canvas", (c) => c.length)).toBe(7);
    } finally {
      await other.close();
      await big.stop();
    }
  });

  it("loads a bundled example and renders it", async () => {
    await page.select("#example-select", "gov-disclosure-annual-report");
    await page.waitForFunction(() =>
      (document.querySelector("#source") as HTMLTextAreaElement).value.includes('"template"'),
    );
    await page.click("#render-button");
    await page.waitForSelector("#pdf:not([hidden]) #pages[data-done='true']", { timeout: 30_000 });
    expect(await page.$$eval("#pages canvas", (c) => c.length)).toBeGreaterThan(0);
  });

  it("checks a chosen template package and shows its example rendered, named after the package", async () => {
    const file = join(service.dir, "payment-notice.zip");
    await writeFile(file, await zippedPackage());
    await chooseFile(file, "input#package-input");
    await page.waitForFunction(
      () => /^Checked payment-notice\.zip: no problems/.test(document.querySelector("#status")?.textContent ?? ""),
      { timeout: 30_000 },
    );
    await page.waitForSelector("#pages[data-done='true']", { timeout: 30_000 });

    expect(await page.$eval("#status", (s) => s.textContent)).toMatch(/payment-notice\.pdf, 2 pages/);
    expect(await page.$eval("#errors", (e) => (e as HTMLElement).hidden)).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("pdf-heading");
    expect(await page.$eval("#pdf-facts", (p) => p.textContent)).toMatch(
      /^Example of payment-notice \(version [0-9a-f]{12}\) · 2 pages · \d+ KB$/,
    );
    const inked = await page.$$eval("#pages canvas", (canvases) =>
      canvases.map((canvas) => {
        const { data } = (canvas as HTMLCanvasElement)
          .getContext("2d")!
          .getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if ((data[i] ?? 255) < 128) n++;
        return n;
      }),
    );
    expect(inked).toHaveLength(2);
    for (const n of inked) expect(n).toBeGreaterThan(100);

    const name = await page.$eval("#download-link", (a) => (a as HTMLAnchorElement).download);
    expect(name).toBe("payment-notice.pdf");
    await page.click("#download-link");
    const saved = await waitFor(async () => {
      const files = await readdir(downloads).catch((): string[] => []);
      return files.includes(name) ? join(downloads, name) : undefined;
    });
    const pdf = new Uint8Array(await readFile(saved));
    expect(new TextDecoder().decode(pdf.subarray(0, 5))).toBe("%PDF-");
    expect(squash((await pageTexts(pdf)).join(""))).toContain("缴款");
  });

  it("lists a broken package's problems by file, line and column, as the service gives them", async () => {
    const template = await packageText("template.hbs");
    const body = template.endsWith("\n") ? template : `${template}\n`;
    const helperLine = body.split("\n").length; // the first line after the original text
    const zip = await zippedPackage((files) => {
      files.set("template.hbs", `${body}{{nosuchhelper 1}}\n<img src="http://127.0.0.1:9/x.png">\n`);
    });
    const file = join(service.dir, "broken-package.zip");
    await writeFile(file, zip);
    await chooseFile(file, "input#package-input");
    await page.waitForFunction(
      () => document.querySelector("#errors-heading")?.textContent?.includes("broken-package.zip"),
      { timeout: 30_000 },
    );

    expect(await page.$eval("#pdf", (p) => (p as HTMLElement).hidden)).toBe(true);
    expect(await page.$eval("#errors-hint", (p) => (p as HTMLElement).hidden)).toBe(true);
    expect(await page.$eval("#status", (s) => s.textContent)).toMatch(
      /^Not rendered: the template package has 2 problems/,
    );
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("errors-heading");
    expect(await page.$eval("#errors-heading", (h) => h.textContent)).toBe("2 problems in broken-package.zip");
    const shown = await shownProblems();
    expect(shown.map((g) => g.file)).toEqual(["template.hbs (2 problems)"]);
    expect(shown[0]?.problems).toEqual([
      expect.stringMatching(
        new RegExp(`^template\\.hbs:${helperLine}:1 — unknown helper "nosuchhelper".* \\(unknown-helper\\)$`),
      ),
      expect.stringMatching(
        new RegExp(
          `^template\\.hbs:${helperLine + 1}:\\d+ — src="http://127\\.0\\.0\\.1:9/x\\.png" would fetch.* \\(fetch\\)$`,
        ),
      ),
    ]);
  });

  it("shows the service's message for a dropped file that is not a zip", async () => {
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(["this is not a zip"], "notes.zip", { type: "application/zip" }));
      const zone = document.querySelector("#package-drop-zone");
      zone?.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => document.querySelector("#errors-heading")?.textContent?.includes("notes.zip"), {
      timeout: 30_000,
    });
    expect(await page.$eval("#status", (s) => s.textContent)).toMatch(/^Not rendered: .*not a zip file/);
    const shown = await shownProblems();
    expect(shown).toEqual([
      {
        file: "(package) (1 problem)",
        problems: [expect.stringMatching(/^\(package\) — not a zip file.* \(zip-invalid\)$/)],
      },
    ]);
  });

  it("says so when a package is larger than the service accepts", async () => {
    const file = join(service.dir, "huge.zip");
    await writeFile(file, new Uint8Array(10 * 1024 * 1024 + 1));
    await chooseFile(file, "input#package-input");
    await page.waitForFunction(() => document.querySelector("#errors-heading")?.textContent?.includes("huge.zip"), {
      timeout: 30_000,
    });
    expect(await page.$eval("#status", (s) => s.textContent)).toMatch(
      /^Not rendered: the package \(10\.0 MB\) is larger than the service accepts/,
    );
    expect(await page.$eval("#errors-heading", (h) => h.textContent)).toBe("Problem in huge.zip");
    expect(await page.$eval("#error-list", (l) => l.textContent)).toMatch(/larger than the service accepts/);
  });

  it("groups a package's problems by file in the order given, and says how many more there are", async () => {
    const other = await browser.newPage();
    try {
      await other.setRequestInterception(true);
      other.on("request", (request) => {
        if (request.method() === "POST" && new URL(request.url()).pathname === "/v1/templates/check") {
          void request.respond({
            status: 422,
            contentType: "application/json; charset=utf-8",
            body: JSON.stringify({
              error: "invalid_template",
              message: "the template package has 10 problems",
              errors: [
                { rule: "syntax", path: "partials/items.hbs", line: 3, column: 7, message: "Parse error" },
                { rule: "fetch", path: "style.css", line: 12, column: 1, message: "@import would fetch" },
                { rule: "unknown-partial", path: "partials/items.hbs", line: 9, column: 2, message: "no partial" },
                { rule: "too-many-files", path: "(package)", message: "too many files" },
              ],
              truncated: 6,
            }),
          });
        } else void request.continue();
      });
      await gotoSettled(other, `${service.url}/`);
      const file = join(service.dir, "many-problems.zip");
      await writeFile(file, await zippedPackage());
      await (await other.$("input#package-input"))?.uploadFile(file);
      await other.waitForSelector("#errors:not([hidden])");
      expect(await shownProblems(other)).toEqual([
        {
          file: "partials/items.hbs (2 problems)",
          problems: [
            "partials/items.hbs:3:7 — Parse error (syntax)",
            "partials/items.hbs:9:2 — no partial (unknown-partial)",
          ],
        },
        { file: "style.css (1 problem)", problems: ["style.css:12:1 — @import would fetch (fetch)"] },
        { file: "(package) (1 problem)", problems: ["(package) — too many files (too-many-files)"] },
      ]);
      expect(await other.$eval("#error-list > li:last-child", (li) => li.textContent)).toBe("… and 6 more");
      expect(await other.$eval("#errors-heading", (h) => h.textContent)).toBe("10 problems in many-problems.zip");
    } finally {
      await other.close();
    }
  });

  it("offers published templates in the template picker and renders their example", async () => {
    const put = await fetch(`${service.url}/v1/templates/payment-notice`, {
      method: "PUT",
      headers: { "content-type": "application/zip" },
      body: Buffer.from(await zippedPackage()),
    });
    expect(put.status).toBe(201);
    const other = await browser.newPage();
    try {
      await other.setViewport({ width: 1280, height: 900 });
      await gotoSettled(other, `${service.url}/`);
      await other.waitForSelector("#example-select optgroup");
      const groups = await other.$$eval("#example-select optgroup", (els) =>
        els.map((g) => ({
          label: (g as HTMLOptGroupElement).label,
          ids: [...(g as HTMLOptGroupElement).querySelectorAll("option")].map((o) => o.value),
        })),
      );
      expect(groups).toEqual([
        { label: "Built in", ids: expect.arrayContaining(["gov-disclosure-annual-report"]) },
        { label: "Published", ids: ["payment-notice"] },
      ]);
      await other.select("#example-select", "payment-notice");
      await other.waitForFunction(() =>
        (document.querySelector("#source") as HTMLTextAreaElement).value.includes('"payment-notice"'),
      );
      await other.click("#render-button");
      await other.waitForSelector("#pdf:not([hidden]) #pages[data-done='true']", { timeout: 30_000 });
      expect(await other.$$eval("#pages canvas", (c) => c.length)).toBe(2);
    } finally {
      await other.close();
    }
  });
});
