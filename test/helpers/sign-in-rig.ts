import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import chromium from "@sparticuz/chromium";
import puppeteer, { type Browser } from "puppeteer-core";
import { loadConfig } from "../../functions/service/settings.ts";
import { startTestService, type TestService } from "./local-service.ts";

/**
 * A deployment with sign-in, on loopback: a real OpenID provider (npm oidc-provider, with its
 * development login and consent pages) and, in front of the local service, a gateway that does what
 * the stack's API Gateway does: the page and its assets (/, /assets/*) are public, every other
 * request needs `Authorization: Bearer <an access token the provider issued and still honours>`,
 * else 401 {"message":"Unauthorized"}. The gateway records what reached it.
 */
export interface SignInRig {
  /** The page's origin (the gateway), e.g. http://127.0.0.1:41234 */
  url: string;
  issuer: string;
  clientId: string;
  /** WEB_SIGN_IN_* as the stack sets them. */
  env: Record<string, string>;
  service: TestService;
  /** Every request the gateway passed on or refused, in order. */
  requests: { method: string; path: string; authorization?: string; status: number }[];
  /** Calls of the provider's token endpoint. */
  tokenCalls: number;
  /** Rewrites the query of the page's URL when the provider sends the browser back (a tampered redirect). */
  tamper?: (query: URLSearchParams) => URLSearchParams;
  close(): Promise<void>;
}

export interface TestAccount {
  name?: string;
  email?: string;
}

// oidc-provider ships no types: what the rig uses of it.
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  AccessToken: { find(token: string): Promise<{ isExpired: boolean } | undefined> };
}
type OidcProviderClass = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

const CLIENT_ID = "report-render-web";

export async function startSignInRig(accounts: Record<string, TestAccount>): Promise<SignInRig> {
  const moduleName = "oidc-provider";
  const { default: Provider } = (await import(moduleName)) as { default: OidcProviderClass };
  let provider: OidcProvider | undefined;
  const providerServer = createServer((req, res) => {
    if (new URL(req.url ?? "/", "http://x").pathname === "/token") rig.tokenCalls++;
    provider?.callback()(req, res);
  });
  const issuer = `http://127.0.0.1:${(await listen(providerServer)).port}`;

  let target = "";
  const gateway = createServer((req, res) => void pass(req, res));
  const url = `http://127.0.0.1:${(await listen(gateway)).port}`;

  provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: "none",
        redirect_uris: [`${url}/`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    async findAccount(_ctx: unknown, sub: string) {
      return { accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) };
    },
    claims: { openid: ["sub"], email: ["email"], profile: ["name"] },
    // As Cognito's ID tokens: the scopes' claims in the ID token itself.
    conformIdTokenClaims: false,
    cookies: { keys: ["report-render-test-cookies"] },
    features: { devInteractions: { enabled: true } },
    ttl: { AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  // oidc-provider warns through console about its development defaults; not this test's concern.

  const env = {
    WEB_SIGN_IN_ISSUER: issuer,
    WEB_SIGN_IN_CLIENT_ID: CLIENT_ID,
    WEB_SIGN_IN_AUTHORIZE_URL: `${issuer}/auth`,
    WEB_SIGN_IN_TOKEN_URL: `${issuer}/token`,
    WEB_SIGN_IN_SCOPES: "openid email profile",
  };
  const service = await startTestService({ webSignIn: loadConfig(env).webSignIn });
  target = service.url;

  async function pass(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", url).pathname;
    const query = new URL(req.url ?? "/", url).searchParams;
    const authorization = req.headers.authorization;
    const record = (status: number) => rig.requests.push({ method: req.method ?? "", path, authorization, status });
    if (path === "/" && rig.tamper && (query.has("code") || query.has("error"))) {
      const changed = rig.tamper(query);
      if (changed.toString() !== query.toString()) {
        record(302);
        res.writeHead(302, { location: `/?${changed}` }).end();
        return;
      }
    }
    const open = req.method === "GET" && (path === "/" || path.startsWith("/assets/"));
    if (!open && !(await honoured(authorization))) {
      record(401);
      req.resume();
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" });
      res.end(JSON.stringify({ message: "Unauthorized" }));
      return;
    }
    const forward = request(`${target}${req.url}`, {
      method: req.method,
      headers: { ...req.headers, host: new URL(target).host },
    });
    forward.on("response", (answer) => {
      record(answer.statusCode ?? 0);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  }

  async function honoured(authorization: string | undefined): Promise<boolean> {
    const token = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    if (!token || !provider) return false;
    const found = await provider.AccessToken.find(token).catch(() => undefined);
    return found !== undefined && !found.isExpired;
  }

  const rig: SignInRig = {
    url,
    issuer,
    clientId: CLIENT_ID,
    env,
    service,
    requests: [],
    tokenCalls: 0,
    async close() {
      await service.stop();
      for (const server of [gateway, providerServer]) {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
      }
    },
  };
  return rig;
}

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => done(server.address() as AddressInfo));
  });
}

/**
 * The browser the sign-in tests drive: the project's Chromium, web security on (the page and the
 * provider are different origins), and no name resolved but loopback (the provider's pages ask for a
 * web font: nothing leaves the machine).
 */
export async function launchLoopbackBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: [
      ...chromium.args.filter((arg) => arg !== "--disable-web-security"),
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
    headless: "shell",
  });
}
