import chromium from "@sparticuz/chromium";
import pLimit from "p-limit";
import puppeteer, { type Browser, type CDPSession, type HTTPRequest, type Page } from "puppeteer-core";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fontAssets, fontFile } from "./fonts.ts";
import { toHtml, type DocumentParts } from "./html.ts";

/**
 * The origin documents are served from. `.invalid` never resolves (RFC 6761); every request the
 * page makes is answered from memory by `answer()` or refused before it leaves the browser.
 */
export const ASSET_ORIGIN = "http://report.invalid";

/** Characters of body HTML above which a render is followed by a garbage collection. */
const LARGE_DOCUMENT = 200_000;

/**
 * How long a page may take to close once its render was abandoned (deadline passed, caller gone).
 * A page that cannot close in this time has a renderer that is frozen or stuck in a runaway
 * document: the browser is killed and the next render gets a new one.
 */
const ABANDON_GRACE_MS = 5_000;

/**
 * Renders that print at once (default 4). Chromium runs single-process (as it must on Lambda), so
 * more pages at once only share the same cores and multiply memory; later renders wait their turn.
 */
const turns = pLimit(4);

/** What Chromium inherits of the process environment, beside its own fontconfig and HOME. */
let inherited: Readonly<Record<string, string>> = {};

export function configureBrowser(options: {
  concurrency: number;
  environment?: Readonly<Record<string, string>>;
}): void {
  turns.concurrency = options.concurrency;
  inherited = options.environment ?? {};
}

/**
 * One Chromium per process: launched on first use, shared by concurrent renders, relaunched when it
 * dies. The binary is @sparticuz/chromium's everywhere (laptop, CI, Lambda), so output is the same.
 */
let launching: Promise<Browser> | undefined;
let current: Browser | undefined;
let idle: WarmPage[] = [];

/** Drop a dead (or dying) browser and its warm pages; the next render launches a new one. */
function forget(browser: Browser): void {
  if (current === browser) {
    current = undefined;
    launching = undefined;
  }
  idle = idle.filter((warm) => warm.page.browser() !== browser);
}

