import type { SQSHandler } from "aws-lambda";
import type { SqsEvent } from "../service/events.ts";
import { lambdaInvocation } from "../service/lambda-invocation.ts";
import { createService, warmUp } from "../service/service.ts";
import { loadConfig } from "../service/settings.ts";
import { startTracing } from "../service/tracing.ts";
import { createUploadHandler } from "./handler.ts";

/**
 * The upload function's Lambda entry point (two SQS event sources with ReportBatchItemFailures: the
 * uploads queue, and the line queue it sends batch lines to, found by ENV.batchLineQueueName). The
 * service is built, and Chromium started with a warm page, while Lambda initialises the function
 * (top-level await), so the first message does not wait for it. Tracing starts first, so the
 * service's AWS clients are traced. Each invocation's Lambda context goes on its log lines
 * (lambdaInvocation).
 */
const config = loadConfig();
await startTracing(config);
const service = createService(config);
await warmUp(service);
const upload = createUploadHandler(service);

/** Work that may wait (a callback's retries) stops this long before Lambda would end the invocation. */
const MARGIN_MS = 15_000;

export const handler = lambdaInvocation(service, (event: SqsEvent, context) =>
  upload(event, { deadline: Date.now() + context.getRemainingTimeInMillis() - MARGIN_MS }),
) satisfies SQSHandler;
