import type { Page } from "puppeteer-core";

/**
 * A page counts as settled once its network has been quiet this long. puppeteer's "networkidle0"
 * waits 500 ms after every navigation: the page tests spent most of their time waiting for it. The
 * pages here start each request at once from the one before (on loopback), never after a pause.
 */
const QUIET_MS = 100;

/** Navigates `page` to `url` and waits until it is loaded and its requests have ended. */
export async function gotoSettled(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: "load" });
  await page.waitForNetworkIdle({ idleTime: QUIET_MS });
}

/**
 * Reloads `page` and waits for Chromium's own network-idle (500 ms): after a reload puppeteer can
 * count a request of the old document as still in flight, and waitForNetworkIdle would never end.
 */
export async function reloadSettled(page: Page): Promise<void> {
  await page.reload({ waitUntil: "networkidle0" });
}

/** Runs `action` (e.g. a click that submits a form), then as gotoSettled for the navigation it causes. */
export async function navigationSettled(page: Page, action: () => Promise<unknown>): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), action()]);
  await page.waitForNetworkIdle({ idleTime: QUIET_MS });
}
