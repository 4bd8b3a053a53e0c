import type { HttpEvent, HttpResult } from "../events.ts";
import { describeFailure, internalFailure } from "../failure.ts";
import { since } from "../log.ts";
import { createService, type Service } from "../service.ts";
import type { RequestContext } from "./context.ts";
import { health } from "./health-route.ts";
import { getJob, postJob } from "./jobs-route.ts";
import { postRender } from "./render-route.ts";
import { failureResponse, methodNotAllowed, notFound } from "./responses.ts";
import { listTemplates, templateExample } from "./templates-route.ts";
import { isWebPagePath, webPageAsset } from "./web-page-route.ts";

/**
 * The HTTP door: an API Gateway HTTP API (payload 2.0) event → the render core → a response.
 * One `$default` route sends every request here; the paths are matched below.
 */
export function createHttpHandler(service: Service): (event: HttpEvent) => Promise<HttpResult> {
  return async (event) => {
    const started = performance.now();
    const requestId = event.requestContext.requestId;
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const ctx: RequestContext = { service, event, requestId, log: service.log.child({ requestId }), logFields: {} };

    let result: HttpResult;
    try {
      result = await route(ctx, method, path);
    } catch (e) {
      const failure = describeFailure(e);
      if (failure) {
        ctx.logFields.error = failure.body.error;
        result = failureResponse(failure);
      } else {
        ctx.log.error("http.failed", { method, path, error: e });
        result = failureResponse(internalFailure(requestId));
      }
    }
    result.headers = { ...result.headers, "x-request-id": requestId };

    const { durations, ...fields } = ctx.logFields;
    ctx.log.info("http.request", {
      method,
      path,
      status: result.statusCode,
      ...fields,
      durations: { ...(typeof durations === "object" ? durations : {}), totalMs: since(started) },
    });
    return result;
  };
}

async function route(ctx: RequestContext, method: string, path: string): Promise<HttpResult> {
  const only = (allowed: string, run: () => Promise<HttpResult> | HttpResult) =>
    method === allowed || (allowed === "GET" && method === "HEAD") ? run() : methodNotAllowed([allowed]);

  if (path === "/v1/render") return only("POST", () => postRender(ctx));
  if (path === "/v1/jobs") return only("POST", () => postJob(ctx));
  if (path === "/v1/templates") return only("GET", () => listTemplates());
  if (path === "/health") return only("GET", () => health(ctx.service));
  if (isWebPagePath(path)) return only("GET", () => webPageAsset(path));

  const job = /^\/v1\/jobs\/([^/]+)$/.exec(path)?.[1];
  if (job !== undefined) return only("GET", () => getJob(ctx, decodeSegment(job)));
  const example = /^\/v1\/templates\/([^/]+)\/example$/.exec(path)?.[1];
  if (example !== undefined) return only("GET", () => templateExample(decodeSegment(example)));
  return notFound(`no route ${method} ${path}`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

let lambdaHandler: ((event: HttpEvent) => Promise<HttpResult>) | undefined;

/** The Lambda entry point: the service is built from the environment on the first event. */
export function handler(event: HttpEvent): Promise<HttpResult> {
  lambdaHandler ??= createHttpHandler(createService());
  return lambdaHandler(event);
}
