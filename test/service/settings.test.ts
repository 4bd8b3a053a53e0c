import { describe, expect, it } from "vitest";
import { DEFAULTS, ENV, loadConfig } from "../../functions/service/settings.ts";

// Every setting is checked at start-up: a value that is not what the setting takes stops the service
// with the variable's name, instead of lifting a limit or breaking every render later.
describe("settings", () => {
  it("take their defaults from an empty environment", () => {
    const config = loadConfig({});
    expect(config.maxPages).toBe(DEFAULTS.maxPages);
    expect(config.renderTimeoutMs).toBe(DEFAULTS.renderTimeoutMs);
    expect(config.renderBrowsers).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [ENV.renderConcurrency, "abc", "must be a positive number"],
    [ENV.renderConcurrency, "1.5", "must be a whole number"],
    [ENV.maxPages, "0", "must be a positive number"],
    [ENV.logLevel, "loud", "must be one of"],
    [ENV.s3ForcePathStyle, "maybe", "must be true or false"],
    [ENV.port, "70000", "must be a port"],
    // Larger values would not lift a limit but break the service:
    [ENV.renderTimeoutMs, "3000000000", "must be at most 2147483647"], // Node's timers would fire at once
    [ENV.syncRenderTimeoutMs, "1e10", "must be at most 2147483647"],
    [ENV.presignTtlSeconds, "700000", "must be at most 604800"], // S3 presigns for 7 days at most
    [ENV.maxJsonDepth, "1000000", "must be at most 256"], // recursive validation needs a floor
  ])("%s=%s stops start-up: %s", (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(`${name} ${message}`);
  });
});
