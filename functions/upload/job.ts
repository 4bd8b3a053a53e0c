import { readJob, writeJob } from "../jobs.ts";
import { since } from "../log.ts";
import { renderedFields } from "../report-log.ts";
import { storedPdf } from "../stored-pdf.ts";
import { jobPdfKey, type JobRequest } from "../storage/keys.ts";
import type { UploadContext } from "./context.ts";
import { readInput } from "./read-input.ts";
import { renderInput } from "./render-input.ts";

/** jobs/<id>.json (from POST /v1/jobs) → the PDF and the job's state "done", or "failed" with errors. */
export async function processJob(ctx: UploadContext, target: JobRequest): Promise<void> {
  const { config, storage } = ctx.service;
  const { jobId } = target;
  const log = ctx.log.child({ jobId });
  const started = performance.now();
  const input = await readInput(ctx, target.inputKey, config.maxBodyBytes);
  if (!input) return log.warn("job.gone");

  const previous = await readJob(ctx.service, jobId);
  if ((previous?.status === "done" || previous?.status === "failed") && previous.sourceETag === input.source.eTag) {
    return log.info("job.skipped", { reason: "already rendered" });
  }
  const createdAt = previous?.createdAt ?? new Date().toISOString();
  await writeJob(ctx.service, { jobId, status: "rendering", createdAt, updatedAt: new Date().toISOString() });

  const outcome = await renderInput(ctx, input);
  const updatedAt = () => new Date().toISOString();
  if (!outcome.ok) {
    const { body } = outcome.failure;
    await writeJob(ctx.service, { jobId, status: "failed", createdAt, updatedAt: updatedAt(), sourceETag: input.source.eTag, ...body });
    return log.info("job.failed", { templateId: outcome.templateId, error: body.error, errors: body.errors.length });
  }

  const { result } = outcome;
  const key = jobPdfKey(jobId, result.filename);
  const uploadStarted = performance.now();
  await storage.put(config.outputBucket, key, result.pdf, { contentType: "application/pdf", downloadName: result.filename });
  const uploadMs = since(uploadStarted);
  await writeJob(ctx.service, {
    jobId,
    status: "done",
    createdAt,
    updatedAt: updatedAt(),
    sourceETag: input.source.eTag,
    ...storedPdf(key, result),
    timings: { ...result.timings, uploadMs },
  });
  log.info("job.done", { templateId: outcome.templateId, output: key, ...renderedFields(result, { uploadMs, totalMs: since(started) }) });
}
