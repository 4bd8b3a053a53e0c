/**
 * Who owns what the service keeps: a job, a published template, a callback's key. An owner is the
 * caller's identity hashed (functions/http/job-owner.ts: `iam:<sha256>` or `jwt:<sha256>`), never
 * the identity itself, or one of the two names below.
 */

/**
 * The caller without an authorizer (`npm start`, loopback only), and the owner of whatever records
 * none (written before owners were): on AWS every caller signs, so that is nobody's there.
 */
export const LOCAL_OWNER = "local";

/**
 * Uploads (`incoming/…`) have no caller: whoever may write the input bucket made them. Their
 * callbacks are signed as this owner's, whose key only the callback secret's readers can derive.
 */
export const UPLOAD_OWNER = "upload";

/** An owner an administrator may hand a template to: a caller's hashed identity, or local. */
export const TRANSFERABLE_OWNER = /^(?:(?:iam|jwt):[0-9a-f]{64}|local)$/;

/** The owner a record names, or LOCAL_OWNER when it names none. */
export function recordedOwner(owner: string | undefined): string {
  return owner ?? LOCAL_OWNER;
}
