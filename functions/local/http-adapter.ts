import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { HttpEvent, HttpResult } from "../service/events.ts";
import type { Logger } from "../service/log.ts";

/** API Gateway HTTP APIs refuse payloads over 10 MB before the function sees them. */
const GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024;

/** What the adapter calls: the HTTP handler, with a signal that aborts when the client has gone. */
export type EventHandler = (event: HttpEvent, options: { signal: AbortSignal }) => Promise<HttpResult>;

export interface AdapterOptions {
  maxPayloadBytes?: number;
  /**
   * The Host header values served (e.g. `127.0.0.1:3000`); any other gets 421 before the handler
   * sees the request. A web page cannot choose the Host its browser sends, so a DNS-rebinding page
   * (evil.example resolving to 127.0.0.1) is told apart by it.
   */
  allowedHosts: readonly string[];
  /** Where the adapter's own answers (421, 413, a broken connection) are logged; the handler logs the rest. */
  log?: Logger;
}

/** The names this machine's loopback is reached by, with `port` as a browser writes them in Host. */
export function loopbackHosts(port: number): string[] {
  const names = ["127.0.0.1", "localhost", "[::1]"];
  return names.flatMap((name) => (port === 80 ? [`${name}:${port}`, name] : [`${name}:${port}`]));
}

/** The origins a page served from `loopbackHosts(port)` has (what CORS sees). */
export function loopbackOrigins(port: number): string[] {
  const suffix = port === 80 ? "" : `:${port}`;
  return [`http://127.0.0.1${suffix}`, `http://localhost${suffix}`];
}

/**
 * node:http ↔ API Gateway HTTP API (payload 2.0), as in Hono's Lambda adapter but the other way
 * round: a Node request becomes the event API Gateway would send, and the handler's result is
 * written back. The handler cannot tell it is not on Lambda, except that it is told (by an abort
 * signal) when the client disconnects before the answer, so that it stops its work.
 */
export function serveHttpEvents(
  handler: EventHandler,
  options: AdapterOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxPayload = options.maxPayloadBytes ?? GATEWAY_MAX_PAYLOAD;
  const allowedHosts = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const { log } = options;
  return (req, res) => {
    // What API Gateway gives each request on AWS; made here, so that the adapter's own answers have it too.
    const requestId = randomUUID();
    const host = req.headers.host?.toLowerCase();
    if (host === undefined || !allowedHosts.has(host)) {
      // Not reached by this server's own name: refused before the body is read or the handler runs.
      const message = `this server answers to ${[...allowedHosts].join(", ")} only`;
      writeRefusal(res, requestId, 421, { error: "misdirected_request", message, errors: [] });
      log?.info("local.http_refused", { requestId, method: req.method, status: 421, error: "misdirected_request" });
      return;
    }

    const gone = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) gone.abort(new Error("the client disconnected"));
    });

    readBody(req, maxPayload)
      .then(async (body) => {
        if (body === undefined) {
          // What API Gateway itself answers; the connection is closed as the rest is not read.
          writeRefusal(res, requestId, 413, { message: "Request Entity Too Large" });
          log?.info("local.http_refused", { requestId, method: req.method, status: 413, error: "body_too_large" });
          return;
        }
        const result = await handler(toEvent(req, body, requestId), { signal: gone.signal });
        if (!gone.signal.aborted && !res.destroyed) writeResult(res, result, requestId);
      })
      .catch((e: unknown) => {
        // Only a broken connection gets here; the handler answers every request itself.
        if (gone.signal.aborted || res.destroyed) return; // the client went away mid-request
        if (!res.headersSent) writeRefusal(res, requestId, 500, { message: "Internal Server Error" });
        else res.end();
        if (log) log.error("local.http_failed", { requestId, error: e });
        else process.stderr.write(`local http adapter: ${(e as Error).message}\n`);
      });
  };
}

/** The answer while the service is still starting (server.ts serves it until the rest is up). */
export function answerStarting(_req: IncomingMessage, res: ServerResponse): void {
  const answer = { error: "starting", message: "the service is starting", errors: [] };
  writeRefusal(res, randomUUID(), 503, answer, { "retry-after": "1" });
}

/**
 * For node:http's `clientError`: what Node would answer a request it cannot parse (a header too
 * large, a control character in one, a malformed request line), with an id as every answer has.
 */
export function answerClientError(log?: Logger): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) return;
    const requestId = randomUUID();
    const [status, reason] = CLIENT_ERRORS[error.code ?? ""] ?? [400, "Bad Request"];
    const body = JSON.stringify({ error: "bad_request", message: reason, errors: [], requestId });
    const head = [
      `HTTP/1.1 ${status} ${reason}`,
      "content-type: application/json; charset=utf-8",
      `content-length: ${Buffer.byteLength(body)}`,
      "cache-control: no-store",
      "x-content-type-options: nosniff",
      `x-request-id: ${requestId}`,
      "connection: close",
    ];
    socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
    log?.info("local.http_refused", { requestId, status, error: "bad_request", reason: error.code });
  };
}

/** Node's own statuses for what its parser refuses (node:_http_server). */
const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large"],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "Payload Too Large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout"],
};

/** An answer of the adapter's own, with the request's id (header and body) as every answer has. */
function writeRefusal(
  res: ServerResponse,
  requestId: string,
  status: number,
  answer: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ ...answer, requestId });
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-request-id": requestId,
    // The request body (if any) is not read: the connection is not kept.
    connection: "close",
    ...headers,
  });
  res.end(body);
}

function toEvent(req: IncomingMessage, body: Buffer, requestId: string): HttpEvent {
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  // This server speaks plain HTTP: that is how every client reached it, whatever a header it sent says.
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-for"] ??= req.socket.remoteAddress ?? "127.0.0.1";
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const now = new Date();
  const method = req.method ?? "GET";
  const isText = /^(text\/|application\/([\w.+-]*\+)?(json|xml|x-www-form-urlencoded|x-ndjson|jsonl?))/i.test(
    headers["content-type"] ?? "",
  );
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? query : undefined,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "local",
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
    },
    // API Gateway passes text bodies as they are and base64-encodes the rest.
    body: body.byteLength === 0 ? undefined : isText ? body.toString("utf8") : body.toString("base64"),
    isBase64Encoded: body.byteLength > 0 && !isText,
  };
}

function writeResult(res: ServerResponse, result: HttpResult, requestId: string): void {
  const body =
    result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  const headers = { ...result.headers, "x-request-id": requestId, "content-length": String(body.byteLength) };
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

/** The body, or undefined once it passes `max` bytes (the rest is not buffered). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("the request was cut off"));
    });
  });
}
