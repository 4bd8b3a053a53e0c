import chromium from "@sparticuz/chromium";
import pLimit from "p-limit";
import puppeteer, { type Browser, type CDPSession, type HTTPRequest, type Page } from "puppeteer-core";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { newProfile, removeProfile } from "./chromium-profile.ts";
import { type BundledFonts, type DocumentParts, toHtml } from "../html/index.ts";

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
 * A small pool of Chromium processes, one renderer thread each, so that renders in flight at once use
 * more than one core. A browser is launched on first use: the second only when a second render is in
 * flight at once (a CLI or a cold Lambda that renders one report starts one). Each render goes to the
 * browser with the fewest renders in flight (ties: the lowest index), so no browser ever holds more
 * than ⌈concurrency / browsers⌉ of them, nor more warm pages. Each browser has its own warm pages,
 * is killed alone when it freezes and relaunched alone when it dies. The binary and its fonts are
 * @sparticuz/chromium's everywhere (laptop, CI, Lambda), so output is the same whichever prints.
 */
interface Slot {
  /** Set while the browser is launching or running; cleared when it dies or is closed. */
  launching?: Promise<Browser>;
  /** The browser `launching` gave, once it did. */
  browser?: Browser;
  idle: WarmPage[];
  /** Renders given to this browser and not yet ended (waiting for its launch included). */
  inFlight: number;
  /** Renders it printed (for tests and benches). */
  printed: number;
}

function newSlot(): Slot {
  return { idle: [], inFlight: 0, printed: 0 };
}

/** A Chromium binary ready to start, and the variables it needs (its fontconfig, its libraries). */
export interface ChromiumBinary {
  executablePath: string;
  environment: Readonly<Record<string, string>>;
}

/**
 * Gives the binary, unpacking it first if need be; asked before every launch. The door hands one in
 * (createRenderer's `chromium`): the core knows neither where Chromium is kept nor on what machine.
 */
export type ChromiumLocator = () => Promise<ChromiumBinary>;

/**
 * @sparticuz/chromium's own: brotli-inflated into the temp folder (/tmp/chromium and /tmp/fonts on
 * Lambda). Located once per process, whichever renderer asks first: two asking at once on a cold
 * machine would both inflate into the same files, and one would start the other's half-written binary.
 */
let sparticuzBinary: Promise<ChromiumBinary> | undefined;
const sparticuz: ChromiumLocator = () => {
  sparticuzBinary ??= (async () => ({
    executablePath: await chromium.executablePath(),
    environment: { FONTCONFIG_PATH: join(tmpdir(), "fonts") },
  }))().catch((e: unknown) => {
    sparticuzBinary = undefined;
    throw e;
  });
  return sparticuzBinary;
};

/** How long a closed browser's process may take to exit before it is killed. */
const CLOSE_GRACE_MS = 5_000;

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

/**
 * The warm page's document. On screen its body is laid out (fill() forces it: that loads the fonts
 * the text needs, which page.pdf waits for) but never painted: nobody looks at the page. Painting
 * every new body had Chromium rasterise it on its software GPU threads, a quarter of its CPU per
 * render; the page also makes no frames at all (openWarmPage), so the compositor threads stay idle.
 * Print media is untouched, and so is the PDF.
 */
const SHELL = `<!doctype html><html><head><meta charset="utf-8"><title></title>
<style>${"/*fonts*/"}</style><style>@media screen { body { visibility: hidden } }</style>
<style id="document-style"></style></head><body></body></html>`;

