import type { Browser, HTTPRequest, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchLoopbackBrowser, startSignInRig, type SignInRig } from "../helpers/sign-in-rig.ts";
import { gotoSettled } from "../helpers/settled.ts";

// The page's sign-in against a real OpenID provider on loopback (oidc-provider, its development login
// and consent pages), behind a gateway that, as the stack's API Gateway does, lets the page in and
// refuses every API call without an access token the provider honours.
let rig: SignInRig;
let browser: Browser;
const pageErrors: string[] = [];

const ZHANG = { name: "张三", email: "zhang@example.gov.cn" };

beforeAll(async () => {
  rig = await startSignInRig({ zhang: ZHANG });
  browser = await launchLoopbackBrowser();
});

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await rig?.close();
});

async function open(languages = "en-US"): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const cdp = await page.createCDPSession();
  await cdp.send("Emulation.setUserAgentOverride", { userAgent: await browser.userAgent(), acceptLanguage: languages });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  // Each test starts signed out at the provider too.
  await cdp.send("Network.clearBrowserCookies");
  await gotoSettled(page, `${rig.url}/`);
  return page;
}

async function close(page: Page): Promise<void> {
  await page.evaluate(() => localStorage.clear()).catch(() => {});
  await page.close();
}

const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent?.trim() ?? "");
const apiCalls = () => rig.requests.filter((r) => r.path.startsWith("/v1/"));

/**
 * Clicks "Sign in" and goes through the provider's pages as `login` (its login form, if it asks, and
 * its consent page, if it asks) until the page is back. `loginShown`: whether the provider asked for
 * the password (it does not when the browser is still signed in there, unless the page says prompt=login).
 */
async function signIn(page: Page, login: string): Promise<{ authorize: URL; loginShown: boolean }> {
  let authorize: URL | undefined;
  const seen = (request: HTTPRequest) => {
    if (request.url().startsWith(`${rig.issuer}/auth`)) authorize ??= new URL(request.url());
  };
  page.on("request", seen);
  let loginShown = false;
  await Promise.all([page.waitForNavigation(), page.click("#sign-in")]);
  for (let step = 0; step < 5 && !page.url().startsWith(rig.url); step++) {
    if (await page.$("input[name=login]")) {
      loginShown = true;
      await page.type("input[name=login]", login);
      await page.type("input[name=password]", "any password");
    }
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  }
  await page.waitForSelector("#account-user:not([hidden])", { timeout: 15_000 });
  // The page back from the provider loads the template list: its API call is over once it is shown.
  await page.waitForFunction(() => document.querySelectorAll("#example-select option").length > 1);
  page.off("request", seen);
  if (!authorize) throw new Error("the page never went to the provider");
  return { authorize, loginShown };
}

async function storedSession(page: Page): Promise<{ accessToken: string; expiresAt: number } | null> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("report-render.sign-in.session") ?? "null"));
}

