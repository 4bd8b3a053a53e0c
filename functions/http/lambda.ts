import type { APIGatewayProxyHandlerV2 } from "aws-lambda";
import type { HttpEvent } from "../service/events.ts";
import { lambdaInvocation } from "../service/lambda-invocation.ts";
import { createService, warmUp } from "../service/service.ts";
import { loadConfig } from "../service/settings.ts";
import { startTracing } from "../service/tracing.ts";
import { createHttpHandler } from "./handler.ts";

/**
 * The HTTP function's Lambda entry point. The service is built, and Chromium started with a warm
 * page, while Lambda initialises the function (top-level await), so the first request does not wait
 * for Chromium to inflate and start. Tracing starts first, so the service's AWS clients are traced.
 * Each invocation's Lambda context goes on its log lines (lambdaInvocation).
 */
const config = loadConfig();
await startTracing(config);
const service = createService(config);
await warmUp(service);
const http = createHttpHandler(service);

export const handler = lambdaInvocation(service, (event: HttpEvent) => http(event)) satisfies APIGatewayProxyHandlerV2;
