import { createHmac } from "node:crypto";

/**
 * `t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the owner's callback key
 * (owner-key.ts). The timestamp is part of what is signed, so a receiver that refuses old ones
 * refuses replays; there is no signature without one.
 */
export const SIGNATURE_HEADER = "x-report-render-signature";

/**
 * How far a callback's timestamp may be from the receiver's clock, either way, for it to be taken;
 * a receiver remembers the signatures it took for as long (examples/callbacks/verify-callback.ts).
 */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The hex HMAC-SHA256 of `<timestamp>.<body>`. */
function signatureOf(body: string | Uint8Array, key: string, timestamp: number): string {
  return createHmac("sha256", key).update(`${timestamp}.`, "utf8").update(body).digest("hex");
}

/** The signature header of one attempt, signed at `timestamp` (Unix seconds; each attempt has its own). */
export function signatureHeaders(body: string, key: string, timestamp: number): Record<string, string> {
  return { [SIGNATURE_HEADER]: `t=${timestamp},v1=${signatureOf(body, key, timestamp)}` };
}
