import { serviceVersion } from "../service/version.ts";
import type { HttpResult } from "../service/events.ts";
import type { Service } from "../service/service.ts";
import { json } from "./responses.ts";

/**
 * GET /health. "browser" says whether this instance has Chromium running (it starts on the first
 * render, so "down" on a fresh instance is normal); "endpoint" appears in local mode.
 */
export function health(service: Service): HttpResult {
  const { inputBucket, outputBucket } = service.config;
  const endpoint = service.storage.endpoint;
  return json(200, {
    status: "ok",
    version: serviceVersion,
    browser: service.renderer.browsers.isUp() ? "up" : "down",
    storage: { inputBucket, outputBucket, ...(endpoint ? { endpoint } : {}) },
  });
}
