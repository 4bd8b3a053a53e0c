import { randomUUID } from "node:crypto";
import { parseJson } from "../core/envelope.ts";
import type { HttpResult } from "../service/events.ts";
import { queueJob, readJob } from "../service/jobs.ts";
import { backgroundLimits } from "../service/service.ts";
import { isJobId } from "../service/storage/keys.ts";
import { bodyText } from "./body.ts";
import { baseUrl, type RequestContext } from "./context.ts";
import { downloadAnswer } from "./download.ts";
import { json, notFound } from "./responses.ts";

/**
 * POST /v1/jobs: accept a report for rendering in the background → 202 { jobId, statusUrl }.
 * Everything that can be checked before rendering is checked now, as POST /v1/render would (400,
 * 404, 422); what only the render can find (a limit hit) is reported by GET /v1/jobs/{id}.
 */
export async function postJob(ctx: RequestContext): Promise<HttpResult> {
  const text = bodyText(ctx.event, ctx.service.config.maxBodyBytes);
  const input = parseJson(text);
  const { envelope, template } = await ctx.service.renderer.validate(input, backgroundLimits(ctx.service.config));
  // A published template named without its version renders the version checked now, whatever is
  // published before the job runs.
  const exact = template.definition.id;
  ctx.logFields.templateId = exact;

  const jobId = randomUUID();
  const request = exact === envelope.template ? text : JSON.stringify({ ...(input as object), template: exact });
  await queueJob(ctx.service, jobId, request);
  ctx.logFields.jobId = jobId;
  const statusUrl = `${baseUrl(ctx.event)}/v1/jobs/${jobId}`;
  return json(202, { jobId, status: "queued", statusUrl }, { location: statusUrl });
}

/** GET /v1/jobs/{id} → { status: queued|rendering|done|failed, url?, errors? } */
export async function getJob(ctx: RequestContext, jobId: string): Promise<HttpResult> {
  const state = isJobId(jobId) ? await readJob(ctx.service, jobId) : undefined;
  if (!state) return notFound(`no job ${jobId}`);
  ctx.logFields.jobId = jobId;
  switch (state.status) {
    case "queued":
    case "rendering":
      return json(200, { jobId, status: state.status, createdAt: state.createdAt }, { "retry-after": "1" });
    case "failed":
      return json(200, {
        jobId,
        status: state.status,
        error: state.error,
        message: state.message,
        errors: state.errors,
        ...(state.templates ? { templates: state.templates } : {}),
      });
    case "done": {
      // url and expiresAt first, as this answer has always had them.
      const { url, expiresAt, ...stored } = await downloadAnswer(ctx.service, state);
      return json(200, { jobId, status: state.status, url, expiresAt, ...stored });
    }
  }
}
