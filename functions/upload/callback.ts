import { downloadAnswer } from "../service/download.ts";
import type { CallbackRecord } from "../service/callbacks/record.ts";
import { deliverCallback } from "../service/callbacks/deliver.ts";
import { jobAnswer } from "../service/job-answer.ts";
import type { JobState } from "../service/jobs.ts";
import { recordedOwner, UPLOAD_OWNER } from "../service/owners.ts";
import { jobStatusKey, type ReportUpload } from "../service/storage/keys.ts";
import type { UploadContext } from "./context.ts";
import type { ReportErrorFile, ReportResultFile } from "./report-files.ts";

/** A job's or an upload's final file (state, result, error), which records its callback. */
interface Answered {
  callback?: CallbackRecord;
}

/** What a callback sends: the answer, the owner it is signed for (named in it too), the request to name. */
interface Callback {
  body: Record<string, unknown>;
  owner: string;
  requestId: string;
}

/**
 * Send a job's callback if its state is final and the callback still pending: the state is what is
 * sent (GET /v1/jobs/{id}'s answer, and the job's owner), then written again with how the delivery
 * went. A redelivered event finds it delivered (or failed) and sends nothing.
 */
export async function sendJobCallback(ctx: UploadContext, jobId: string): Promise<void> {
  await sendIfPending<JobState>(ctx, jobStatusKey(jobId), async (state) =>
    state.status === "done" || state.status === "failed"
      ? {
          body: await jobAnswer(ctx.service, state),
          owner: recordedOwner(state.owner),
          requestId: state.requestId ?? jobId,
        }
      : undefined,
  );
}

/** Send an upload's callback, recorded in its result or error file, if it is still pending. */
export async function sendReportCallback(ctx: UploadContext, target: ReportUpload): Promise<void> {
  await sendIfPending<ReportResultFile>(ctx, target.resultKey, async (file) => ({
    body: await uploadDoneAnswer(ctx, file),
    owner: UPLOAD_OWNER,
    requestId: ctx.messageId,
  }));
  await sendIfPending<ReportErrorFile>(ctx, target.errorKey, async (file) => ({
    body: uploadFailedAnswer(file),
    owner: UPLOAD_OWNER,
    requestId: ctx.messageId,
  }));
}

/** What an upload's callback sends when it rendered: the result file, with a presigned URL of the PDF. */
async function uploadDoneAnswer(ctx: UploadContext, file: ReportResultFile): Promise<Record<string, unknown>> {
  const { url, expiresAt, ...stored } = await downloadAnswer(ctx.service, file);
  return { status: "done", source: file.source, url, expiresAt, ...stored, callback: file.callback };
}

/** What an upload's callback sends when it was refused: the error file. */
function uploadFailedAnswer(file: ReportErrorFile): Record<string, unknown> {
  const { source, callback, ...failure } = file;
  return { status: "failed", source, ...failure, callback };
}

/**
 * Read the final file at `key`; if its callback is pending, send what `answer` makes of it and write
 * the outcome into the file, unless the file changed meanwhile (a newer version's answer: If-Match).
 */
async function sendIfPending<T extends Answered>(
  ctx: UploadContext,
  key: string,
  answer: (file: T) => Promise<Callback | undefined>,
): Promise<void> {
  const { service } = ctx;
  const bucket = service.config.outputBucket;
  const got = await service.storage.get(bucket, key);
  if (!got.found || "tooLarge" in got) return;
  let file: T;
  try {
    file = JSON.parse(got.body.toString("utf8")) as T;
  } catch {
    return;
  }
  const callback = file.callback;
  if (callback?.status !== "pending") return;
  const made = await answer(file);
  if (!made) return;
  const outcome = await deliverCallback({
    settings: service.config.callback,
    url: callback.url,
    // The owner in what is signed: a receiver takes only callbacks about its own jobs.
    body: JSON.stringify({ ...made.body, owner: made.owner }),
    owner: made.owner,
    requestId: made.requestId,
    log: ctx.log,
    deadline: ctx.deadline,
  });
  const recorded = JSON.stringify({ ...file, callback: outcome }, null, 2);
  if (!(await service.storage.putJson(bucket, key, recorded, { ifMatch: got.eTag })))
    ctx.log.warn("callback.not_recorded", { key, reason: "the file changed while its callback was sent" });
}
