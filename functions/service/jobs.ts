import type { StepTimings } from "../core/types.ts";
import type { FailureBody } from "./failure.ts";
import type { Service } from "./service.ts";
import type { StoredPdf } from "./stored-pdf.ts";
import { jobRequestKey, jobStatusKey } from "./storage/keys.ts";

/**
 * An asynchronous render (`POST /v1/jobs`). Its state is one small JSON object in the output bucket,
 * overwritten at each step; S3's read-after-write consistency makes that the whole database.
 *
 *   POST /v1/jobs   → status "queued", then the request into the input bucket (jobs/<id>.json)
 *   upload handler  → "rendering" → "done" (with the PDF's key) or "failed" (with the errors)
 *
 * A job is never left "rendering": the upload handler's last attempt writes "failed" (an `internal`
 * error) whatever went wrong, even a state that could not be read.
 */
export type JobState = QueuedJob | RenderingJob | DoneJob | FailedJob;

interface JobBase {
  jobId: string;
  createdAt: string;
  updatedAt: string;
}

export interface QueuedJob extends JobBase {
  status: "queued";
}

export interface RenderingJob extends JobBase {
  status: "rendering";
}

export interface DoneJob extends JobBase, StoredPdf {
  status: "done";
  /** The ETag of the request object rendered: a redelivered event for it changes nothing. */
  sourceETag: string;
  timings: StepTimings & { uploadMs: number };
}

export interface FailedJob extends JobBase, FailureBody {
  status: "failed";
  sourceETag: string;
}

/** A job that ended without a PDF: the same error list the endpoint answers with. */
export function failedJob(job: Omit<FailedJob, "status" | keyof FailureBody>, body: FailureBody): FailedJob {
  return { ...job, status: "failed", ...body };
}

export async function readJob(service: Service, jobId: string): Promise<JobState | undefined> {
  const got = await service.storage.get(service.config.outputBucket, jobStatusKey(jobId));
  if (!got.found || "tooLarge" in got) return undefined;
  return JSON.parse(got.body.toString("utf8")) as JobState;
}

export async function writeJob(service: Service, state: JobState): Promise<void> {
  await service.storage.put(service.config.outputBucket, jobStatusKey(state.jobId), JSON.stringify(state, null, 2), {
    contentType: "application/json",
  });
}

/** Queue a job: its state first, so the render (started by the request object) never finds none. */
export async function queueJob(service: Service, jobId: string, requestText: string): Promise<QueuedJob> {
  const now = new Date().toISOString();
  const state: QueuedJob = { jobId, status: "queued", createdAt: now, updatedAt: now };
  await writeJob(service, state);
  await service.storage.put(service.config.inputBucket, jobRequestKey(jobId), requestText, {
    contentType: "application/json",
  });
  return state;
}
