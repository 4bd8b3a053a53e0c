import type { HttpEvent } from "../service/events.ts";
import type { LogFields, Logger } from "../service/log.ts";
import type { Service } from "../service/service.ts";

/** One request as the routes see it. */
export interface RequestContext {
  service: Service;
  event: HttpEvent;
  requestId: string;
  log: Logger;
  /** Fields a route adds to the one log line written for the request (template, pages, durations…). */
  logFields: LogFields;
  /** Aborted when the caller has gone (the local server's client disconnected); never on Lambda. */
  signal?: AbortSignal;
}

/** The URL clients reached the API at, for links in responses (statusUrl). */
export function baseUrl(event: HttpEvent): string {
  const proto = event.headers["x-forwarded-proto"]?.split(",")[0]?.trim() || "https";
  return `${proto}://${event.requestContext.domainName}`;
}
