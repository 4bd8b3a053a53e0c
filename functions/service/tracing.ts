import type { Tracer } from "@aws-lambda-powertools/tracer";
import type { StepTimings } from "../core/types.ts";
import type { ServiceConfig } from "./settings.ts";

/**
 * X-Ray tracing through Powertools for AWS Lambda's Tracer, on Lambda only: the Lambda entry points
 * start it (startTracing) before the service is built. Everywhere else (CLI, `npm start`, tests)
 * every call here does nothing, and the X-Ray SDK is not even loaded (it costs ~150 ms of start-up).
 */
export interface ServiceTracer {
  /** An AWS SDK v3 client whose calls are traced (S3, SQS). */
  captureClient<T>(client: T): T;
  /** What captureLambdaHandler does, for a plain function: a `## <name>` subsegment, cold start and service annotated. */
  invocation<T>(name: string, run: () => Promise<T>): Promise<T>;
  /** A render begun now: `end` records it as a `render` subsegment, its steps (timed by the core) under it. */
  render(): { end(result?: { template: string; pages: number; timings: StepTimings }, error?: unknown): void };
}

const off: ServiceTracer = {
  captureClient: (client) => client,
  invocation: (_name, run) => run(),
  render: () => ({ end: () => {} }),
};

let active: ServiceTracer = off;

/** The process's tracer: what startTracing made, or one that does nothing. */
export function tracer(): ServiceTracer {
  return active;
}

/** An AWS SDK v3 client traced by the process's tracer (as it is where there is none). */
export function captureAwsClient<T>(client: T): T {
  return active.captureClient(client);
}

/**
 * Start tracing for this process, unless POWERTOOLS_TRACE_ENABLED=false; Powertools itself also
 * keeps it off outside Lambda (no AWS_EXECUTION_ENV) and under SAM local.
 */
export async function startTracing(
  config: Pick<ServiceConfig, "serviceName" | "traceEnabled">,
): Promise<ServiceTracer> {
  if (!config.traceEnabled) return active;
  const { Tracer } = await import("@aws-lambda-powertools/tracer");
  // Outgoing HTTP is not patched: the SDK clients are captured, and Chromium's own connection is no call out.
  const powertools = new Tracer({ serviceName: config.serviceName, captureHTTPsRequests: false });
  if (powertools.isTracingEnabled()) active = powertoolsTracer(powertools);
  return active;
}

type Segment = NonNullable<ReturnType<Tracer["getSegment"]>>;

function powertoolsTracer(powertools: Tracer): ServiceTracer {
  return {
    captureClient: (client) => powertools.captureAWSv3Client(client),
    async invocation(name, run) {
      const segment = powertools.getSegment();
      const handler = segment?.addNewSubsegment(`## ${name}`);
      if (handler) powertools.setSegment(handler);
      powertools.annotateColdStart();
      powertools.addServiceNameAnnotation();
      try {
        return await run();
      } catch (e) {
        powertools.addErrorAsMetadata(e as Error);
        throw e;
      } finally {
        handler?.close();
        if (segment) powertools.setSegment(segment);
      }
    },
    render() {
      const parent = powertools.getSegment();
      const render = parent?.addNewSubsegment("render");
      return {
        end(result, error) {
          if (!render) return;
          if (error !== undefined) render.addError(error instanceof Error ? error : String(error));
          if (result) {
            render.addAnnotation("template", result.template);
            render.addAnnotation("pages", result.pages);
            addSteps(render, result.timings);
          }
          render.close();
        },
      };
    },
  };
}

/**
 * The core times its steps but does not report them as they happen: they are recorded afterwards,
 * end to end, ending when the render ended (time waiting for a browser, if any, comes before them).
 */
function addSteps(render: Segment, timings: StepTimings): void {
  const steps: [string, number][] = [
    ["validate", timings.validateMs],
    ["template", timings.templateMs],
    ["chromium", timings.chromiumMs],
    ["finalize", timings.finalizeMs],
  ];
  let at = Date.now() / 1000 - steps.reduce((sum, [, ms]) => sum + ms, 0) / 1000;
  for (const [name, ms] of steps) {
    const step = render.addNewSubsegment(name);
    step.start_time = at;
    step.close();
    at += ms / 1000;
    // close() stamps the time it is called; the step ended earlier. X-Ray reads the field as written.
    (step as unknown as { end_time: number }).end_time = at;
  }
}
