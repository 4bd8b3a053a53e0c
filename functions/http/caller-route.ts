import { callbackKeyOf } from "../service/callbacks/owner-key.ts";
import { SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS } from "../service/callbacks/signature.ts";
import type { HttpResult } from "../service/events.ts";
import type { RequestContext } from "./context.ts";
import { callerOwner } from "./job-owner.ts";
import { json, notFound } from "./responses.ts";

/**
 * What a caller may learn about itself, and nothing about anyone else:
 *
 *   GET /v1/whoami         { owner }: the owner id its jobs, templates and callbacks are recorded under
 *   GET /v1/callbacks/key  { owner, key, … }: the key its callbacks are signed with
 */

/** GET /v1/whoami: the caller's owner id (what an administrator hands a template to). */
export function whoami(ctx: RequestContext): HttpResult {
  return json(200, { owner: callerOwner(ctx.event) });
}

/**
 * GET /v1/callbacks/key: the key the callbacks of the caller's jobs are signed with, derived from
 * the service's secret and the caller's owner id, so it verifies those callbacks and no one else's.
 * Never cached (no-store), never logged.
 */
export async function callbackKey(ctx: RequestContext): Promise<HttpResult> {
  const settings = ctx.service.config.callback;
  if (!settings.secret && !settings.secretArn)
    return notFound("this service sends no callbacks (it has no signing key: CALLBACK_SECRET or CALLBACK_SECRET_ARN)");
  const owner = callerOwner(ctx.event);
  return json(200, {
    owner,
    key: await callbackKeyOf(settings, owner),
    algorithm: "HMAC-SHA256",
    signatureHeader: SIGNATURE_HEADER,
    toleranceSeconds: SIGNATURE_TOLERANCE_SECONDS,
  });
}
