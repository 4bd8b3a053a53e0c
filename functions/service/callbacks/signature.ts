import { createHmac } from "node:crypto";

/** `sha256=<hex HMAC-SHA256 of the exact body>`, keyed with the callback secret. */
export const SIGNATURE_HEADER = "x-report-render-signature";
/** When this attempt was sent, in Unix seconds. */
export const TIMESTAMP_HEADER = "x-report-render-timestamp";
/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`: lets a receiver refuse old (replayed) deliveries. */
export const TIMESTAMP_SIGNATURE_HEADER = "x-report-render-timestamp-signature";

/** The signature headers of one attempt (each attempt has its own timestamp). */
export function signatureHeaders(body: string, key: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const hmac = (text: string) => `sha256=${createHmac("sha256", key).update(text, "utf8").digest("hex")}`;
  return {
    [SIGNATURE_HEADER]: hmac(body),
    [TIMESTAMP_HEADER]: timestamp,
    [TIMESTAMP_SIGNATURE_HEADER]: hmac(`${timestamp}.${body}`),
  };
}
