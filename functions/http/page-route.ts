import type { HttpResult } from "../service/events.ts";
import type { ServiceConfig } from "../service/settings.ts";
import { WEB_CONFIG_PATH, webConfig } from "./web-config-route.ts";
import { isWebPagePath, webPageAsset } from "./web-page-route.ts";

/** The web page's paths: its files (web-page-route.ts) and what it reads first (web-config-route.ts). */
export function isPagePath(path: string): boolean {
  return path === WEB_CONFIG_PATH || isWebPagePath(path);
}

/** The answer to a GET of one of the page's paths. */
export function pageAnswer(
  config: Pick<ServiceConfig, "runtimeRoot" | "webSignIn">,
  path: string,
): HttpResult | Promise<HttpResult> {
  return path === WEB_CONFIG_PATH ? webConfig(config) : webPageAsset(config.runtimeRoot, path);
}
