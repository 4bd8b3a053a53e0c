import type { APIGatewayProxyHandlerV2 } from "aws-lambda";
import type { HttpEvent } from "../service/events.ts";
import { serviceLogger } from "../service/log.ts";
import { loadConfig } from "../service/settings.ts";
import { createPageHandler } from "./page-handler.ts";

/**
 * The page function's Lambda entry point (infra/constructs/page-function.ts): the web page's routes
 * only. It starts no Chromium and reads no bucket; its settings are the sign-in's and where its files are.
 */
const config = loadConfig();
const page = createPageHandler(config, serviceLogger(config));

export const handler = ((event: HttpEvent) => page(event)) satisfies APIGatewayProxyHandlerV2;
