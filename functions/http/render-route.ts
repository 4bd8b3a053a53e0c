import { parseJson } from "../core/input/index.ts";
import { InputError, LimitError } from "../core/errors.ts";
import type { RenderResult } from "../core/types.ts";
import { hasCallback } from "../service/callbacks/option.ts";
import { CALLBACK_PATH } from "../service/callbacks/target.ts";
import type { HttpResult } from "../service/events.ts";
import { renderedFields, templateIdOf } from "../service/report-log.ts";
import { requestLimits } from "../service/service.ts";
import { renderPdfKey } from "../service/storage/keys.ts";
import { storePdf } from "../service/stored-pdf.ts";
import { bodyText } from "./body.ts";
import type { RequestContext } from "./context.ts";
import { downloadAnswer } from "../service/download.ts";
import { negotiate } from "./accept.ts";
import { base64ResponseSize, json, pdf } from "./responses.ts";

const MODES = ["application/pdf", "application/json"] as const;

/**
 * POST /v1/render: envelope → PDF.
 * - Accept: application/pdf  → 200 with the PDF, or 303 to a presigned URL when it is too large to return
 * - Accept: application/json → 200 { key, url, … } with the PDF stored in the output bucket
 */
export async function postRender(ctx: RequestContext): Promise<HttpResult> {
  const { config } = ctx.service;
  const mode = negotiate(ctx.event.headers.accept, MODES);
  if (!mode) {
    return json(406, { error: "not_acceptable", message: `Accept ${MODES.join(" or ")}`, errors: [] });
  }
  const input = parseJson(bodyText(ctx.event, config.maxBodyBytes));
  ctx.logFields.templateId = templateIdOf(input);
  if (hasCallback(input)) throw callbackRefused();
  ctx.logFields.mode = mode;

  const result = await renderWithinRequest(input, ctx);
  return answerWithPdf(ctx, result, mode);
}

/**
 * The answer for a rendered PDF: the bytes (Accept: application/pdf) when they fit a response, else
 * stored in the output bucket and answered with where to fetch it (303 for a PDF, 200 JSON).
 */
export async function answerWithPdf(
  ctx: RequestContext,
  result: RenderResult,
  mode: "application/pdf" | "application/json",
): Promise<HttpResult> {
  const { config } = ctx.service;
  ctx.signal?.throwIfAborted(); // the caller has gone: nothing to store or send
  const reportHeaders = {
    "x-report-pages": String(result.pages),
    "x-report-sha256": result.sha256,
    "x-report-warnings": String(result.warnings.length),
    "x-report-template": result.template,
  };
  if (mode === "application/pdf" && base64ResponseSize(result.bytes) <= config.maxResponseBytes) {
    Object.assign(ctx.logFields, renderedFields(result));
    return pdf(result.pdf, result.filename, reportHeaders);
  }

  const { stored, uploadMs } = await storePdf(ctx.service, renderPdfKey(result.sha256, result.filename), result);
  const body = await downloadAnswer(ctx.service, stored);
  Object.assign(ctx.logFields, renderedFields(result, { uploadMs }));

  // A PDF too large for a Lambda response: the client follows the redirect to S3 for the bytes.
  if (mode === "application/pdf") return json(303, body, { location: body.url, ...reportHeaders });
  return json(200, body, reportHeaders);
}

/** This answer is the PDF itself: there is nothing to call back about. */
function callbackRefused(): InputError {
  return new InputError("invalid_options", [
    {
      rule: "callback",
      path: CALLBACK_PATH,
      message: "POST /v1/render answers with the PDF itself and sends no callback: use POST /v1/jobs for one",
    },
  ]);
}

/** A render that must answer within the request; one that takes too long is pointed to the jobs API. */
async function renderWithinRequest(input: unknown, ctx: RequestContext): Promise<RenderResult> {
  const { config } = ctx.service;
  const limits = requestLimits(config);
  try {
    return await ctx.service.renderer.render(input, { limits, signal: ctx.signal });
  } catch (e) {
    if (e instanceof LimitError && e.limit === "renderTime" && limits.renderTimeoutMs < config.renderTimeoutMs) {
      const allowed = config.renderTimeoutMs / 1000;
      throw new LimitError(
        "renderTime",
        `${e.message}; POST /v1/jobs renders it in the background (up to ${allowed} s)`,
      );
    }
    throw e;
  }
}
