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

/**
 * The URL clients reached the API at, for links in responses (statusUrl, Location). Only what a URL
 * of this API can be: `http` or `https` (anything else a client wrote into X-Forwarded-Proto gives
 * https, all API Gateway serves), and the API's own host[:port]; should that be no such thing, the
 * links are relative to the API's root rather than pointing anywhere a header said.
 */
export function baseUrl(event: HttpEvent): string {
  const proto = event.headers["x-forwarded-proto"]?.split(",")[0]?.trim().toLowerCase();
  const host = event.requestContext.domainName;
  if (!isHostAndPort(host)) return "";
  return `${proto === "http" ? "http" : "https"}://${host.toLowerCase()}`;
}

/** A DNS name, an IPv4 address or a bracketed IPv6 address, with an optional port (1–65535). */
const HOST_AND_PORT =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]{2,45}\])(?::(\d{1,5}))?$/i;

function isHostAndPort(host: string | undefined): host is string {
  if (host === undefined || host.length > 260) return false;
  const match = HOST_AND_PORT.exec(host);
  return match !== null && (match[1] === undefined || (Number(match[1]) >= 1 && Number(match[1]) <= 65535));
}
