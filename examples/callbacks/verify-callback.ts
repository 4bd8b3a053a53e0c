import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * What a receiver of job callbacks checks before it believes one, in the order README.md gives
 * ("Job callbacks and ownership"), written out for a portal to copy: it needs nothing of the
 * service's code (the tests use it as their receiver). A receiver in another language does the
 * same five things.
 */

/** How far a callback's timestamp may be from the receiver's clock, either way, for it to be taken. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The hex HMAC-SHA256 of `<timestamp>.<body>` with the receiver's key. */
function signatureOf(body: string | Uint8Array, key: string, timestamp: number): string {
  return createHmac("sha256", key).update(`${timestamp}.`, "utf8").update(body).digest("hex");
}
export interface ReceivedCallback {
  /** The `x-report-render-signature` header as received. */
  header: string | undefined;
  /** The body's exact bytes, before any parsing. */
  body: string | Uint8Array;
  /** The receiver's own callback key (GET /v1/callbacks/key). */
  key: string;
  /** The receiver's own owner id (`owner` of GET /v1/callbacks/key); the body must name it. */
  owner: string;
  /** The signatures taken within the window, shared by every request the receiver serves. */
  seen: ReplayGuard;
  /** The receiver's clock, ms since the epoch (default: now). */
  now?: number;
}

export type Verdict = { ok: true; body: Record<string, unknown> } | { ok: false; reason: string };

export function verifyCallback(received: ReceivedCallback): Verdict {
  const nowSeconds = Math.floor((received.now ?? Date.now()) / 1000);
  // 1. The header: one timestamp, one or more v1 signatures (other schemes are skipped, not refused).
  const parsed = parseHeader(received.header);
  if (!parsed) return { ok: false, reason: "no signature header, or not t=<seconds>,v1=<hex>" };
  // 2. The timestamp within the window: an old delivery, however well signed, is not taken.
  if (Math.abs(nowSeconds - parsed.timestamp) > SIGNATURE_TOLERANCE_SECONDS)
    return { ok: false, reason: `its timestamp is ${nowSeconds - parsed.timestamp} s from now` };
  // 3. The signature, over the raw bytes, compared in constant time.
  const expected = Buffer.from(signatureOf(received.body, received.key, parsed.timestamp), "hex");
  const match = parsed.signatures.find((s) => s.length === expected.length && timingSafeEqual(s, expected));
  if (!match) return { ok: false, reason: "the signature is not made with this key over this body" };
  // 4. Never the same delivery twice: a copy replayed inside the window has the very same signature.
  if (!received.seen.firstTime(match.toString("hex"), parsed.timestamp, nowSeconds))
    return { ok: false, reason: "this delivery was taken before (a replay)" };
  // 5. About one of the receiver's own jobs: the owner the body names is the receiver's.
  const body = parseBody(received.body);
  if (body?.owner !== received.owner) return { ok: false, reason: "the callback is not about this owner's jobs" };
  return { ok: true, body };
}

/**
 * The signatures taken, each kept until its timestamp leaves the window (nothing older can pass
 * step 2 anyway). One per receiver process; receivers behind a load balancer share it (a cache with
 * a TTL, a unique key in a database).
 */
export class ReplayGuard {
  private readonly until = new Map<string, number>();

  /** True the first time `signature` is offered; false when it was taken before and is still in the window. */
  firstTime(signature: string, timestamp: number, nowSeconds: number): boolean {
    for (const [seen, expires] of this.until) if (expires < nowSeconds) this.until.delete(seen);
    if (this.until.has(signature)) return false;
    this.until.set(signature, timestamp + SIGNATURE_TOLERANCE_SECONDS);
    return true;
  }
}

function parseHeader(header: string | undefined): { timestamp: number; signatures: Buffer[] } | undefined {
  if (!header || header.length > 1000) return undefined;
  const timestamps: number[] = [];
  const signatures: Buffer[] = [];
  for (const part of header.split(",")) {
    const [name, value = ""] = part.trim().split("=", 2);
    if (name === "t" && /^\d{1,12}$/.test(value)) timestamps.push(Number(value));
    if (name === "v1" && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value, "hex"));
  }
  const [timestamp] = timestamps;
  return timestamps.length === 1 && timestamp !== undefined && signatures.length > 0
    ? { timestamp, signatures }
    : undefined;
}

function parseBody(body: string | Uint8Array): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
