import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpHandler } from "../../functions/http/handler.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { startTestService, type TestService } from "../helpers/local-service.ts";
import { OWN_PROVIDER_SETTINGS, removeAssemblies, resourceAt, synthesize } from "../helpers/synth.ts";

/**
 * The stack's new ways in, attacked: settings given with `-c` (callback hosts, web sign-in, reserved
 * concurrency) are refused at synth with their name (no template is written); the routes web
 * sign-in opens without a token (`GET /`, `GET /assets/{proxy+}`) lead to the page's files and
 * nothing else, whatever path is sent under them.
 */

afterAll(removeAssemblies);

const provider = OWN_PROVIDER_SETTINGS;

const hostile: [string, Record<string, unknown>][] = [
  // Header and line injection, NUL, homoglyphs, shell, wildcards, lengths past DNS's.
  ["callbackAllowedHosts", { callbackAllowedHosts: "hooks.example.org\r\nX-Injected: 1" }],
  ["callbackAllowedHosts", { callbackAllowedHosts: "hooks.example.org\u0000.evil.org" }],
  ["callbackAllowedHosts", { callbackAllowedHosts: "hooks.ex\u0430mple.org" }],
  ["callbackAllowedHosts", { callbackAllowedHosts: "hooks.example.org;curl evil.org" }],
  ["callbackAllowedHosts", { callbackAllowedHosts: "hooks.example.org,*" }],
  ["callbackAllowedHosts", { callbackAllowedHosts: "[::1]:80" }],
  ["callbackAllowedHosts", { callbackAllowedHosts: "hooks.example.org:80:81" }],
  ["callbackAllowedHosts", { callbackAllowedHosts: `${`${"a".repeat(63)}.`.repeat(4)}org` }],
  ["callbackAllowedHosts", { callbackAllowedHosts: `${"a".repeat(64)}.org` }],
  ["callbackAllowedHosts", { callbackAllowedHosts: '["hooks.example.org", 5]' }],
  ["webSignInDomainPrefix", { webSignIn: "true", webSignInDomainPrefix: "rep\norts" }],
  ["webSignInDomainPrefix", { webSignIn: "true", webSignInDomainPrefix: "../reports" }],
  ["webSignInDomainPrefix", { webSignIn: "true", webSignInDomainPrefix: "a".repeat(64) }],
  ["webSignInDomainPrefix", { webSignIn: "true", webSignInDomainPrefix: "amazon-reports" }],
  ["webSignInScopes", { webSignIn: "true", webSignInScopes: "openid email\u0000admin" }],
  ["webSignInScopes", { webSignIn: "true", webSignInScopes: "openid aws.cognito.signin.user.admin" }],
  ["webSignInScopes", { ...provider, webSignInScopes: 'openid "><script>' }],
  ["webSignInAuthorizeUrl", { ...provider, webSignInAuthorizeUrl: "javascript:alert(1)" }],
  ["webSignInAuthorizeUrl", { ...provider, webSignInAuthorizeUrl: "https://login.example.org/a\nb" }],
  ["webSignInTokenUrl", { ...provider, webSignInTokenUrl: "https://" }],
  ["webSignInTokenUrl", { ...provider, webSignInTokenUrl: "https://login.example.org/token#x" }],
  ["webSignInClientId", { ...provider, webSignInClientId: "web\nother" }],
  ["webSignIn", { webSignIn: "on" }],
  ["webSignIn", { webSignIn: "1" }],
  ["httpReservedConcurrency", { httpReservedConcurrency: "-1" }],
  ["httpReservedConcurrency", { httpReservedConcurrency: "Infinity" }],
  ["httpReservedConcurrency", { httpReservedConcurrency: "1e3" }],
  ["httpReservedConcurrency", { httpReservedConcurrency: "NONE" }],
  ["uploadReservedConcurrency", { uploadReservedConcurrency: "60; DROP" }],
  ["accountConcurrencyLimit", { accountConcurrencyLimit: "1e9" }],
];

