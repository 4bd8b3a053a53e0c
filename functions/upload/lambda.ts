import type { SQSHandler } from "aws-lambda";
import type { SqsBatchResponse, SqsEvent } from "../service/events.ts";
import { createService, warmUp } from "../service/service.ts";
import { createUploadHandler } from "./handler.ts";

/**
 * The upload function's Lambda entry point (two SQS event sources with ReportBatchItemFailures: the
 * uploads queue, and the line queue it sends batch lines to, found by ENV.batchLineQueueName). The
 * service is built, and Chromium started with a warm page, while Lambda initialises the function
 * (top-level await), so the first message does not wait for it. Lambda's context object is not
 * handed on.
 */
const service = createService();
await warmUp(service);
const upload = createUploadHandler(service);

export const handler = ((event: SqsEvent): Promise<SqsBatchResponse> => upload(event)) satisfies SQSHandler;