describe("signing in on the web page", () => {
  it("offers sign-in and calls no API before it", async () => {
    const before = apiCalls().length;
    const page = await open();
    try {
      expect(await page.$eval("#account", (a) => (a as HTMLElement).hidden)).toBe(false);
      expect(await text(page, "#sign-in")).toBe("Sign in");
      expect(await page.$eval("#sign-out", (b) => (b as HTMLElement).hidden)).toBe(true);
      expect(await text(page, "#status")).toBe("Sign in to render reports.");
      await page.$eval("#source", (t) => {
        (t as HTMLTextAreaElement).value = "{}";
      });
      await page.click("#render-button");
      expect(await text(page, "#status")).toBe("Sign in to render reports.");
      expect(apiCalls().length).toBe(before);
      // The page and its settings needed no token.
      const config = await (await fetch(`${rig.url}/assets/web-config.json`)).json();
      expect(config).toEqual({
        signIn: {
          issuer: rig.issuer,
          clientId: rig.clientId,
          authorizeUrl: `${rig.issuer}/auth`,
          tokenUrl: `${rig.issuer}/token`,
          scopes: ["openid", "email", "profile"],
        },
      });
    } finally {
      await close(page);
    }
  });

  it("signs in by code flow with PKCE, keeps what was typed, and sends the access token on every API call", async () => {
    const page = await open();
    const tokenCalls = rig.tokenCalls;
    const draft = '{ "template": "report", "data": { "title": "未完成的草稿" } }';
    try {
      await page.$eval(
        "#source",
        (t, value) => {
          (t as HTMLTextAreaElement).value = value;
        },
        draft,
      );
      const { authorize, loginShown } = await signIn(page, "zhang");
      expect(loginShown).toBe(true);
      const q = authorize.searchParams;
      expect(
        Object.fromEntries([...q].filter(([name]) => !["state", "nonce", "code_challenge"].includes(name))),
      ).toEqual({
        response_type: "code",
        client_id: rig.clientId,
        redirect_uri: `${rig.url}/`,
        scope: "openid email profile",
        code_challenge_method: "S256",
        ui_locales: "en",
        lang: "en",
      });
      expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get("state")).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(q.get("nonce")).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(q.get("nonce")).not.toBe(q.get("state"));

      // Back on the page: the code is gone from the address, the user is named, the draft is back.
      expect(new URL(page.url()).search).toBe("");
      expect(await text(page, "#account-user")).toBe("Signed in as 张三 (zhang@example.gov.cn)");
      expect(await text(page, "#status")).toBe("Signed in as 张三 (zhang@example.gov.cn).");
      expect(await page.$eval("#source", (t) => (t as HTMLTextAreaElement).value)).toBe(draft);
      expect(rig.tokenCalls).toBe(tokenCalls + 1);

      // The token is in this tab's sessionStorage, nowhere in localStorage.
      const session = await storedSession(page);
      expect(session?.accessToken).toMatch(/\S{20,}/);
      const local = await page.evaluate(() => Object.values(localStorage).join("\n"));
      expect(local).not.toContain(session?.accessToken);

      // The template list was asked for with it; then a render.
      await page.waitForFunction(() => document.querySelectorAll("#example-select option").length > 1);
      await page.select("#example-select", "gov-disclosure-annual-report");
      await page.waitForFunction(() =>
        (document.querySelector("#source") as HTMLTextAreaElement).value.includes('"gov-disclosure-annual-report"'),
      );
      await page.click("#render-button");
      await page.waitForSelector("#pages[data-done='true']", { timeout: 30_000 });
      expect(await text(page, "#status")).toMatch(/^Done: .*7 pages/);
      const calls = apiCalls().filter((r) => r.authorization === `Bearer ${session?.accessToken}`);
      expect(calls.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
        "GET /v1/templates 200",
        "GET /v1/templates/gov-disclosure-annual-report/example 200",
        "POST /v1/render 200",
      ]);
    } finally {
      await close(page);
    }
  });

  it("signs out: the token is forgotten, nothing is sent, and the next sign-in asks for the password again", async () => {
    const page = await open();
    try {
      await signIn(page, "zhang");
      await page.click("#sign-out");
      expect(await text(page, "#status")).toBe("Signed out.");
      expect(await storedSession(page)).toBeNull();
      expect(await page.$eval("#account-user", (u) => (u as HTMLElement).hidden)).toBe(true);
      expect(await page.$eval("#sign-in", (b) => (b as HTMLElement).hidden)).toBe(false);
      const before = apiCalls().length;
      await page.click("#render-button");
      expect(await text(page, "#status")).toBe("Sign in to render reports.");
      expect(apiCalls().length).toBe(before);

      // The provider still knows the browser; after a sign-out the page asks it to ask again.
      const again = await signIn(page, "zhang");
      expect(again.authorize.searchParams.get("prompt")).toBe("login");
      expect(again.loginShown).toBe(true);
      expect(await text(page, "#account-user")).toBe("Signed in as 张三 (zhang@example.gov.cn)");
    } finally {
      await close(page);
    }
  });

  it("asks to sign in again when the token has expired or is refused, keeping what was typed", async () => {
    const page = await open();
    try {
      await signIn(page, "zhang");
      await page.$eval("#source", (t) => {
        (t as HTMLTextAreaElement).value = '{ "kept": true }';
      });
      // Expired: nothing is sent.
      await page.evaluate(() => {
        const key = "report-render.sign-in.session";
        const session = JSON.parse(sessionStorage.getItem(key) ?? "{}");
        sessionStorage.setItem(key, JSON.stringify({ ...session, expiresAt: Date.now() - 1000 }));
      });
      const before = apiCalls().length;
      await page.click("#render-button");
      await page.waitForFunction(() => !(document.querySelector("#render-button") as HTMLButtonElement).disabled);
      expect(await text(page, "#status")).toBe("Your sign-in has expired. Sign in again: what you typed is kept.");
      expect(apiCalls().length).toBe(before);
      expect(await page.$eval("#sign-in", (b) => (b as HTMLElement).hidden)).toBe(false);
      expect(await page.$eval("#source", (t) => (t as HTMLTextAreaElement).value)).toBe('{ "kept": true }');

      // Signed in again, then the gateway no longer honours the token (revoked, or expired early): 401.
      await signIn(page, "zhang");
      expect(await page.$eval("#source", (t) => (t as HTMLTextAreaElement).value)).toBe('{ "kept": true }');
      await page.evaluate(() => {
        const key = "report-render.sign-in.session";
        const session = JSON.parse(sessionStorage.getItem(key) ?? "{}");
        sessionStorage.setItem(key, JSON.stringify({ ...session, accessToken: "no-longer-honoured" }));
      });
      await page.click("#render-button");
      await page.waitForFunction(() => document.querySelector("#status")?.textContent?.includes("expired"));
      expect(rig.requests.at(-1)).toMatchObject({ path: "/v1/render", status: 401 });
      expect(rig.requests.at(-1)?.authorization).toBe("Bearer no-longer-honoured");
      expect(await storedSession(page)).toBeNull();
      expect(await page.$eval("#sign-in", (b) => (b as HTMLElement).hidden)).toBe(false);
    } finally {
      await close(page);
    }
  });

  it("signs in in Chinese", async () => {
    const page = await open("zh-CN,zh");
    try {
      expect(await text(page, "#sign-in")).toBe("登录");
      expect(await text(page, "#status")).toBe("请先登录，再生成报告。");
      const { authorize } = await signIn(page, "zhang");
      expect(authorize.searchParams.get("ui_locales")).toBe("zh-CN");
      expect(await text(page, "#account-user")).toBe("已登录：张三（zhang@example.gov.cn）");
      expect(await text(page, "#sign-out")).toBe("退出登录");
      await page.click('.language-choice[data-lang="en"]');
      expect(await text(page, "#account-user")).toBe("Signed in as 张三 (zhang@example.gov.cn)");
      expect(await text(page, "#sign-out")).toBe("Sign out");
    } finally {
      await close(page);
    }
  });
});
