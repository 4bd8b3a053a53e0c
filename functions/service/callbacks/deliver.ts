import type { Logger } from "../log.ts";
import { serviceVersion } from "../version.ts";
import { InputError } from "../../core/errors.ts";
import type { CallbackSettings } from "./callback-settings.ts";
import type { CallbackRecord } from "./record.ts";
import { type AttemptResult, sendOnce } from "./send.ts";
import { callbackKeyOf } from "./owner-key.ts";
import { signatureHeaders } from "./signature.ts";
import { checkCallbackUrl, dnsLookup, type Lookup, UnresolvedHost } from "./target.ts";

/** A Retry-After longer than this is not waited for (the invocation has a time limit too). */
const MAX_RETRY_AFTER_MS = 10_000;

export interface Delivery {
  settings: CallbackSettings;
  url: string;
  /** The exact bytes signed and sent: JSON that names `owner`, so a receiver sees whose it is. */
  body: string;
  /** Whose callback it is (a job's owner, or UPLOAD_OWNER): signed with that owner's key, no other. */
  owner: string;
  /** Sent as x-request-id: the request (or message) that made the job. */
  requestId: string;
  log: Logger;
  lookup?: Lookup;
  sleep?: (ms: number) => Promise<void>;
  /**
   * When the delivery must have ended (ms since the epoch; e.g. the Lambda invocation's end less a
   * margin): no attempt starts, and no wait begins, that could run past it. Default: none.
   */
  deadline?: number;
}

/**
 * POST the body to the callback URL until it is taken (2xx) or the attempts run out, and say how it
 * went. Retried: network errors and timeouts, 5xx, 429 (after its Retry-After, up to 10 s), with
 * exponential backoff and jitter. Not retried: any other answer (a redirect, a 4xx), a URL that no
 * longer passes the checks. Never throws: a callback that fails does not fail the job.
 */
export async function deliverCallback(delivery: Delivery): Promise<CallbackRecord> {
  const { settings, url, body, requestId, log } = delivery;
  const sleep = delivery.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const record: CallbackRecord = { url, status: "failed", attempts: 0 };
  // Each attempt signed at a later second than the one before: only a copy has the same signature,
  // so a receiver that refuses a signature seen before refuses replays, never a retry.
  let signedAt = 0;
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    let result: AttemptResult;
    try {
      const target = await checkCallbackUrl(url, settings, delivery.lookup ?? dnsLookup);
      const key = await callbackKeyOf(settings, delivery.owner);
      signedAt = Math.max(Math.floor(Date.now() / 1000), signedAt + 1);
      const headers = {
        "content-type": "application/json",
        "user-agent": `report-render/${serviceVersion} (job callback)`,
        "x-request-id": requestId,
        ...signatureHeaders(body, key, signedAt),
      };
      record.attempts = attempt;
      result = await sendOnce(target, body, headers, settings.timeoutMs);
    } catch (e) {
      // The URL fails the checks now (its name resolves elsewhere, the host is no longer listed).
      if (e instanceof InputError && !(e instanceof UnresolvedHost))
        return finish({ ...record, lastError: e.issues[0]?.message ?? e.message });
      result = { error: `before sending: ${(e as Error).message.slice(0, 300)}` };
    }
    const { status, error } = result;
    Object.assign(record, { lastStatus: status, lastError: error });
    if (status === undefined) delete record.lastStatus;
    if (error === undefined) delete record.lastError;
    if (status !== undefined && status >= 200 && status < 300)
      return finish({ ...record, status: "delivered", deliveredAt: new Date().toISOString() });
    if (status !== undefined) record.lastError = `answered ${status}`;
    const retry = status === undefined || status >= 500 || status === 429;
    if (!retry || attempt === settings.attempts) break;
    const wait = backoff(settings.backoffMs, attempt, result.retryAfterMs);
    if (delivery.deadline !== undefined && Date.now() + wait + settings.timeoutMs > delivery.deadline) {
      record.lastError = `${record.lastError ?? "failed"}; no time left to try again`;
      break;
    }
    await sleep(wait);
  }
  return finish(record);

  function finish(outcome: CallbackRecord): CallbackRecord {
    // Origin and path only: a query often carries the receiver's token.
    const fields = { url: withoutQuery(outcome.url), attempts: outcome.attempts, lastStatus: outcome.lastStatus };
    if (outcome.status === "delivered") log.info("callback.delivered", fields);
    else log.warn("callback.failed", { ...fields, lastError: outcome.lastError });
    return outcome;
  }
}

/** The wait before attempt n+1: base·2ⁿ⁻¹, its upper half at random ("equal jitter"); a short Retry-After if longer. */
function backoff(baseMs: number, attempt: number, retryAfterMs: number | undefined): number {
  const ceiling = baseMs * 2 ** (attempt - 1);
  const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

/** The URL without its query and fragment, at most 300 characters (for logs). */
function withoutQuery(url: string): string {
  return url.replace(/[?#].*$/s, "").slice(0, 300);
}
