import { randomUUID } from "node:crypto";
import { parseJson } from "../core/input/index.ts";
import { takeCallback } from "../service/callbacks/option.ts";
import { checkCallbackOption } from "../service/callbacks/target.ts";
import type { HttpResult } from "../service/events.ts";
import { jobAnswer } from "../service/job-answer.ts";
import { queueJob, readJob } from "../service/jobs.ts";
import { backgroundLimits } from "../service/service.ts";
import { isJobId } from "../service/storage/keys.ts";
import { bodyText } from "./body.ts";
import { baseUrl, type RequestContext } from "./context.ts";
import { recordedOwner } from "../service/owners.ts";
import { callerOwner } from "./job-owner.ts";
import { json, notFound } from "./responses.ts";

/**
 * POST /v1/jobs: accept a report for rendering in the background → 202 { jobId, statusUrl }.
 * Everything that can be checked before rendering is checked now, as POST /v1/render would (400,
 * 404, 422), the callback URL too; what only the render can find (a limit hit) is reported by
 * GET /v1/jobs/{id}. The job belongs to its caller (callerOwner).
 */
export async function postJob(ctx: RequestContext): Promise<HttpResult> {
  const text = bodyText(ctx.event, ctx.service.config.maxBodyBytes);
  // The callback is ours, not the core's: the request rendered is the envelope without it.
  const { input, given, callback } = takeCallback(parseJson(text));
  const { envelope, template } = await ctx.service.renderer.validate(input, backgroundLimits(ctx.service.config));
  // A published template named without its version renders the version checked now, whatever is
  // published before the job runs.
  const exact = template.definition.id;
  ctx.logFields.templateId = exact;
  const callbackUrl = given ? await checkCallbackOption(callback, ctx.service.config.callback) : undefined;

  const jobId = randomUUID();
  const request =
    exact === envelope.template && !given ? text : JSON.stringify({ ...(input as object), template: exact });
  await queueJob(ctx.service, jobId, request, { owner: callerOwner(ctx.event), requestId: ctx.requestId, callbackUrl });
  ctx.logFields.jobId = jobId;
  const statusUrl = `${baseUrl(ctx.event)}/v1/jobs/${jobId}`;
  return json(202, { jobId, status: "queued", statusUrl }, { location: statusUrl });
}

/**
 * GET /v1/jobs/{id} → { status: queued|rendering|done|failed, url?, errors?, callback? }. Another
 * caller's job is answered exactly as one that does not exist.
 */
export async function getJob(ctx: RequestContext, jobId: string): Promise<HttpResult> {
  const state = isJobId(jobId) ? await readJob(ctx.service, jobId) : undefined;
  // A state with no owner (from before owners were recorded, or written into the bucket by hand)
  // belongs to no caller who signs: it is readable only without an authorizer (npm start).
  if (!state || recordedOwner(state.owner) !== callerOwner(ctx.event)) return notFound(`no job ${jobId}`);
  ctx.logFields.jobId = jobId;
  const answer = await jobAnswer(ctx.service, state);
  const pending = state.status === "queued" || state.status === "rendering";
  return json(200, answer, pending ? { "retry-after": "1" } : {});
}
