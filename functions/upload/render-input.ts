import { parseJson } from "../core/input/index.ts";
import { InputError } from "../core/errors.ts";
import { hasCallback } from "../service/callbacks/option.ts";
import { CALLBACK_PATH } from "../service/callbacks/target.ts";
import type { LimitError } from "../core/errors.ts";
import type { RenderResult } from "../core/types.ts";
import { describeFailure, type Failure, internalFailure } from "../service/failure.ts";
import { templateIdOf } from "../service/report-log.ts";
import { backgroundLimits } from "../service/service.ts";
import type { UploadContext } from "./context.ts";

export type Outcome =
  | { ok: true; result: RenderResult; templateId?: string }
  | { ok: false; failure: Failure; templateId?: string };

/**
 * One envelope's text → a PDF, or the failure to write down. A refused input is an answer, not an
 * error; a fault of the service is thrown for SQS to retry, unless this was the last attempt.
 */
export async function renderInput(
  ctx: UploadContext,
  input: { text?: string; tooLarge?: LimitError },
): Promise<Outcome> {
  let templateId: string | undefined;
  try {
    if (input.tooLarge) throw input.tooLarge;
    const envelope = parseJson(input.text ?? "");
    templateId = templateIdOf(envelope);
    // Single uploads and jobs have theirs taken out before this: here it is a batch's line.
    if (hasCallback(envelope)) throw lineCallbackRefused();
    return {
      ok: true,
      result: await ctx.service.renderer.render(envelope, { limits: backgroundLimits(ctx.service.config) }),
      templateId,
    };
  } catch (e) {
    const failure = describeFailure(e);
    if (failure) {
      ctx.service.metrics.refused(failure.body.error);
      return { ok: false, failure, templateId };
    }
    if (!ctx.lastAttempt) throw e;
    ctx.log.error("upload.render_failed_finally", { templateId, error: e });
    ctx.service.metrics.failed("internal");
    return { ok: false, failure: internalFailure(ctx.messageId), templateId };
  }
}

function lineCallbackRefused(): InputError {
  const message =
    "a batch's lines send no callbacks: upload the report as its own incoming/<path>.json, or POST it to /v1/jobs";
  return new InputError("invalid_options", [{ rule: "callback", path: CALLBACK_PATH, message }]);
}
