import type { StepTimings } from "../core/types.ts";
import type { CallbackRecord } from "../service/callbacks/record.ts";
import type { FailureBody } from "../service/failure.ts";
import type { StoredPdf } from "../service/stored-pdf.ts";
import type { Source } from "./context.ts";

/** What an upload is answered with, beside its PDF: the files report.ts writes and callback.ts sends. */

/** `<path>.result.json`: what was rendered from which version of the upload. */
export interface ReportResultFile extends StoredPdf {
  source: Source;
  timings: StepTimings & { downloadMs: number; uploadMs: number };
  /** The upload's options.callback and how its delivery went. */
  callback?: CallbackRecord;
}

/** `<path>.error.json`: the same error list the endpoint answers with. */
export interface ReportErrorFile extends FailureBody {
  source: Source;
  callback?: CallbackRecord;
}
