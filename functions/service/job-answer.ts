import { downloadAnswer } from "./download.ts";
import type { JobState } from "./jobs.ts";
import type { Service } from "./service.ts";

/**
 * What GET /v1/jobs/{id} answers for a job's state, and what its callback sends: the same JSON.
 * Its owner and the request id it was made with are not part of it. A done job's `url` is presigned
 * now, valid for the configured time.
 */
export async function jobAnswer(service: Service, state: JobState): Promise<Record<string, unknown>> {
  const { jobId, status } = state;
  const callback = state.callback ? { callback: state.callback } : {};
  switch (state.status) {
    case "queued":
    case "rendering":
      return { jobId, status, createdAt: state.createdAt, ...callback };
    case "failed":
      return {
        jobId,
        status,
        error: state.error,
        message: state.message,
        errors: state.errors,
        ...(state.truncated ? { truncated: state.truncated } : {}),
        ...(state.templates ? { templates: state.templates } : {}),
        ...callback,
      };
    case "done": {
      // url and expiresAt first, as this answer has always had them.
      const { url, expiresAt, ...stored } = await downloadAnswer(service, state);
      return { jobId, status, url, expiresAt, ...stored, ...callback };
    }
  }
}
