import type { StepTimings } from "../core/types.ts";
import { type CallbackRecord, pendingCallback } from "./callbacks/record.ts";
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
 *
 * What the job was asked with (its owner, its callback, the request that made it) is in every state,
 * carried from one to the next (jobMeta); its callback is sent once the final state is written.
 */
export type JobState = QueuedJob | RenderingJob | DoneJob | FailedJob;

interface JobBase extends JobMeta {
  jobId: string;
  createdAt: string;
  updatedAt: string;
}

/** What POST /v1/jobs recorded with the job. Absent from states written before they were recorded. */
export interface JobMeta {
  /** Who may read it (GET answers 404 to anyone else): a hash of the caller's identity, or "local". */
  owner?: string;
  /** The x-request-id of the POST that made it: its callback is sent with it. */
  requestId?: string;
  /** Its callback (options.callback) and how its delivery went. */
  callback?: CallbackRecord;
}

/** The meta of a state, to carry into the next one. */
export function jobMeta(state: JobState | undefined): JobMeta {
  if (!state) return {};
  const { owner, requestId, callback } = state;
  return {
    ...(owner === undefined ? {} : { owner }),
    ...(requestId === undefined ? {} : { requestId }),
    ...(callback === undefined ? {} : { callback }),
  };
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
export async function queueJob(
  service: Service,
  jobId: string,
  requestText: string,
  asked: { owner: string; requestId: string; callbackUrl?: string },
): Promise<QueuedJob> {
  const now = new Date().toISOString();
  const { owner, requestId, callbackUrl } = asked;
  const state: QueuedJob = {
    jobId,
    status: "queued",
    createdAt: now,
    updatedAt: now,
    owner,
    requestId,
    ...(callbackUrl === undefined ? {} : { callback: pendingCallback(callbackUrl) }),
  };
  await writeJob(service, state);
  await service.storage.put(service.config.inputBucket, jobRequestKey(jobId), requestText, {
    contentType: "application/json",
  });
  return state;
}
