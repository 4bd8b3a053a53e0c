import type { HttpEvent } from "../service/events.ts";
import { bodyTooLarge } from "../service/failure.ts";

/**
 * `application/json` or a `+json` type (`application/vnd.x+json`), with parameters; a charset, if
 * given, must be UTF-8 (RFC 8259 §8.1: JSON between systems is UTF-8; the body is read as UTF-8).
 */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.+-]*\+)?json$/;
const UTF8 = /^"?(?:utf-?8|us-ascii)"?$/;

/**
 * Whether a Content-Type names JSON. A missing one does not: a cross-site HTML form can only send
 * text/plain, application/x-www-form-urlencoded or multipart/form-data without a CORS preflight,
 * so refusing everything but JSON keeps other web sites from posting to the API.
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type = "", ...params] = contentType.split(";");
  if (!JSON_MEDIA_TYPE.test(type.trim().toLowerCase())) return false;
  for (const param of params) {
    const [name = "", value = ""] = param.split("=");
    if (name.trim().toLowerCase() === "charset" && !UTF8.test(value.trim().toLowerCase())) return false;
  }
  return true;
}

/** Whether a Content-Type names a zip (browsers on Windows say application/x-zip-compressed). */
export function isZipContentType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/zip" || type === "application/x-zip-compressed";
}

/**
 * The request body as text, refused (LimitError bodySize → 413) when larger than `maxBytes`.
 * API Gateway base64-encodes bodies it does not consider text; both arrive here the same way.
 */
export function bodyText(event: HttpEvent, maxBytes: number): string {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.byteLength > maxBytes) throw bodyTooLarge(bytes.byteLength, maxBytes);
  return bytes.toString("utf8");
}
