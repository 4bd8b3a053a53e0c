import { Duration } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  MathExpression,
  Metric,
  PeriodOverride,
  TextWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { SLOW_SHARE } from "./alarms.ts";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "./render-function.ts";

/** A function on the dashboard. */
export interface DashboardFunction {
  /**
   * Its name on the dashboard (e.g. `HTTP`).
   *
   * Required.
   */
  readonly label: string;
  /**
   * The function.
   *
   * Required.
   */
  readonly function: IFunction;
  /**
   * Its timeout, s: drawn on its duration graph at the slow alarm's threshold.
   *
   * Required.
   */
  readonly timeoutSeconds: number;
  /**
   * Its reserved concurrency, drawn on the concurrency graph.
   *
   * @default - none drawn
   */
  readonly reservedConcurrency?: number;
}

/** A queue on the dashboard. */
export interface DashboardQueue {
  /**
   * Its name on the dashboard (e.g. `uploads`).
   *
   * Required.
   */
  readonly label: string;
  /**
   * The queue.
   *
   * Required.
   */
  readonly queue: IQueue;
}

/** The properties of {@link OperationsDashboard}. */
export interface OperationsDashboardProps {
  /**
   * The dashboard's name (the stack's).
   *
   * Required.
   */
  readonly dashboardName: string;
  /**
   * The HTTP API: its latency, requests, 4xx and 5xx.
   *
   * Required.
   */
  readonly api: IHttpApi;
  /**
   * The render functions: duration, errors, throttles, concurrency, cold starts.
   *
   * Required.
   */
  readonly functions: DashboardFunction[];
  /**
   * The work queues: depth and age of the oldest message.
   *
   * Required.
   */
  readonly queues: DashboardQueue[];
  /**
   * The dead-letter queues: their depth.
   *
   * Required.
   */
  readonly deadLetterQueues: DashboardQueue[];
  /**
   * The alarms whose state the dashboard shows.
   *
   * @default [] - no alarm widget
   */
  readonly alarms?: IAlarm[];
}

/** The period of every graph. */
const PERIOD = Duration.minutes(1);
const PERCENTILES = ["p50", "p95", "p99"] as const;
/** The render steps functions/service/metrics.ts times (`RenderStepDuration`, dimension `step`). */
const RENDER_STEPS = ["validate", "template", "chromium", "finalize", "storage"] as const;
/** The outcomes of a batch line (`BatchLines`, dimension `outcome`). */
const BATCH_LINE_OUTCOMES = ["rendered", "refused", "failed"] as const;

/** A metric the functions emit (Powertools EMF): namespace ReportRender, dimension service=report-render. */
function serviceMetric(
  metricName: string,
  statistic: string,
  dimensions: Record<string, string> = {},
  label?: string,
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRICS_SERVICE, ...dimensions },
    statistic,
    period: PERIOD,
    label,
  });
}

/**
 * Every time series of `metricName` with the dimensions service and `dimension`, whatever its value
 * (error codes are not known in advance), one line each named by that value.
 */
function searchByDimension(metricName: string, dimension: string, statistic: string): MathExpression {
  return new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},${dimension},service} MetricName="${metricName}" service="${METRICS_SERVICE}"', '${statistic}', ${PERIOD.toSeconds()})`,
    usingMetrics: {},
    label: `\${PROP('Dim.${dimension}')}`,
    period: PERIOD,
  });
}

/**
 * One CloudWatch dashboard for the service, row by row: latency (the API, each function, a whole
 * render, each render step), throughput (requests, renders, batch lines), errors (refused and failed
 * by code, the API's 4xx/5xx, function errors), capacity (cold starts, concurrency against the
 * reservation, throttles), queues (depth, oldest message, the age of uploads when their render
 * starts), dead letters and the alarms.
 */
