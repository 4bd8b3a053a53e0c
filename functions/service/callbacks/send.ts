import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import type { CallbackTarget } from "./target.ts";

/** What one attempt came to: an answer's status, or why there was none. */
export interface AttemptResult {
  status?: number;
  /** Retry-After of a 429 or 503, in milliseconds. */
  retryAfterMs?: number;
  error?: string;
}

/**
 * POST `body` to the target's address — the one checked, never looked up again — under the URL's own
 * name (Host header, TLS SNI and certificate check). The answer's status line and headers are all
 * that is read: the body is dropped unread (a receiver may send gigabytes), redirects are answers,
 * not followed. Everything, from connecting to the status line, within `timeoutMs`.
 */
export function sendOnce(
  target: CallbackTarget,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<AttemptResult> {
  const { url, address, family } = target;
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request(
      {
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        lookup: pinned,
        agent: false,
        maxHeaderSize: 16 * 1024,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const retryAfterMs = status === 429 || status === 503 ? retryAfter(res.headers["retry-after"]) : undefined;
        res.destroy();
        finish({ status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
      },
    );
    const timer = setTimeout(() => finish({ error: `no answer within ${timeoutMs / 1000} s` }), timeoutMs);
    req.on("error", (e) => finish({ error: e.message.slice(0, 300) }));
    req.end(body);
  });
}

/** Retry-After as seconds or an HTTP date → milliseconds from now; undefined if it is neither. */
function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
