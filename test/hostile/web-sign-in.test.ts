import type { Browser, HTTPRequest, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV, loadConfig } from "../../functions/service/settings.ts";
import { rawRequest } from "../helpers/http-raw.ts";
import { launchLoopbackBrowser, startSignInRig, type SignInRig } from "../helpers/sign-in-rig.ts";
import { gotoSettled, navigationSettled } from "../helpers/settled.ts";

// Attacks on the web page's sign-in: its settings, the public route that tells the page them, the
// font files served beside the page, and every way back into the page from the provider (a forged or
// replayed answer, a provider error, a forged token endpoint answer, a user named in HTML).
const GOOD = {
  [ENV.webSignInIssuer]: "https://cognito-idp.ap-east-1.amazonaws.com/ap-east-1_AbCdEf123",
  [ENV.webSignInClientId]: "4h3kq8v1example",
  [ENV.webSignInAuthorizeUrl]: "https://rr.auth.ap-east-1.amazoncognito.com/oauth2/authorize",
  [ENV.webSignInTokenUrl]: "https://rr.auth.ap-east-1.amazoncognito.com/oauth2/token",
  [ENV.webSignInScopes]: "openid email report-render/templates.publish",
};

describe("the sign-in settings", () => {
  it("take a deployment's values, and none at all", () => {
    expect(loadConfig({}).webSignIn).toBeUndefined();
    expect(loadConfig(GOOD).webSignIn).toEqual({
      issuer: GOOD[ENV.webSignInIssuer],
      clientId: "4h3kq8v1example",
      authorizeUrl: GOOD[ENV.webSignInAuthorizeUrl],
      tokenUrl: GOOD[ENV.webSignInTokenUrl],
      scopes: ["openid", "email", "report-render/templates.publish"],
    });
    // A provider on this machine may speak plain http; duplicate scopes are asked for once.
    const local = loadConfig({
      ...GOOD,
      [ENV.webSignInIssuer]: "http://127.0.0.1:9000",
      [ENV.webSignInScopes]: "openid openid",
    });
    expect(local.webSignIn?.scopes).toEqual(["openid"]);
  });

  it.each([
    [ENV.webSignInIssuer, "http://idp.example.gov.cn", "must be an https URL"],
    [ENV.webSignInIssuer, "javascript:alert(1)", "must be an https URL"],
    [ENV.webSignInIssuer, "https://idp.example.gov.cn/?tenant=1", "must be an https URL with no query"],
    [ENV.webSignInIssuer, "https://admin:secret@idp.example.gov.cn", "must be an https URL"],
    [ENV.webSignInIssuer, "https://idp.example.gov.cn/#x", "must be an https URL"],
    [ENV.webSignInTokenUrl, "https://rr.example/token#x", "must be an https URL and no credentials or fragment"],
    [ENV.webSignInIssuer, "https://idp.exa\tmple.gov.cn", "must be an https URL"], // URL parsing would drop the tab
    [ENV.webSignInIssuer, " https://idp.example.gov.cn", "must be an https URL"],
    [ENV.webSignInIssuer, "https://登录.example", "must be an https URL"],
    [ENV.webSignInAuthorizeUrl, "data:text/html,<script>alert(1)</script>", "must be an https URL"],
    [ENV.webSignInTokenUrl, "file:///etc/passwd", "must be an https URL"],
    [ENV.webSignInTokenUrl, "http://169.254.169.254/latest", "must be an https URL"],
    [ENV.webSignInScopes, "email profile", "must include openid"],
    [ENV.webSignInScopes, 'openid "><script>', "must be scopes separated by spaces"],
    [ENV.webSignInScopes, "openid\temail", "must be scopes separated by spaces"],
    [ENV.webSignInScopes, "openid\nemail", "must be scopes separated by spaces"],
    [ENV.webSignInScopes, "openid 邮箱", "must be scopes separated by spaces"],
    [ENV.webSignInScopes, "openid a\\b", "must be scopes separated by spaces"],
    [ENV.webSignInClientId, "a client", "must be 1–256 visible ASCII characters"],
    [ENV.webSignInClientId, "x".repeat(257), "must be 1–256 visible ASCII characters"],
    [ENV.webSignInClientId, "id\n", "must be 1–256 visible ASCII characters"],
  ])("%s=%j stops start-up: %s", (name, value, message) => {
    expect(() => loadConfig({ ...GOOD, [name]: value })).toThrow(`${name} ${message}`);
  });

  it("are all set or none: half a sign-in stops start-up, naming what is missing", () => {
    const { [ENV.webSignInTokenUrl]: _token, [ENV.webSignInScopes]: _scopes, ...partial } = GOOD;
    expect(() => loadConfig(partial)).toThrow(`${ENV.webSignInTokenUrl}, ${ENV.webSignInScopes} must be set too`);
    expect(() => loadConfig({ [ENV.webSignInIssuer]: GOOD[ENV.webSignInIssuer] })).toThrow(/must be set too/);
  });
});