export class OperationsDashboard extends Construct {
  /** The dashboard. */
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { api, functions, queues, deadLetterQueues } = props;
    const graph = (title: string, left: IMetric[], extra: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {}) =>
      new GraphWidget({ title, left, width: 6, height: 6, period: PERIOD, ...extra });

    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
      periodOverride: PeriodOverride.AUTO,
    });
    this.dashboard.addWidgets(
      new TextWidget({
        width: 24,
        height: 2,
        markdown:
          "# report-render\nLatency, throughput, errors by code, cold starts, queues and dead letters. The service's " +
          `own metrics are in the namespace **${METRICS_NAMESPACE}** (dimension service=${METRICS_SERVICE}); the rest are AWS's.`,
      }),
    );

    // Latency.
    this.dashboard.addWidgets(
      graph(
        "API latency (ms)",
        PERCENTILES.map((p) => api.metricLatency({ statistic: p, period: PERIOD, label: `API ${p}` })),
      ),
      ...functions.map(({ label, function: fn, timeoutSeconds }) =>
        graph(
          `${label} function duration (ms)`,
          PERCENTILES.map((p) => fn.metricDuration({ statistic: p, period: PERIOD, label: `${label} ${p}` })),
          {
            leftAnnotations: [
              { value: timeoutSeconds * 1000 * SLOW_SHARE, label: `slow alarm (${SLOW_SHARE * 100} % of timeout)` },
            ],
          },
        ),
      ),
      graph(
        "Render duration (ms)",
        PERCENTILES.map((p) => serviceMetric("RenderDuration", p, {}, `render ${p}`)),
      ),
    );

    // Throughput, steps, errors.
    this.dashboard.addWidgets(
      graph("Render steps p95 (ms)", [
        ...RENDER_STEPS.map((step) => serviceMetric("RenderStepDuration", "p95", { step }, step)),
      ]),
      graph("Throughput", [
        api.metricCount({ statistic: "Sum", period: PERIOD, label: "API requests" }),
        serviceMetric("Rendered", "Sum", {}, "rendered"),
        ...functions.map(({ label, function: fn }) =>
          fn.metricInvocations({ statistic: "Sum", period: PERIOD, label: `${label} invocations` }),
        ),
      ]),
      graph(
        "Batch lines",
        BATCH_LINE_OUTCOMES.map((outcome) => serviceMetric("BatchLines", "Sum", { outcome }, outcome)),
        { stacked: true },
      ),
      graph("Pages and PDF size", [serviceMetric("Pages", "p95", {}, "pages p95")], {
        right: [serviceMetric("PdfBytes", "p95", {}, "PDF bytes p95")],
      }),
    );
    this.dashboard.addWidgets(
      graph("Refused by code", [searchByDimension("Refused", "code", "Sum")], { width: 8, stacked: true }),
      graph("Failed by code", [searchByDimension("Failed", "code", "Sum")], { width: 8, stacked: true }),
      graph(
        "API 4xx / 5xx, function errors",
        [
          api.metricClientError({ statistic: "Sum", period: PERIOD, label: "API 4xx" }),
          api.metricServerError({ statistic: "Sum", period: PERIOD, label: "API 5xx" }),
          ...functions.map(({ label, function: fn }) =>
            fn.metricErrors({ statistic: "Sum", period: PERIOD, label: `${label} errors` }),
          ),
        ],
        { width: 8 },
      ),
    );

    // Capacity.
    this.dashboard.addWidgets(
      graph(
        "Cold starts by function",
        functions.map(({ label, function: fn }) =>
          serviceMetric("ColdStart", "Sum", { function_name: fn.functionName }, label),
        ),
        { width: 8 },
      ),
      graph(
        "Concurrent executions",
        functions.map(({ label, function: fn }) =>
          fn.metric("ConcurrentExecutions", { statistic: "Maximum", period: PERIOD, label }),
        ),
        {
          width: 8,
          leftAnnotations: functions.flatMap(({ label, reservedConcurrency }) =>
            reservedConcurrency === undefined ? [] : [{ value: reservedConcurrency, label: `${label} reserved` }],
          ),
        },
      ),
      graph(
        "Throttles",
        functions.map(({ label, function: fn }) => fn.metricThrottles({ statistic: "Sum", period: PERIOD, label })),
        { width: 8 },
      ),
    );

    // Queues and dead letters.
    this.dashboard.addWidgets(
      graph(
        "Queue depth (visible messages)",
        queues.map(({ label, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: PERIOD, label }),
        ),
        { width: 8 },
      ),
      graph(
        "Oldest message (s)",
        queues.map(({ label, queue }) =>
          queue.metricApproximateAgeOfOldestMessage({ statistic: "Maximum", period: PERIOD, label }),
        ),
        { width: 8 },
      ),
      graph(
        "Upload age when its render starts (ms)",
        [
          ...PERCENTILES.map((p) => serviceMetric("UploadQueueAge", p, {}, p)),
          serviceMetric("UploadQueueAge", "Maximum", {}, "max"),
        ],
        { width: 8 },
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "Dead letters (visible messages)",
        deadLetterQueues.map(({ label, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: PERIOD, label }),
        ),
        { width: 12 },
      ),
      ...((props.alarms ?? []).length > 0
        ? [new AlarmStatusWidget({ title: "Alarms", alarms: props.alarms ?? [], width: 12, height: 6 })]
        : []),
    );
  }
}
