import type { HttpEvent, HttpResult } from "../service/events.ts";
import { type Logger, since } from "../service/log.ts";
import type { ServiceConfig } from "../service/settings.ts";
import { isPagePath, pageAnswer } from "./page-route.ts";
import { methodNotAllowed, notFound, withRequestId } from "./responses.ts";

/**
 * The web page alone, as its own function answers it on AWS: the page's files and web-config.json,
 * the same answers the HTTP handler gives for them, without the service. No renderer, no Chromium,
 * no storage: a GET of the page (anonymous where the page signs people in) costs a small function,
 * never the one that renders.
 */
export function createPageHandler(
  config: Pick<ServiceConfig, "runtimeRoot" | "webSignIn">,
  log: Logger,
): (event: HttpEvent) => Promise<HttpResult> {
  return async (event) => {
    const started = performance.now();
    const requestId = event.requestContext.requestId;
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    const answer =
      method !== "GET" && method !== "HEAD"
        ? methodNotAllowed(["GET"])
        : isPagePath(path)
          ? await pageAnswer(config, path)
          : notFound();
    const result = withRequestId(answer, requestId);
    log.info("http.request", {
      requestId,
      method,
      path,
      status: result.statusCode,
      durations: { totalMs: since(started) },
    });
    return result;
  };
}
