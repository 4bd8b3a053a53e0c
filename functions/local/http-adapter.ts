import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpEvent, HttpResult } from "../service/events.ts";

/** API Gateway HTTP APIs refuse payloads over 10 MB before the function sees them. */
export const GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024;

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
  return (req, res) => {
    const host = req.headers.host?.toLowerCase();
    if (host === undefined || !allowedHosts.has(host)) {
      // Not reached by this server's own name: refused before the body is read or the handler runs.
      writeRefusal(res, 421, "misdirected_request", `this server answers to ${[...allowedHosts].join(", ")} only`);
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
          res.writeHead(413, { "content-type": "application/json", connection: "close" });
          res.end(JSON.stringify({ message: "Request Entity Too Large" }));
          return;
        }
        const result = await handler(toEvent(req, body), { signal: gone.signal });
        if (!gone.signal.aborted && !res.destroyed) writeResult(res, result);
      })
      .catch((e: unknown) => {
        // Only a broken connection gets here; the handler answers every request itself.
        if (gone.signal.aborted || res.destroyed) return; // the client went away mid-request
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Internal Server Error" }));
        process.stderr.write(`local http adapter: ${(e as Error).message}\n`);
      });
  };
}

function writeRefusal(res: ServerResponse, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message, errors: [] });
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    // The request body (if any) is not read: the connection is not kept.
    connection: "close",
  });
  res.end(body);
}

function toEvent(req: IncomingMessage, body: Buffer): HttpEvent {
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  headers["x-forwarded-proto"] ??= "http";
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
      requestId: randomUUID(),
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

function writeResult(res: ServerResponse, result: HttpResult): void {
  const body =
    result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  res.writeHead(result.statusCode, { ...result.headers, "content-length": String(body.byteLength) });
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
