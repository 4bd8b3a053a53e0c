import type { HttpEvent, HttpResult } from "../service/events.ts";
import { describeFailure, internalFailure } from "../service/failure.ts";
import { since } from "../service/log.ts";
import type { Service } from "../service/service.ts";
import { isJsonContentType, isZipContentType } from "./body.ts";
import { callbackKey, whoami } from "./caller-route.ts";
import type { RequestContext } from "./context.ts";
import { health } from "./health-route.ts";
import { getJob, postJob } from "./jobs-route.ts";
import { postRender } from "./render-route.ts";
import { failureResponse, json, methodNotAllowed, notFound, unsupportedMediaType, withRequestId } from "./responses.ts";
import {
  checkTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  putTemplate,
  templateExample,
  transferTemplate,
} from "./templates-route.ts";
import { isPagePath, pageAnswer } from "./page-route.ts";

/** How one request is handled: `signal` aborts it when the caller has gone (the local server's client disconnected). */
export interface HandleOptions {
  signal?: AbortSignal;
}

export type HttpHandler = (event: HttpEvent, options?: HandleOptions) => Promise<HttpResult>;

/**
 * The status logged for a request whose caller went away before the answer (nginx's "client closed
 * request"); nobody receives the response.
 */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * The HTTP door: an API Gateway HTTP API (payload 2.0) event → the render core → a response.
 * Every route but the CORS preflight sends its requests here; the paths are matched below (the
 * route a request came by matters only to isAdministrator, functions/http/job-owner.ts).
 */
export function createHttpHandler(service: Service): HttpHandler {
  return async (event, options = {}) => {
    const started = performance.now();
    const requestId = event.requestContext.requestId;
    // As sent: methods are case-sensitive, and API Gateway routes only "PUT"/"DELETE" (not "put") to
    // the publishing route that takes its own permission.
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    const { signal } = options;
    const ctx: RequestContext = {
      service,
      event,
      requestId,
      log: service.log.child({ requestId, ...clientRequestId(event) }),
      logFields: {},
      signal,
    };

    let result: HttpResult;
    try {
      result = await route(ctx, method, path);
    } catch (e) {
      const failure = describeFailure(e);
      if (signal?.aborted) {
        result = clientClosed(); // whatever the work threw once its caller had gone
      } else if (failure) {
        ctx.logFields.error = failure.body.error;
        result = failureResponse(failure);
      } else {
        ctx.log.error("http.failed", { method, path, error: e });
        ctx.logFields.error = "internal";
        result = failureResponse(internalFailure(requestId));
      }
    }
    // Whatever was made, the caller is not there to take it.
    if (signal?.aborted && result.statusCode !== CLIENT_CLOSED_REQUEST) result = clientClosed();
    if (result.statusCode === CLIENT_CLOSED_REQUEST) ctx.logFields.aborted = true;
    result = withRequestId(result, requestId);

    const { durations, ...fields } = ctx.logFields;
    ctx.log.info("http.request", {
      method,
      path,
      status: result.statusCode,
      ...fields,
      durations: { ...(typeof durations === "object" ? durations : {}), totalMs: since(started) },
    });
    // The request's error, as its log line has it, is counted by code: a fault (5xx) or a refusal.
    if (typeof fields.error === "string") {
      if (result.statusCode >= 500) service.metrics.failed(fields.error);
      else service.metrics.refused(fields.error);
    }
    service.metrics.flush();
    return result;
  };
}

/**
 * The caller's own `x-request-id`, logged beside the request's id when it looks like one (an
 * identifier of at most 128 characters); it is never taken as the id: any client could send any.
 */
function clientRequestId(event: HttpEvent): { clientRequestId?: string } {
  const sent = event.headers["x-request-id"];
  return sent !== undefined && /^[\w.:@/+=-]{1,128}$/.test(sent) ? { clientRequestId: sent } : {};
}

function clientClosed(): HttpResult {
  return json(CLIENT_CLOSED_REQUEST, { error: "client_closed_request", message: "the client went away", errors: [] });
}

async function route(ctx: RequestContext, method: string, path: string): Promise<HttpResult> {
  const only = (allowed: string, run: () => Promise<HttpResult> | HttpResult) =>
    method === allowed || (allowed === "GET" && method === "HEAD") ? run() : methodNotAllowed([allowed]);

  if (path === "/v1/render") return only("POST", () => withJsonBody(ctx, () => postRender(ctx)));
  if (path === "/v1/jobs") return only("POST", () => withJsonBody(ctx, () => postJob(ctx)));
  if (path === "/v1/templates") return only("GET", () => listTemplates(ctx));
  if (path === "/v1/templates/check") return only("POST", () => withZipBody(ctx, () => checkTemplate(ctx)));
  if (path === "/v1/whoami") return only("GET", () => whoami(ctx));
  if (path === "/v1/callbacks/key") return only("GET", () => callbackKey(ctx));
  if (path === "/health") return only("GET", () => health(ctx.service));
  if (isPagePath(path)) return only("GET", () => pageAnswer(ctx.service.config, path));

  const job = /^\/v1\/jobs\/([^/]+)$/.exec(path)?.[1];
  if (job !== undefined) return only("GET", () => getJob(ctx, decodeSegment(job)));
  // Its own route on AWS, IAM-authorized in either auth mode (operators'); transferTemplate asks
  // isAdministrator whether the request came by it, signed by an IAM principal.
  const owned = /^\/v1\/admin\/templates\/([^/]+)\/owner$/.exec(path)?.[1];
  if (owned !== undefined)
    return only("PUT", () => withJsonBody(ctx, () => transferTemplate(ctx, decodeSegment(owned))));
  const example = /^\/v1\/templates\/([^/]+)\/example$/.exec(path)?.[1];
  if (example !== undefined) return only("GET", () => templateExample(ctx, decodeSegment(example)));
  const template = /^\/v1\/templates\/([^/]+)$/.exec(path)?.[1];
  if (template !== undefined) {
    const name = decodeSegment(template);
    if (method === "GET" || method === "HEAD") return getTemplate(ctx, name);
    if (method === "PUT") return withZipBody(ctx, () => putTemplate(ctx, name));
    if (method === "DELETE") return deleteTemplate(ctx, name);
    return methodNotAllowed(["GET", "PUT", "DELETE"]);
  }
  return notFound(`no route ${method} ${path}`);
}

/** 415 before the body is looked at, unless it is declared a zip (a template package). */
function withZipBody(ctx: RequestContext, run: () => Promise<HttpResult>): Promise<HttpResult> | HttpResult {
  const contentType = ctx.event.headers["content-type"];
  if (isZipContentType(contentType)) return run();
  ctx.logFields.error = "unsupported_media_type";
  return json(415, {
    error: "unsupported_media_type",
    message: `a template package is sent zipped as Content-Type: application/zip; the request has ${contentType ? `Content-Type ${contentType.slice(0, 100)}` : "no Content-Type"}`,
    errors: [],
  });
}

/** 415 before the body is looked at, unless it is declared JSON (see isJsonContentType). */
function withJsonBody(ctx: RequestContext, run: () => Promise<HttpResult>): Promise<HttpResult> | HttpResult {
  const contentType = ctx.event.headers["content-type"];
  if (isJsonContentType(contentType)) return run();
  ctx.logFields.error = "unsupported_media_type";
  return unsupportedMediaType(contentType);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
