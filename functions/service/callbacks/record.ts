/**
 * What a job state (and an upload's result or error file) records about its callback: a new field,
 * `callback`, of the API. "pending" from the moment the job is accepted until delivery ends;
 * whatever finds it still pending once the job has ended (a redelivered event after a crash) sends
 * it, and nothing sends one that is "delivered" or "failed" again.
 */
export interface CallbackRecord {
  url: string;
  status: "pending" | "delivered" | "failed";
  /** Requests made (0 while pending). */
  attempts: number;
  /** The HTTP status of the last answer, if there was one. */
  lastStatus?: number;
  /** Why the last attempt did not deliver (a network error, a refused address, the status). */
  lastError?: string;
  deliveredAt?: string;
}

export function pendingCallback(url: string): CallbackRecord {
  return { url, status: "pending", attempts: 0 };
}