describe("the page's sign-in in a browser", () => {
  let rig: SignInRig;
  let browser: Browser;
  const pageErrors: string[] = [];
  const MALLORY = { name: '<img src=x onerror="window.pwned=1">', email: '"><script>window.pwned=2</script>@x' };

  beforeAll(async () => {
    rig = await startSignInRig({ mallory: MALLORY });
    browser = await launchLoopbackBrowser();
  });

  afterAll(async () => {
    expect(pageErrors).toEqual([]);
    await browser?.close();
    await rig?.close();
  });

  async function open(path = "/"): Promise<Page> {
    const page = await browser.newPage();
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    const cdp = await page.createCDPSession();
    await cdp.send("Network.clearBrowserCookies");
    await gotoSettled(page, `${rig.url}${path}`);
    return page;
  }

  const status = (page: Page) => page.$eval("#status", (s) => s.textContent ?? "");
  const session = (page: Page) => page.evaluate(() => sessionStorage.getItem("report-render.sign-in.session"));

  /** Clicks "Sign in", logs in at the provider as `login` and consents, until the browser is back on the page. */
  async function throughProvider(page: Page, login: string): Promise<void> {
    await Promise.all([page.waitForNavigation(), page.click("#sign-in")]);
    for (let step = 0; step < 5 && !page.url().startsWith(rig.url); step++) {
      if (await page.$("input[name=login]")) {
        await page.type("input[name=login]", login);
        await page.type("input[name=password]", "pw");
      }
      await navigationSettled(page, () => page.click("button[type=submit]"));
    }
  }

  /** Starts a sign-in but stops the browser on its way to the provider: what the page asked for. */
  async function begin(page: Page): Promise<URLSearchParams> {
    await page.setRequestInterception(true);
    let authorize: URL | undefined;
    const stop = (request: HTTPRequest) => {
      if (request.url().startsWith(`${rig.issuer}/auth`)) {
        authorize = new URL(request.url());
        void request.abort();
      } else void request.continue();
    };
    page.on("request", stop);
    await page.click("#sign-in");
    for (let i = 0; i < 50 && !authorize; i++) await new Promise((r) => setTimeout(r, 100));
    page.off("request", stop);
    await page.setRequestInterception(false);
    if (!authorize) throw new Error("no sign-in began");
    return authorize.searchParams;
  }

  it("refuses a code and state it never asked for, without calling the token endpoint", async () => {
    const calls = rig.tokenCalls;
    const page = await open("/?code=stolen-code&state=forged");
    try {
      expect(await status(page)).toBe(
        "Not signed in: the answer does not belong to a sign-in started on this page (state)",
      );
      expect(new URL(page.url()).search).toBe(""); // not left in the address bar or history
      expect(await session(page)).toBeNull();
      expect(rig.tokenCalls).toBe(calls);
    } finally {
      await page.close();
    }
  });

  it("refuses a tampered state on the way back, and the genuine answer replayed after it", async () => {
    const calls = rig.tokenCalls;
    let genuine: URLSearchParams | undefined;
    rig.tamper = (query) => {
      rig.tamper = undefined; // once: the tampered URL comes back through the gateway too
      genuine = new URLSearchParams(query);
      const changed = new URLSearchParams(query);
      changed.set("state", `${query.get("state")}x`);
      return changed;
    };
    const page = await open();
    try {
      await throughProvider(page, "mallory");
      await page.waitForFunction(() => document.querySelector("#status")?.textContent?.includes("(state)"));
      expect(await session(page)).toBeNull();
      expect(rig.tokenCalls).toBe(calls);
      rig.tamper = undefined;

      // The untampered answer, once the page has refused one: the sign-in it belonged to is over.
      expect(genuine?.get("code")).toBeTruthy();
      await gotoSettled(page, `${rig.url}/?${genuine}`);
      expect(await status(page)).toMatch(/\(state\)$/);
      expect(await session(page)).toBeNull();
      expect(rig.tokenCalls).toBe(calls);
    } finally {
      rig.tamper = undefined;
      await page.close();
    }
  });

  it("shows a provider's error as text, and only for a sign-in it began", async () => {
    const page = await open();
    try {
      const asked = await begin(page);
      const description = '<img src=x onerror="window.pwned=3"> denied';
      const wrong = new URLSearchParams({ error: "access_denied", error_description: description, state: "other" });
      await gotoSettled(page, `${rig.url}/?${wrong}`);
      expect(await status(page)).toMatch(/\(state\)$/); // the forged error is not shown

      const again = await (async () => {
        await gotoSettled(page, `${rig.url}/`);
        return begin(page);
      })();
      expect(again.get("state")).not.toBe(asked.get("state"));
      const right = new URLSearchParams({
        error: "access_denied",
        error_description: description,
        state: again.get("state") ?? "",
      });
      await gotoSettled(page, `${rig.url}/?${right}`);
      expect(await status(page)).toBe(`The sign-in was refused: access_denied: ${description}`);
      expect(await page.$$eval("img", (imgs) => imgs.length)).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    } finally {
      await page.close();
    }
  });

  it("refuses an answer naming another issuer (RFC 9207)", async () => {
    const calls = rig.tokenCalls;
    const page = await open();
    try {
      const asked = await begin(page);
      const answer = new URLSearchParams({ code: "c", state: asked.get("state") ?? "", iss: "https://evil.example" });
      await gotoSettled(page, `${rig.url}/?${answer}`);
      expect(await status(page)).toBe("Not signed in: the answer comes from another provider (iss)");
      expect(rig.tokenCalls).toBe(calls);
    } finally {
      await page.close();
    }
  });

  /** An unsigned JWT: the page checks claims of a token from its token endpoint, not signatures. */
  const jwt = (claims: Record<string, unknown>) =>
    `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;

  /**
   * Back on the page with the code of the sign-in `asked` began, its token endpoint answering
   * `status` and `body` instead of the provider; `canned` answers other URLs (200, JSON) too.
   */
  async function returnWithTokenAnswer(
    page: Page,
    asked: URLSearchParams,
    answer: { status: number; body: unknown },
    canned: Record<string, string> = {},
  ): Promise<void> {
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const cannedBody = canned[request.url()];
      if (cannedBody !== undefined) {
        return void request.respond({ status: 200, contentType: "application/json", body: cannedBody });
      }
      if (request.url() !== `${rig.issuer}/token`) return void request.continue();
      void request.respond({
        status: answer.status,
        contentType: "application/json",
        headers: { "access-control-allow-origin": rig.url },
        body: JSON.stringify(answer.body),
      });
    });
    await gotoSettled(page, `${rig.url}/?code=c&state=${asked.get("state")}`);
  }

  it.each([
    ["another nonce", { nonce: "other" }, {}, "the ID token is not for this page (nonce)"],
    ["another audience", { aud: "someone-else" }, {}, "the ID token is not for this page (aud)"],
    ["another issuer", { iss: "https://evil.example" }, {}, "the ID token is not for this page (iss)"],
    ["an expired ID token", { exp: 1_000_000 }, {}, "the ID token is not for this page (exp)"],
    ["two audiences, not authorized for this page", { aud: ["report-render-web", "x"], azp: "x" }, {}, "(azp)"],
    ["no ID token", undefined, {}, "the token endpoint's answer has no usable id_token"],
    ["a token that is not bearer", {}, { token_type: "MAC" }, "the token endpoint's answer has no usable token_type"],
    ["an access token with a line break", {}, { access_token: "a\r\nx-evil: 1" }, "no usable access_token"],
  ])("refuses a token endpoint answer with %s", async (_name, idClaims, body, message) => {
    const page = await open();
    try {
      const asked = await begin(page);
      const now = Math.floor(Date.now() / 1000);
      const claims = idClaims && {
        iss: rig.issuer,
        aud: rig.clientId,
        sub: "mallory",
        nonce: asked.get("nonce"),
        iat: now,
        exp: now + 600,
        ...idClaims,
      };
      await returnWithTokenAnswer(page, asked, {
        status: 200,
        body: {
          access_token: "forged-access-token",
          token_type: "Bearer",
          expires_in: 3600,
          ...(claims ? { id_token: jwt(claims) } : {}),
          ...body,
        },
      });
      expect(await status(page)).toContain(message);
      expect(await status(page)).toMatch(/^Not signed in: /);
      expect(await session(page)).toBeNull();
      expect(await page.$eval("#sign-in", (b) => (b as HTMLElement).hidden)).toBe(false);
    } finally {
      await page.close();
    }
  });

  it("takes a Cognito-shaped answer: the user named by e-mail, not by the pool's UUID", async () => {
    const page = await open();
    try {
      const asked = await begin(page);
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: rig.issuer,
        aud: rig.clientId,
        sub: "9f1c2d3e-0000-4000-8000-000000000001",
        "cognito:username": "9f1c2d3e-0000-4000-8000-000000000001",
        email: "li@example.gov.cn",
        nonce: asked.get("nonce"),
        token_use: "id",
        iat: now,
        exp: now + 3600,
      };
      await returnWithTokenAnswer(
        page,
        asked,
        {
          status: 200,
          body: {
            access_token: jwt({ exp: now + 3600 }),
            id_token: jwt(claims),
            token_type: "Bearer",
            expires_in: 3600,
          },
        },
        // The gateway would refuse this forged token: the page's first API call is answered here.
        { [`${rig.url}/v1/templates`]: '{"templates":[]}' },
      );
      expect(await page.$eval("#account-user", (u) => u.textContent)).toBe("Signed in as li@example.gov.cn");
      expect(JSON.parse((await session(page)) ?? "{}").expiresAt).toBeGreaterThan(Date.now() + 3_000_000);
    } finally {
      await page.close();
    }
  });

  it("shows a token endpoint's refusal as text", async () => {
    const page = await open();
    try {
      const asked = await begin(page);
      await returnWithTokenAnswer(page, asked, {
        status: 400,
        body: { error: "invalid_grant", error_description: "<b>code used</b>" },
      });
      expect(await status(page)).toBe(
        "Not signed in: the token endpoint answered HTTP 400 invalid_grant: <b>code used</b>",
      );
      expect(await page.$$eval("#status b", (b) => b.length)).toBe(0);
    } finally {
      await page.close();
    }
  });

  it("shows a user whose name and e-mail are HTML as text", async () => {
    const page = await open();
    try {
      await throughProvider(page, "mallory");
      await page.waitForSelector("#account-user:not([hidden])");
      expect(await page.$eval("#account-user", (u) => u.textContent)).toBe(
        `Signed in as ${MALLORY.name} (${MALLORY.email})`,
      );
      expect(await page.$$eval("#account img, #account script, #status img", (e) => e.length)).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    } finally {
      await page.close();
    }
  });
});

describe("the routes the page needs before sign-in", () => {
  let rig: SignInRig;
  beforeAll(async () => {
    rig = await startSignInRig({});
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("tell the page its settings as JSON, to GET only", async () => {
    const response = await fetch(`${rig.service.url}/assets/web-config.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(((await response.json()) as { signIn: { issuer: string } }).signIn.issuer).toBe(rig.issuer);
    const post = await fetch(`${rig.service.url}/assets/web-config.json`, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
  });

  it.each([
    "/assets/fonts/noto-sans-sc/../../../package.json",
    "/assets/fonts/noto-sans-sc/%2e%2e%2f%2e%2e%2fpackage.json",
    "/assets/fonts/noto-sans-sc/..%2f400.css",
    "/assets/fonts/noto-sans-sc/noto-sans-sc-4-400-normal.woff",
    "/assets/fonts/noto-sans-sc/noto-sans-sc-4-500-normal.woff2",
    "/assets/fonts/noto-sans-sc/nosuch.woff2",
    "/assets/fonts/noto-sans-sc//etc/passwd.woff2",
    "/assets/fonts/../../functions/service/settings.ts",
  ])("serve no file but the page's fonts: %s", async (path) => {
    const response = await rawRequest(rig.service.url, { path, headers: { host: new URL(rig.service.url).host } });
    expect(response.status).toBe(404);
    expect(response.body).not.toMatch(/"name"|wOF2|import /);
  });
});