describe("hostile stack settings", () => {
  it.each(hostile)("%s %j is refused at synth, naming the setting", (name, context) => {
    expect(() => synthesize(context)).toThrow(new RegExp(`setting.*\\b${name}\\b`));
  });

  it("random callback hosts: each is refused by name, or lands in the functions' environment exactly as given", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (host) => {
        const trimmed = host.trim();
        if (trimmed === "" || host.includes(",") || host.startsWith("[")) return;
        let hosts: string | undefined;
        try {
          const s = synthesize({ callbackAllowedHosts: host });
          const [, fn] = resourceAt(s.template, "AWS::Lambda::Function", "/UploadFunction/");
          hosts = (fn.Environment as { Variables: Record<string, unknown> }).Variables.CALLBACK_ALLOWED_HOSTS as string;
        } catch (e) {
          expect(String(e)).toMatch(/setting callbackAllowedHosts/);
          return;
        }
        // Accepted: a DNS name or IPv4 address and a port, nothing else.
        expect(hosts).toBe(trimmed);
        expect(hosts).toMatch(/^[A-Za-z0-9.-]+(:\d{1,5})?$/);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

describe("the routes web sign-in leaves open reach the page's files only", () => {
  // The HTTP door as API Gateway invokes it through `GET /assets/{proxy+}` (no authorizer): the path
  // as the client sent it (API Gateway resolves no dot segments for the function), the route's key.
  let service: TestService;
  let handler: ReturnType<typeof createHttpHandler>;
  beforeAll(async () => {
    service = await startTestService();
    handler = createHttpHandler(service.newService(service.config));
  });
  afterAll(() => service?.stop());

  const viaPublicRoute = (path: string) => {
    const event = httpEvent("GET", path);
    const routeKey = path === "/" ? "GET /" : "GET /assets/{proxy+}";
    return handler({ ...event, routeKey, requestContext: { ...event.requestContext, routeKey } });
  };
  /** What only the API answers: a template list, a job, a render, the health check's fields. */
  const API_ANSWER = /"templates"\s*:|"jobId"|"status"\s*:|%PDF-/;

  const paths = [
    "/",
    "/assets/app.js",
    "/assets/web-config.json",
    "/assets/../v1/templates",
    "/assets/../v1/jobs/00000000-0000-4000-8000-000000000000",
    "/assets/%2e%2e/v1/templates",
    "/assets/..%2fv1%2ftemplates",
    "/assets//v1/templates",
    "/assets/app.js/../../v1/templates",
    "/assets/web-config.json/../../health",
    "/assets/fonts/noto-sans-sc/../../../../etc/passwd",
    "/assets/fonts/noto-sans-sc/%2e%2e%2f%2e%2e%2fpackage.json",
    `/assets/${"a".repeat(4000)}`,
    "/assets/\u00e9\u4e2d",
    "/assets/%00",
    "/assets/v1/templates",
  ];

  it.each(paths)("GET %s: a page file or 404, never the API", async (path) => {
    const result = await viaPublicRoute(path);
    expect([200, 404]).toContain(result.statusCode);
    const body = typeof result.body === "string" ? result.body : "";
    expect(body).not.toMatch(API_ANSWER);
    if (result.statusCode === 200) {
      expect(String(result.headers?.["content-type"])).toMatch(
        /^(text\/(html|css|javascript)|application\/json|font\/woff2)/,
      );
    }
  });

  it("random paths under /assets/: a page file or 404, never a 5xx, never the API", async () => {
    await fc.assert(
      fc.asyncProperty(fc.webPath(), fc.string({ maxLength: 30 }), async (rest, tail) => {
        const result = await viaPublicRoute(`/assets/${rest.replace(/^\//, "")}${tail}`);
        expect([200, 404]).toContain(result.statusCode);
        expect(typeof result.body === "string" ? result.body : "").not.toMatch(API_ANSWER);
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