async function launch(): Promise<Browser> {
  const executablePath = await chromium.executablePath();
  const browser = await puppeteer.launch({
    executablePath,
    headless: "shell",
    args: [
      ...chromium.args,
      // Beside request interception: no host name resolves and no proxy is reachable.
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--proxy-server=127.0.0.1:9",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
    env: chromiumEnvironment(),
  });
  browser.on("disconnected", () => forget(browser));
  current = browser;
  return browser;
}

/**
 * Only what Chromium needs (the door hands in the few variables it may inherit): never the
 * service's own settings and credentials (AWS keys, secrets).
 * The fontconfig is the one that ships with the binary (as on Lambda), never the machine's own fonts.
 */
function chromiumEnvironment(): Record<string, string> {
  return { ...inherited, FONTCONFIG_PATH: join(tmpdir(), "fonts"), HOME: tmpdir() };
}

/** Kill a browser that stopped answering; `disconnected` then clears it and the next render relaunches. */
function killBrowser(browser: Browser): void {
  const child = browser.process();
  if (child?.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
  forget(browser);
}

export async function getBrowser(): Promise<Browser> {
  launching ??= launch().catch((e: unknown) => {
    launching = undefined;
    throw e;
  });
  const browser = await launching;
  if (!browser.connected) {
    launching = undefined;
    return getBrowser();
  }
  return browser;
}

/** The Chromium process, for measuring it (bench); undefined before the first render. */
export async function browserProcessId(): Promise<number | undefined> {
  return (await launching?.catch(() => undefined))?.process()?.pid;
}

export function browserIsUp(): boolean {
  return launching !== undefined;
}

export async function closeBrowser(): Promise<void> {
  const closing = launching;
  launching = undefined;
  current = undefined;
  idle = [];
  const browser = await closing?.catch(() => undefined);
  await browser?.close().catch(() => undefined);
}

/**
 * A page whose document already holds the bundled @font-face rules and the fonts decoded by earlier
 * renders. Each render resets it: language, title, styles and body are all replaced, so nothing of
 * one report survives into the next, but the fonts need not be fetched and parsed again.
 */
interface WarmPage {
  page: Page;
  session: CDPSession;
  /** The stylesheet the page's document holds now. */
  css: string;
  /** URLs the current document tried to reach and was refused. */
  refused: string[];
}

const SHELL = `<!doctype html><html><head><meta charset="utf-8"><title></title>
<style>${"/*fonts*/"}</style><style id="document-style"></style></head><body></body></html>`;

async function openWarmPage(browser: Browser): Promise<WarmPage> {
  const page = await browser.newPage();
  const warm: WarmPage = { page, session: await page.createCDPSession(), css: "", refused: [] };
  try {
    // Page scripts never run: the document is filled in over the DevTools protocol.
    await page.setJavaScriptEnabled(false);
    await page.setRequestInterception(true);
    const shell = SHELL.replace("/*fonts*/", fontAssets().css);
    page.on("request", (request) => {
      answer(request, shell, warm.refused).catch(() => undefined);
    });
    await page.goto(`${ASSET_ORIGIN}/`, { waitUntil: "load" });
  } catch (e) {
    await page.close().catch(() => undefined);
    throw e;
  }
  return warm;
}

/** The only answers the page gets: `html` for the document itself, the bundled fonts, data: URLs. */
async function answer(request: HTTPRequest, html: string, refused: string[]): Promise<void> {
  const url = request.url();
  if (url === `${ASSET_ORIGIN}/`) {
    return request.respond({ status: 200, contentType: "text/html; charset=utf-8", body: html });
  }
  if (url.startsWith(`${ASSET_ORIGIN}/assets/fonts/`)) {
    const bytes = fontFile(new URL(url).pathname);
    if (bytes) return request.respond({ status: 200, contentType: "font/woff2", body: bytes });
  }
  // data: URLs (images the input embeds) never leave the browser; everything else is refused.
  if (url.startsWith("data:")) return request.continue();
  refused.push(url);
  return request.abort("blockedbyclient");
}

/**
 * Put `doc` into a page and run `work` on it. Normally a warm page, reset afterwards (a page that
 * failed in any way is closed rather than reused). A template that declares it needs page
 * JavaScript gets a fresh page of its own instead, loaded by navigation so its scripts run, and
 * closed afterwards; the same network fence applies.
 *
 * When `signal` aborts (deadline, caller gone) the render ends at once with its reason and its page
 * is abandoned: closed, or the browser killed if it cannot close (abandon()). A render whose browser
 * died under it (killed, crashed) is run once more on a new one if its signal allows.
 */
export async function withDocument<T>(
  doc: DocumentParts,
  work: (page: Page) => Promise<T>,
  opts: { javascript?: boolean; signal?: AbortSignal } = {},
): Promise<{ result: T; refused: string[] }> {
  const signal = opts.signal ?? new AbortController().signal;
  return turns(async () => {
    for (let attempt = 1; ; attempt++) {
      // A render whose caller left (or whose time ran out) while it waited does not start.
      signal.throwIfAborted();
      const browser = await untilAborted(signal, getBrowser);
      const lease: Lease = { browser };
      try {
        return await untilAborted(
          signal,
          () => (opts.javascript ? inScriptedPage(doc, work, lease) : inWarmPage(doc, work, lease)),
          () => abandon(lease),
        );
      } catch (e) {
        if (signal.aborted || browser.connected || attempt > 1) throw e;
      }
    }
  });
}

/** The browser and page one render holds, for abandon(). */
interface Lease {
  browser: Browser;
  page?: Page;
  /** Set when the render was given up on: the page is then not reused or reset. */
  abandoned?: boolean;
}

/** `work()`, or the signal's reason as soon as it aborts (then `onAbort` runs once). */
async function untilAborted<T>(signal: AbortSignal, work: () => Promise<T>, onAbort?: () => void): Promise<T> {
  signal.throwIfAborted();
  let listener: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    listener = () => {
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener("abort", listener, { once: true });
  });
  const running = work();
  try {
    return await Promise.race([running, aborted]);
  } finally {
    signal.removeEventListener("abort", listener as () => void);
    running.catch(() => undefined);
  }
}

/**
 * Give up a render's page: close it. If it cannot close within ABANDON_GRACE_MS (or, with no page
 * yet, the browser does not answer), the renderer is frozen (e.g. SIGSTOP) or stuck in a runaway
 * document: the browser is killed, so no later render waits behind it.
 */
function abandon(lease: Lease): void {
  lease.abandoned = true;
  const { browser, page } = lease;
  if (page) idle = idle.filter((warm) => warm.page !== page);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<"stuck">((resolve) => {
    timer = setTimeout(() => resolve("stuck"), ABANDON_GRACE_MS);
    timer.unref();
  });
  const closing = page ? page.close() : browser.version();
  void Promise.race([
    closing.then(
      () => "done" as const,
      () => "done" as const,
    ),
    grace,
  ]).then((outcome) => {
    clearTimeout(timer);
    if (outcome === "stuck") killBrowser(browser);
  });
}

async function inScriptedPage<T>(
  doc: DocumentParts,
  work: (page: Page) => Promise<T>,
  lease: Lease,
): Promise<{ result: T; refused: string[] }> {
  const page = await lease.browser.newPage();
  lease.page = page;
  const refused: string[] = [];
  try {
    await page.setJavaScriptEnabled(true);
    await page.setRequestInterception(true);
    const html = toHtml(doc);
    page.on("request", (request) => {
      answer(request, html, refused).catch(() => undefined);
    });
    await page.goto(`${ASSET_ORIGIN}/`, { waitUntil: "load" });
    return { result: await work(page), refused };
  } finally {
    if (!lease.abandoned) await page.close().catch(() => undefined);
  }
}

async function inWarmPage<T>(
  doc: DocumentParts,
  work: (page: Page) => Promise<T>,
  lease: Lease,
): Promise<{ result: T; refused: string[] }> {
  const warm = idle.pop() ?? (await openWarmPage(lease.browser));
  lease.page = warm.page;
  warm.refused = [];
  let healthy = false;
  try {
    await fill(warm, doc);
    const result = await work(warm.page);
    const refused = warm.refused;
    // Empty the page for the next render. Not awaited: the protocol runs commands in order, so the
    // next fill comes after it; a page whose reset fails is closed.
    // The template's stylesheet stays (it holds no data of the report) so the next render of the
    // same template need not parse it again.
    const reset = fill(warm, { lang: "", title: "", body: "" }).then(() =>
      // A large document leaves hundreds of MB of garbage in Chromium, which renders on reused
      // pages would otherwise pile up; collecting it at once costs far less than that render took.
      doc.body.length > LARGE_DOCUMENT ? warm.session.send("HeapProfiler.collectGarbage") : undefined,
    );
    reset.catch(() => {
      idle = idle.filter((p) => p !== warm);
      return warm.page.close().catch(() => undefined);
    });
    healthy = true;
    return { result, refused };
  } finally {
    if (lease.abandoned) {
      // abandon() closes it.
    } else if (healthy && warm.page.browser().connected) idle.push(warm);
    else await warm.page.close().catch(() => undefined);
  }
}

/**
 * Replace the page's document. The stylesheet is sent only when it differs from the one the page
 * already has: re-parsing it invalidates every style in the page, which costs more than the body.
 */
async function fill(warm: WarmPage, doc: Partial<DocumentParts> & Omit<DocumentParts, "css">): Promise<void> {
  const css = doc.css === undefined || doc.css === warm.css ? undefined : doc.css;
  const { exceptionDetails } = await warm.session.send("Runtime.evaluate", {
    expression: `(() => {
      const doc = ${JSON.stringify({ ...doc, css })};
      document.documentElement.lang = doc.lang;
      document.title = doc.title;
      if (doc.css !== undefined) document.getElementById("document-style").textContent = doc.css;
      document.body.innerHTML = doc.body;
    })()`,
    returnByValue: true,
  });
  if (exceptionDetails) throw new Error(`could not load the document: ${exceptionDetails.text}`);
  if (css !== undefined) warm.css = css;
}
