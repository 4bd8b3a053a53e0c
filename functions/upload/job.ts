import type { Failure } from "../service/failure.ts";
import { failedJob, jobMeta, readJob, writeJob } from "../service/jobs.ts";
import { since } from "../service/log.ts";
import { renderedFields } from "../service/report-log.ts";
import { storePdf } from "../service/stored-pdf.ts";
import { jobPdfKey, type JobRequest } from "../service/storage/keys.ts";
import { sendJobCallback } from "./callback.ts";
import type { Source, UploadContext } from "./context.ts";
import { processLatest, type Round } from "./latest.ts";
import { renderInput } from "./render-input.ts";

/**
 * jobs/<id>.json (from POST /v1/jobs) → the PDF and the job's state "done", or "failed" with errors.
 * Like an upload (processLatest): a request rendered already is not redone, and the last attempt
 * always ends the job "failed" if nothing else, never leaving it "rendering". Then, with the final
 * state written, its callback, if it has one still to send; then the request is erased.
 */
export async function processJob(ctx: UploadContext, target: JobRequest): Promise<void> {
  const jobCtx = { ...ctx, log: ctx.log.child({ jobId: target.jobId }) };
  await processLatest(jobCtx, target.inputKey, {
    maxBytes: ctx.service.config.maxBodyBytes,
    round: (round) => jobRound(jobCtx, target, round),
    answer: (failure, source) => failJob(jobCtx, target, failure, source),
  });
  await sendJobCallback(jobCtx, target.jobId);
  await eraseRequest(jobCtx, target);
}

/**
 * A request may hold secrets no output keeps (the encryption passwords, `options.pdf.encrypt`), and
 * once its job has ended nothing reads it: it is deleted for good, every version of it (the input
 * bucket keeps versions), instead of waiting for the bucket's lifecycle. The job's state and PDF
 * stay. Not while a newer version than the one the job answered is there: its own message answers
 * it, then erases. If erasing fails the message comes back, finds the job ended, and erases again.
 */
async function eraseRequest(ctx: UploadContext, target: JobRequest): Promise<void> {
  const { storage, config } = ctx.service;
  const state = await readJob(ctx.service, target.jobId);
  if (state?.status !== "done" && state?.status !== "failed") return;
  const latest = await storage.head(config.inputBucket, target.inputKey);
  if (latest && latest.eTag !== state.sourceETag) {
    return ctx.log.info("job.request_kept", { key: target.inputKey, reason: "a newer version is not answered yet" });
  }
  await storage.erase(config.inputBucket, target.inputKey);
  ctx.log.info("job.request_erased", { key: target.inputKey });
}

async function jobRound(ctx: UploadContext, target: JobRequest, round: Round): Promise<void> {
  const { jobId } = target;
  const { input } = round;
  const eTag = input.source.eTag;
  const previous = await readJob(ctx.service, jobId);
  if ((previous?.status === "done" || previous?.status === "failed") && previous.sourceETag === eTag && !round.redo) {
    return ctx.log.info("job.skipped", { reason: "already rendered" });
  }
  const createdAt = previous?.createdAt ?? new Date().toISOString();
  const updatedAt = () => new Date().toISOString();
  const meta = jobMeta(previous);
  await round.beforeWrite();
  await writeJob(ctx.service, { jobId, status: "rendering", createdAt, updatedAt: updatedAt(), ...meta });

  const outcome = await renderInput(ctx, input);
  await round.beforeWrite();
  if (!outcome.ok) {
    const { body } = outcome.failure;
    await writeJob(
      ctx.service,
      failedJob({ jobId, createdAt, updatedAt: updatedAt(), sourceETag: eTag, ...meta }, body),
    );
    return ctx.log.info("job.failed", {
      templateId: outcome.templateId,
      error: body.error,
      errors: body.errors.length,
    });
  }

  const { result } = outcome;
  const { stored, uploadMs } = await storePdf(ctx.service, jobPdfKey(jobId, result.filename), result);
  await writeJob(ctx.service, {
    jobId,
    status: "done",
    createdAt,
    updatedAt: updatedAt(),
    sourceETag: eTag,
    ...stored,
    timings: { ...result.timings, uploadMs },
    ...meta,
  });
  ctx.log.info("job.done", {
    templateId: outcome.templateId,
    output: stored.key,
    ...renderedFields(result, { uploadMs, totalMs: since(round.started) }),
  });
}

/** The last attempt's answer: the job "failed", keeping its createdAt (and meta) if its state can still be read. */
async function failJob(ctx: UploadContext, target: JobRequest, failure: Failure, source: Source): Promise<void> {
  const now = new Date().toISOString();
  const previous = await readJob(ctx.service, target.jobId).catch(() => undefined); // it may be what could not be read
  const createdAt = previous?.createdAt ?? now;
  await writeJob(
    ctx.service,
    failedJob(
      { jobId: target.jobId, createdAt, updatedAt: now, sourceETag: source.eTag, ...jobMeta(previous) },
      failure.body,
    ),
  );
}