/** The browser and page one render holds, for abandon(). */
interface Lease {
  slot: Slot;
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
 * A page that arrived after its render was given up on (abandon() found none to close): close it and
 * stop, rather than fill and print it outside the turns and leave it open.
 */
async function closeIfAbandoned(lease: Lease, page: Page): Promise<void> {
  if (!lease.abandoned) return;
  await page.close().catch(() => undefined);
  throw new Error("the render was given up on while its page opened");
}

/** A warm page of `browser` (the slot's current one), if one is idle. */
function takeIdle(slot: Slot, browser: Browser): WarmPage | undefined {
  slot.idle = slot.idle.filter((warm) => warm.page.browser() === browser);
  return slot.idle.pop();
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
      // The service's own HTML, parsed apart from the template's: nothing left open in it swallows this.
      if (doc.extras) document.body.insertAdjacentHTML("beforeend", doc.extras);
      // Laid out now (the page makes no frames that would): the fonts its text needs start loading.
      if (doc.body !== "") void document.body.offsetHeight;
    })()`,
    returnByValue: true,
  });
  if (exceptionDetails) throw new Error(`could not load the document: ${exceptionDetails.text}`);
  if (css !== undefined) warm.css = css;
}

/** What a renderer's browsers are made of. */
export interface BrowserPoolOptions {
  /** Renders printing at once, across the pool's browsers; later ones wait their turn. */
  concurrency: number;
  /** Chromium processes at most (default 1); the door derives it from the machine. */
  browsers?: number;
  /** Variables Chromium inherits (nothing else of the process environment reaches it). */
  environment?: Readonly<Record<string, string>>;
  /** Where the binary comes from (default: @sparticuz/chromium's executablePath()). */
  chromium?: ChromiumLocator;
  /** The fonts the pages are given (the only requests answered but the document itself). */
  fonts: BundledFonts;
}

/** A renderer's Chromium processes (browser.ts): its own, independent of any other renderer's. */
export interface BrowserPool {
  /** `work` on a page holding `doc` (see below). */
  withDocument<T>(
    doc: DocumentParts,
    work: (page: Page) => Promise<T>,
    opts?: { javascript?: boolean; signal?: AbortSignal },
  ): Promise<{ result: T; refused: string[] }>;
  /** Start the first browser with a warm page, before any render asks. */
  warmUp(): Promise<void>;
  /** The first browser, launched if need be (tests). */
  firstBrowser(): Promise<Browser>;
  /** The first browser's Chromium process (bench); undefined before the first render. */
  processId(): Promise<number | undefined>;
  /** Every running browser's Chromium process, in the pool's order. */
  processIds(): Promise<number[]>;
  /** Each browser: renders in flight on it now and renders it printed (tests, benches). */
  load(): { inFlight: number; printed: number }[];
  /** Whether a browser is running or launching. */
  isUp(): boolean;
  /** Close every browser of this pool; renders after this launch new ones. */
  close(): Promise<void>;
}

export function createBrowserPool(options: BrowserPoolOptions): BrowserPool {
  const turns = pLimit(options.concurrency);
  /** What Chromium inherits of the process environment, beside its own fontconfig and HOME. */
  const inherited: Readonly<Record<string, string>> = options.environment ?? {};
  const locate: ChromiumLocator = options.chromium ?? sparticuz;
  const { fonts } = options;
  const pool: Slot[] = Array.from({ length: Math.max(1, Math.floor(options.browsers ?? 1)) }, newSlot);
  /**
   * The binary, being located (and inflated). Shared while it is: asked twice at once on a cold machine
   * (two browsers launched together), @sparticuz/chromium would inflate it twice, and the second launch
   * would find the half-written file and start it.
   */
  let locating: Promise<ChromiumBinary> | undefined;
  /** Each browser's process exit (its profile removed by then). */
  const exits = new WeakMap<Browser, Promise<void>>();
  /**
   * One session with the browser target per browser, kept for its life: detaching one makes
   * puppeteer forget the browser target, and the next browser.target() throws.
   */
  const browserSessions = new WeakMap<Browser, Promise<CDPSession>>();
  /** Warm pages opened by this pool, for their unique address while they open. */
  let warmPagesOpened = 0;

  /** The browser a render goes to: the fewest renders in flight, ties to the lowest index. */
  function pick(): Slot {
    let best = pool[0] as Slot;
    for (const slot of pool) if (slot.inFlight < best.inFlight) best = slot;
    return best;
  }

  function release(slot: Slot): void {
    slot.inFlight--;
    if (slot.inFlight === 0 && !pool.includes(slot)) void closeSlot(slot);
  }

  /** Drop a dead (or dying) browser and its warm pages; the next render given to its slot launches a new one. */
  function forget(slot: Slot, browser: Browser): void {
    if (slot.browser === browser) {
      slot.browser = undefined;
      slot.launching = undefined;
    }
    slot.idle = slot.idle.filter((warm) => warm.page.browser() !== browser);
  }

  async function launch(slot: Slot): Promise<Browser> {
    locating ??= locate().finally(() => {
      locating = undefined;
    });
    const binary = await locating;
    const profile = await newProfile();
    const browser = await puppeteer
      .launch({
        executablePath: binary.executablePath,
        userDataDir: profile,
        headless: "shell",
        // The protocol over a pipe, not a WebSocket: no framing and masking of every message (a PDF
        // comes back as base64 text), less CPU in Node and in Chromium's browser thread per render.
        pipe: true,
        args: [
          ...chromium.args,
          // Beside request interception: no host name resolves and no proxy is reachable.
          "--host-resolver-rules=MAP * ~NOTFOUND",
          "--proxy-server=127.0.0.1:9",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
        ],
        env: chromiumEnvironment(binary),
        // What a signal means is the door's to say (npm start finishes the renders under way first);
        // puppeteer's own handlers would kill Chromium and exit the process at once.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      })
      .catch((e: unknown) => {
        removeProfile(profile);
        throw e;
      });
    // However it ends (closed, crashed, killed), its profile goes with it.
    const child = browser.process();
    if (child && child.exitCode === null && child.signalCode === null) {
      // If this process exits first (process.exit, or the end of its event loop), Chromium goes too.
      const onProcessExit = () => {
        child.kill("SIGKILL");
        removeProfile(profile);
      };
      process.once("exit", onProcessExit);
      const exited = new Promise<void>((resolve) =>
        child.once("exit", () => {
          process.off("exit", onProcessExit);
          removeProfile(profile);
          resolve();
        }),
      );
      exits.set(browser, exited);
    } else removeProfile(profile);
    browser.on("disconnected", () => forget(slot, browser));
    return browser;
  }

  /**
   * Only what Chromium needs (the door hands in the few variables it may inherit): never the
   * service's own settings and credentials (AWS keys, secrets).
   * The fontconfig is the one that ships with the binary (as on Lambda), never the machine's own fonts.
   */
  function chromiumEnvironment(binary: ChromiumBinary): Record<string, string> {
    return { ...inherited, HOME: tmpdir(), ...binary.environment };
  }

  /** Kill a browser that stopped answering; its slot forgets it and the next render there relaunches. */
  function killBrowser(slot: Slot, browser: Browser): void {
    const child = browser.process();
    if (child?.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
    forget(slot, browser);
  }

  /** The slot's browser, launched if it has none (or the one it had died). */
  async function browserOf(slot: Slot): Promise<Browser> {
    if (slot.launching === undefined) {
      const launching = launch(slot);
      slot.launching = launching;
      launching.then(
        (browser) => {
          if (slot.launching === launching) slot.browser = browser;
        },
        () => {
          if (slot.launching === launching) slot.launching = undefined;
        },
      );
    }
    const launching = slot.launching;
    const browser = await launching;
    if (!browser.connected) {
      if (slot.launching === launching) {
        slot.launching = undefined;
        slot.browser = undefined;
      }
      forget(slot, browser);
      return browserOf(slot);
    }
    return browser;
  }

  /**
   * Start the first browser and give it a warm page, before any render asks: what a Lambda function
   * does during its init phase, so that its first request does not wait for Chromium to inflate and
   * start. A no-op when that browser already has a warm page.
   */
  async function warmUp(): Promise<void> {
    const slot = pool[0] as Slot;
    const browser = await browserOf(slot);
    if (slot.idle.some((warm) => warm.page.browser() === browser)) return;
    const warm = await openWarmPage(browser);
    if (browser.connected) slot.idle.push(warm);
  }

  /** The first browser of the pool, launched if need be. */
  function getBrowser(): Promise<Browser> {
    return browserOf(pool[0] as Slot);
  }

  async function processId(slot: Slot): Promise<number | undefined> {
    return (await slot.launching?.catch(() => undefined))?.process()?.pid;
  }

  /** The first browser's Chromium process, for measuring it (bench); undefined before the first render. */
  function browserProcessId(): Promise<number | undefined> {
    return processId(pool[0] as Slot);
  }

  /** Every running browser's Chromium process, in the pool's order. */
  async function browserProcessIds(): Promise<number[]> {
    const pids = await Promise.all(pool.map(processId));
    return pids.filter((pid) => pid !== undefined);
  }

  /** Each browser of the pool, in order: renders in flight on it now and renders it printed (tests, benches). */
  function browserLoad(): { inFlight: number; printed: number }[] {
    return pool.map(({ inFlight, printed }) => ({ inFlight, printed }));
  }

  function browserIsUp(): boolean {
    return pool.some((slot) => slot.launching !== undefined);
  }

  /** Close every browser; renders after this launch new ones. */
  async function closeBrowser(): Promise<void> {
    await Promise.all(pool.map(closeSlot));
  }

  async function closeSlot(slot: Slot): Promise<void> {
    const closing = slot.launching;
    slot.launching = undefined;
    slot.browser = undefined;
    slot.idle = [];
    const browser = await closing?.catch(() => undefined);
    if (!browser) return;
    await browser.close().catch(() => undefined);
    // close() can end without the process having exited (its connection already lost): wait for the
    // exit, by which its profile is gone; a process that will not go is killed.
    const exited = exits.get(browser);
    const gone = exited?.then(() => true);
    if (gone && !(await Promise.race([gone, sleep(CLOSE_GRACE_MS, false, { ref: false })]))) {
      browser.process()?.kill("SIGKILL");
      await exited;
    }
  }

  async function openWarmPage(browser: Browser): Promise<WarmPage> {
    const page = await newFramelessPage(browser);
    const warm: WarmPage = { page, session: await page.createCDPSession(), css: "", refused: [] };
    try {
      // Page scripts never run: the document is filled in over the DevTools protocol.
      await page.setJavaScriptEnabled(false);
      await page.setRequestInterception(true);
      const shell = SHELL.replace("/*fonts*/", fonts.css);
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

  /**
   * A page whose frames are made only when asked for (BeginFrameControl, a headless-shell feature),
   * and nobody asks: the compositor, display and GPU threads do nothing for it, which left more of
   * the machine's cores to other renders (about 3 ms of CPU per render of the seed report).
   * Layout still runs when forced, and printing does its own.
   */
  async function newFramelessPage(browser: Browser): Promise<Page> {
    const url = `about:blank#warm-${++warmPagesOpened}`;
    const created = browser.waitForTarget((target) => target.url() === url);
    try {
      await (await browserSession(browser)).send("Target.createTarget", { url, enableBeginFrameControl: true });
    } catch (e) {
      created.catch(() => undefined); // no such target will come
      throw e;
    }
    const page = await (await created).page();
    if (!page) throw new Error("Chromium opened no page for the warm page's target");
    return page;
  }

  function browserSession(browser: Browser): Promise<CDPSession> {
    let session = browserSessions.get(browser);
    if (!session) {
      session = browser.target().createCDPSession();
      browserSessions.set(browser, session);
      session.catch(() => browserSessions.delete(browser));
    }
    return session;
  }

  /** The only answers the page gets: `html` for the document itself, the bundled fonts, data: URLs. */
  async function answer(request: HTTPRequest, html: string, refused: string[]): Promise<void> {
    const url = request.url();
    if (url === `${ASSET_ORIGIN}/`) {
      return request.respond({ status: 200, contentType: "text/html; charset=utf-8", body: html });
    }
    if (url.startsWith(`${ASSET_ORIGIN}/assets/fonts/`)) {
      const bytes = fonts.file(new URL(url).pathname);
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
   * The render goes to the browser of the pool with the fewest renders in flight (pick()).
   * When `signal` aborts (deadline, caller gone) the render ends at once with its reason and its page
   * is abandoned: closed, or that browser killed if it cannot close (abandon()); the pool's other
   * browsers and their renders are untouched. A render whose browser died under it (killed, crashed)
   * is run once more, on a new browser in that browser's place (or another of the pool with fewer
   * renders in flight), if its signal allows.
   */
  async function withDocument<T>(
    doc: DocumentParts,
    work: (page: Page) => Promise<T>,
    opts: { javascript?: boolean; signal?: AbortSignal } = {},
  ): Promise<{ result: T; refused: string[] }> {
    const signal = opts.signal ?? new AbortController().signal;
    return turns(async () => {
      for (let attempt = 1; ; attempt++) {
        // A render whose caller left (or whose time ran out) while it waited does not start.
        signal.throwIfAborted();
        const slot = pick();
        slot.inFlight++;
        try {
          const browser = await untilAborted(signal, () => browserOf(slot));
          const lease: Lease = { slot, browser };
          try {
            const printed = await untilAborted(
              signal,
              () => (opts.javascript ? inScriptedPage(doc, work, lease) : inWarmPage(doc, work, lease)),
              () => abandon(lease),
            );
            slot.printed++;
            return printed;
          } catch (e) {
            if (signal.aborted || browser.connected || attempt > 1) throw e;
          }
        } finally {
          release(slot);
        }
      }
    });
  }

  /**
   * Give up a render's page: close it. If it cannot close within ABANDON_GRACE_MS (or, with no page
   * yet, the browser does not answer), the renderer is frozen (e.g. SIGSTOP) or stuck in a runaway
   * document: the browser is killed, so no later render waits behind it.
   */
  function abandon(lease: Lease): void {
    lease.abandoned = true;
    const { slot, browser, page } = lease;
    if (page) slot.idle = slot.idle.filter((warm) => warm.page !== page);
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
      if (outcome === "stuck") killBrowser(slot, browser);
    });
  }

  async function inScriptedPage<T>(
    doc: DocumentParts,
    work: (page: Page) => Promise<T>,
    lease: Lease,
  ): Promise<{ result: T; refused: string[] }> {
    const page = await lease.browser.newPage();
    lease.page = page;
    await closeIfAbandoned(lease, page);
    const refused: string[] = [];
    try {
      await page.setJavaScriptEnabled(true);
      await page.setRequestInterception(true);
      const html = toHtml(doc, fonts);
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
    const { slot, browser } = lease;
    const warm = takeIdle(slot, browser) ?? (await openWarmPage(browser));
    lease.page = warm.page;
    await closeIfAbandoned(lease, warm.page);
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
        slot.idle = slot.idle.filter((p) => p !== warm);
        return warm.page.close().catch(() => undefined);
      });
      healthy = true;
      return { result, refused };
    } finally {
      if (lease.abandoned) {
        // abandon() closes it.
      } else if (healthy && browser.connected) slot.idle.push(warm);
      else await warm.page.close().catch(() => undefined);
    }
  }

  return {
    withDocument,
    warmUp,
    firstBrowser: getBrowser,
    processId: browserProcessId,
    processIds: browserProcessIds,
    load: browserLoad,
    isUp: browserIsUp,
    close: closeBrowser,
  };
}
