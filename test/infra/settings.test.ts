import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../functions/service/settings.ts";
import { MAX_BACKGROUND_RENDER_MS, MAX_SYNC_RENDER_MS } from "../../infra/report-render-stack.ts";
import { DEFAULT_SETTINGS, resolveSettings, settingsFromContext } from "../../infra/settings.ts";

const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string) => values[key] });

describe("settings", () => {
  it("defaults: 2048 MB, 30 s / 180 s, 1 GB /tmp, nothing reserved, 3 receives, 30-day outputs, IAM auth, no CORS", () => {
    expect(settingsFromContext(context({}))).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toMatchObject({
      memorySizeMb: 2048,
      httpTimeoutSeconds: 30,
      uploadTimeoutSeconds: 180,
      ephemeralStorageMb: 1024,
      maxReceiveCount: 3,
      outputExpirationDays: 30,
      uploadExpirationDays: 30,
      corsAllowedOrigins: [],
      httpReservedConcurrency: "none",
      uploadReservedConcurrency: "none",
      accountConcurrencyLimit: 1000,
      callbackAllowedHosts: [],
      webSignIn: false,
    });
    expect(DEFAULT_SETTINGS.jwtIssuer).toBeUndefined();
  });

  it("the stack's limits that are the functions' own defaults are those defaults (functions/service/settings.ts DEFAULTS)", () => {
    expect(DEFAULT_SETTINGS.maxReceiveCount).toBe(DEFAULTS.maxReceiveCount);
    expect(MAX_SYNC_RENDER_MS).toBe(DEFAULTS.syncRenderTimeoutMs);
    expect(MAX_BACKGROUND_RENDER_MS).toBe(DEFAULTS.renderTimeoutMs);
  });

  it("reads -c strings and cdk.json values; lists as JSON or comma-separated", () => {
    const settings = settingsFromContext(
      context({
        memorySizeMb: "3008",
        uploadTimeoutSeconds: 600,
        corsAllowedOrigins: "https://a.example.org, https://b.example.org",
        jwtIssuer: "https://login.example.org",
        jwtAudience: '["web"]',
        logLevel: "debug",
        unrelated: "ignored",
      }),
    );
    expect(settings).toMatchObject({
      memorySizeMb: 3008,
      uploadTimeoutSeconds: 600,
      corsAllowedOrigins: ["https://a.example.org", "https://b.example.org"],
      jwtIssuer: "https://login.example.org",
      jwtAudience: ["web"],
      logLevel: "debug",
    });
  });

  it("stack props override context", () => {
    expect(settingsFromContext(context({ memorySizeMb: "3008" }), { memorySizeMb: 4096 }).memorySizeMb).toBe(4096);
  });

  it.each([
    [{ memorySizeMb: 512 }, /memorySizeMb must be a whole number from 1024 to 10240/],
    [{ httpTimeoutSeconds: 60 }, /httpTimeoutSeconds .* to 30/],
    [{ uploadTimeoutSeconds: 901 }, /uploadTimeoutSeconds/],
    [{ ephemeralStorageMb: 100 }, /ephemeralStorageMb/],
    [{ logRetentionDays: 31 }, /logRetentionDays must be one of/],
    [{ corsAllowedOrigins: ["*"] }, /"\*" is not an origin/],
    [{ corsAllowedOrigins: ["https://portal.example.org/path"] }, /is not an origin/],
    [{ jwtIssuer: "https://login.example.org" }, /jwtIssuer and jwtAudience go together/],
    [{ jwtAudience: ["web"] }, /jwtIssuer and jwtAudience go together/],
    [{ jwtIssuer: "http://login.example.org", jwtAudience: ["web"] }, /https:\/\/ URL/],
    [{ throttlingRateLimit: 100, throttlingBurstLimit: 10 }, /throttlingBurstLimit must be at least/],
    [{ uploadReservedConcurrency: 5 }, /uploadMaxConcurrency must not exceed uploadReservedConcurrency/],
    [{ alarmEmail: "nobody" }, /alarmEmail/],
    [{ logLevel: "verbose" as "info" }, /logLevel/],
    [{ uploadExpirationDays: -1 }, /uploadExpirationDays must be a whole number from 0 to 36500/],
    [{ uploadExpirationDays: 1.5 }, /uploadExpirationDays must be a whole number/],
  ])("refuses %j", (partial, message) => {
    expect(() => resolveSettings(partial)).toThrow(message);
  });

  it("refuses a number that is not one", () => {
    expect(() => settingsFromContext(context({ memorySizeMb: "lots" }))).toThrow(/memorySizeMb must be a number/);
  });
});
