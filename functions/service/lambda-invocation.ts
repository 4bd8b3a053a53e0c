import type { Context } from "aws-lambda";
import type { Service } from "./service.ts";
import { tracer } from "./tracing.ts";

/**
 * A door as a Lambda handler: each invocation's Lambda context (request id, cold start, function
 * name…) on every log line, the ColdStart metric on an instance's first, a `## handler` subsegment
 * (what Powertools' captureLambdaHandler makes), and the metrics flushed once at its end.
 */
export function lambdaInvocation<E, R>(
  service: Service,
  door: (event: E, context: Context) => Promise<R>,
): (event: E, context: Context) => Promise<R> {
  return async (event, context) => {
    service.log.addContext(context);
    service.metrics.coldStart(context.functionName);
    try {
      return await tracer().invocation("handler", () => door(event, context));
    } finally {
      service.metrics.flush();
    }
  };
}
