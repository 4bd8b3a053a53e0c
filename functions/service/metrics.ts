import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { EmfOutput, MetricsOptions } from "@aws-lambda-powertools/metrics/types";
import type { StepTimings } from "../core/types.ts";
import type { Logger } from "./log.ts";
import type { ServiceConfig } from "./settings.ts";

/**
 * The service's CloudWatch metrics, as Embedded Metric Format lines in the log (Powertools for AWS
 * Lambda's Metrics): CloudWatch makes metrics of them, no API call is made. The dashboard and the
 * alarms are built from exactly these names, units and dimensions (besides `service`, none other).
 */
export const METRIC = {
  stepDuration: "RenderStepDuration",
  renderDuration: "RenderDuration",
  pages: "Pages",
  pdfBytes: "PdfBytes",
  rendered: "Rendered",
  refused: "Refused",
  failed: "Failed",
  queueAge: "UploadQueueAge",
  batchLines: "BatchLines",
  coldStart: "ColdStart",
} as const;

export type RenderStep = "validate" | "template" | "chromium" | "finalize" | "storage";
export type BatchLineOutcome = "rendered" | "refused" | "failed";

export interface ServiceMetrics {
  /** A PDF made: each step's duration, the whole render's, its pages and bytes, and one Rendered. */
  rendered(result: { pages: number; bytes: number; timings: StepTimings }): void;
  /** One step's duration (`storage`: the PDF's put into the output bucket). */
  step(step: RenderStep, ms: number): void;
  /** An input refused, by its error code (invalid_json, invalid_data, too_complex…). */
  refused(code: string): void;
  /** A fault of the service's own, by its code (`internal`). */
  failed(code: string): void;
  /** How long an upload waited: from its S3 event (or its SQS message) to the start of its work. */
  queueAge(ms: number): void;
  /** Lines of a finished batch, by outcome. */
  batchLines(outcome: BatchLineOutcome, count: number): void;
  /** ColdStart (Count) on an instance's first invocation: dimensions service and function_name. */
  coldStart(functionName: string): void;
  /** Write every metric recorded so far (once per invocation or request). */
  flush(): void;
}

/** Metrics written through `log` (writeMetrics), to the same output as its lines. */
export function createMetrics(
  config: Pick<ServiceConfig, "metricsNamespace" | "serviceName" | "metricsEnabled">,
  log: Logger,
): ServiceMetrics {
  const emit = (emf: EmfOutput) => {
    if (config.metricsEnabled) log.writeMetrics(emf);
  };
  const options: MetricsOptions = { namespace: config.metricsNamespace, serviceName: config.serviceName, logger: log };
  const plain = new EmfMetrics(options, emit);
  // One EMF object has one set of dimensions: a stored group per dimension value.
  const groups = new Map<string, EmfMetrics>();
  const grouped = (dimension: string, value: string) => {
    const key = `${dimension}\n${value}`;
    let group = groups.get(key);
    if (!group) {
      group = new EmfMetrics({ ...options, defaultDimensions: { [dimension]: value } }, emit);
      groups.set(key, group);
    }
    return group;
  };
  const step = (name: RenderStep, ms: number) =>
    grouped("step", name).addMetric(METRIC.stepDuration, MetricUnit.Milliseconds, ms);

  return {
    rendered(result) {
      const { validateMs, templateMs, chromiumMs, finalizeMs, totalMs } = result.timings;
      step("validate", validateMs);
      step("template", templateMs);
      step("chromium", chromiumMs);
      step("finalize", finalizeMs);
      plain.addMetric(METRIC.renderDuration, MetricUnit.Milliseconds, totalMs);
      plain.addMetric(METRIC.pages, MetricUnit.Count, result.pages);
      plain.addMetric(METRIC.pdfBytes, MetricUnit.Bytes, result.bytes);
      plain.addMetric(METRIC.rendered, MetricUnit.Count, 1);
    },
    step,
    refused: (code) => grouped("code", code).addMetric(METRIC.refused, MetricUnit.Count, 1),
    failed: (code) => grouped("code", code).addMetric(METRIC.failed, MetricUnit.Count, 1),
    queueAge: (ms) => plain.addMetric(METRIC.queueAge, MetricUnit.Milliseconds, Math.max(0, ms)),
    batchLines(outcome, count) {
      if (count > 0) grouped("outcome", outcome).addMetric(METRIC.batchLines, MetricUnit.Count, count);
    },
    coldStart: (functionName) => plain.captureColdStartMetric(functionName),
    flush() {
      for (const metrics of [plain, ...groups.values()]) metrics.publishStoredMetrics();
    },
  };
}

/**
 * Powertools' Metrics, its EMF objects handed to `emit` instead of its own console (so they follow
 * the logger: its output, its format, silent in tests), and quietly when there is nothing to write.
 */
class EmfMetrics extends Metrics {
  private readonly emit: (emf: EmfOutput) => void;
  private readonly options: MetricsOptions;

  constructor(options: MetricsOptions, emit: (emf: EmfOutput) => void) {
    super(options);
    this.options = options;
    this.emit = emit;
  }

  override publishStoredMetrics(): this {
    try {
      if (this.hasStoredMetrics() && !this.isDisabled()) this.emit(this.serializeMetrics());
    } finally {
      this.clearMetrics();
      this.clearDimensions();
      this.clearMetadata();
    }
    return this;
  }

  /** What captureColdStartMetric writes its one metric with: the same output. */
  override singleMetric(): Metrics {
    return new EmfMetrics({ ...this.options, singleMetric: true }, this.emit);
  }
}
