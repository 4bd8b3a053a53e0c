import { contentDisposition } from "../service/storage/content-disposition.ts";
import type { HttpResult } from "../service/events.ts";
import { boundedBody, type Failure, type FailureBody, MAX_FAILURE_BYTES } from "../service/failure.ts";

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

/**
 * `result` with the request's id: in the `x-request-id` header of every answer, and in the body of
 * every error answer (a JSON object with an `error`), so a caller can quote it and an operator find
 * the request's log lines by it.
 */
export function withRequestId(result: HttpResult, requestId: string): HttpResult {
  const headers = { ...result.headers, "x-request-id": requestId };
  const body = result.statusCode >= 400 && !result.isBase64Encoded ? errorBody(result) : undefined;
  if (!body) return { ...result, headers };
  // Every refusal under 64 KB, also one a route made of its own that quotes a long path.
  const bounded = Buffer.byteLength(result.body ?? "") > MAX_FAILURE_BYTES ? boundedBody(body) : body;
  return { ...result, headers, body: JSON.stringify({ ...bounded, requestId }) };
}

/** The error body of `result`: every one the service makes is a FailureBody (boundedBody takes any object). */
function errorBody(result: HttpResult): FailureBody | undefined {
  if (!/^application\/json\b/i.test(result.headers?.["content-type"] ?? "") || !result.body) return undefined;
  try {
    const body: unknown = JSON.parse(result.body);
    return typeof body === "object" && body !== null && !Array.isArray(body) && "error" in body
      ? (body as FailureBody)
      : undefined;
  } catch {
    return undefined;
  }
}

export function failureResponse(failure: Failure, headers: Record<string, string> = {}): HttpResult {
  return json(failure.status, failure.body, headers);
}

export function pdf(bytes: Uint8Array, filename: string, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode: 200,
    headers: {
      "content-type": "application/pdf",
      "content-disposition": contentDisposition("attachment", filename),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
    isBase64Encoded: true,
  };
}

/** The size of a response whose body is `bodyBytes` raw bytes sent base64-encoded, with headroom for headers. */
export function base64ResponseSize(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 3) * 4 + 8 * 1024;
}

export function notFound(message = "no such resource"): HttpResult {
  return json(404, { error: "not_found", message, errors: [] });
}

export function methodNotAllowed(allow: string[]): HttpResult {
  return json(
    405,
    { error: "method_not_allowed", message: `use ${allow.join(" or ")}`, errors: [] },
    { allow: allow.join(", ") },
  );
}

/** A POST whose body is not declared JSON; answered before the body is read. */
export function unsupportedMediaType(contentType: string | undefined): HttpResult {
  const given = contentType ? `Content-Type ${contentType.slice(0, 100)}` : "no Content-Type";
  return json(415, {
    error: "unsupported_media_type",
    message: `the body must be JSON sent as Content-Type: application/json (UTF-8); the request has ${given}`,
    errors: [],
  });
}
