import { contentDisposition } from "../service/storage/content-disposition.ts";
import type { HttpResult } from "../service/events.ts";
import type { Failure } from "../service/failure.ts";

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
