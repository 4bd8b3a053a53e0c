import type { HttpEvent } from "../events.ts";
import { bodyTooLarge } from "../failure.ts";

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
