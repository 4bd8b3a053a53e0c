import type { APIGatewayProxyHandlerV2 } from "aws-lambda";
import type { HttpEvent, HttpResult } from "../service/events.ts";
import { createService, warmUp } from "../service/service.ts";
import { createHttpHandler } from "./handler.ts";

/**
 * The HTTP function's Lambda entry point. The service is built, and Chromium started with a warm
 * page, while Lambda initialises the function (top-level await), so the first request does not wait
 * for Chromium to inflate and start. (Lambda passes its context object second, where the door takes
 * its options; it is not handed on.)
 */
const service = createService();
await warmUp(service);
const http = createHttpHandler(service);

export const handler = ((event: HttpEvent): Promise<HttpResult> => http(event)) satisfies APIGatewayProxyHandlerV2;
