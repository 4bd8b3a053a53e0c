import { Annotations, Match } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isWebPagePath } from "../../functions/http/web-page-route.ts";
import { ENV } from "../../functions/service/settings.ts";
import { CALLBACK_ENV, WEB_SIGN_IN_ENV } from "../../infra/constructs/render-function.ts";
import { defaultDomainPrefix } from "../../infra/constructs/web-sign-in.ts";
import {
  cfnText,
  OWN_PROVIDER_SETTINGS,
  removeAssemblies,
  resourceAt,
  resourcesOf,
  stackIds,
  synthesize,
  type Synthesized,
} from "../helpers/synth.ts";

/**
 * The stack's operations: tracing, the dashboard, the alarms, reserved concurrency, the callback
 * key, web sign-in; and the settings that shape them, each refused by name when it makes no sense.
 * Synthesized without bundling (artifact.test.ts bundles).
 */

let base: Synthesized;
let ids: ReturnType<typeof stackIds>;

beforeAll(() => {
  base = synthesize();
  ids = stackIds(base.template);
}, 120_000);
afterAll(removeAssemblies);

const envOf = (s: Synthesized, path: string) => {
  const [, fn] = resourceAt(s.template, "AWS::Lambda::Function", path);
  return Object.fromEntries(
    Object.entries((fn.Environment as { Variables: Record<string, unknown> }).Variables).map(([k, v]) => [
      k,
      cfnText(v),
    ]),
  );
};

/** Every statement of every IAM policy in the template: [policy's logical id, statement]. */
function statements(s: Synthesized): [string, { Action: string | string[]; Resource: unknown }][] {
  return Object.entries(resourcesOf(s.template, "AWS::IAM::Policy")).flatMap(([id, policy]) =>
    (policy.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement.map(
      (st) => [id, st] as [string, { Action: string | string[]; Resource: unknown }],
    ),
  );
}
const actionsOf = (st: { Action: string | string[] }) => (Array.isArray(st.Action) ? st.Action : [st.Action]);

describe("tracing and Powertools", () => {
  it("both render functions trace actively and name Powertools' service and namespace; their roles may send traces", () => {
    for (const path of ["/HttpFunction/", "/UploadFunction/"]) {
      const [, fn] = resourceAt(base.template, "AWS::Lambda::Function", path);
      expect(fn.TracingConfig).toEqual({ Mode: "Active" });
      expect(envOf(base, path)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: "report-render",
        POWERTOOLS_METRICS_NAMESPACE: "ReportRender",
      });
      const [, policy] = resourceAt(base.template, "AWS::IAM::Policy", `${path}Role/DefaultPolicy/`);
      const traces = (
        policy.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }
      ).Statement.filter((st) => String(st.Action).includes("xray:"));
      expect(traces.map((st) => [[...st.Action].sort(), st.Resource])).toEqual([
        [["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"],
      ]);
    }
    // The batch lines are the upload function's too (its second event source): no third function to trace.
    expect(
      Object.values(resourcesOf(base.template, "AWS::Lambda::EventSourceMapping")).map((m) => m.FunctionName),
    ).toEqual([{ Ref: ids.upload }, { Ref: ids.upload }]);
    base.template.resourcePropertiesCountIs("AWS::Lambda::Function", { TracingConfig: { Mode: "Active" } }, 2);
  });

  it("the variables the stack sets for callbacks and sign-in are the names functions/service/settings.ts reads", () => {
    const read = new Set<string>(Object.values(ENV));
    for (const name of [...Object.values(CALLBACK_ENV), ...Object.values(WEB_SIGN_IN_ENV)]) {
      expect(read.has(name), `${name} is not a name of ENV`).toBe(true);
    }
  });
});

/** The dashboard's body, its references written as <LogicalId>. */
function dashboardBody(s: Synthesized): { widgets: { type: string; properties: Record<string, unknown> }[] } {
  const dashboards = Object.values(resourcesOf(s.template, "AWS::CloudWatch::Dashboard"));
  expect(dashboards).toHaveLength(1);
  return JSON.parse(cfnText(dashboards[0]?.DashboardBody));
}

type MetricRow = (string | Record<string, unknown>)[];

/** Each graph's metrics: title → rows ([namespace, name, dim, value, …, options] or [{ expression }]). */
function graphs(s: Synthesized): Map<string, MetricRow[]> {
  const map = new Map<string, MetricRow[]>();
  for (const w of dashboardBody(s).widgets) {
    if (w.type !== "metric" || !w.properties.metrics) continue;
    map.set(String(w.properties.title), w.properties.metrics as MetricRow[]);
  }
  return map;
}

/** A row's [namespace, metric, {dimensions}, options], the "." shorthand of repeated values expanded. */
function rows(
  metrics: MetricRow[],
): { namespace: string; name: string; dims: Record<string, string>; stat?: string }[] {
  let previous: string[] = [];
  return metrics
    .filter((row) => typeof row[0] === "string")
    .map((row) => {
      const options = row.find((x) => typeof x === "object") as { stat?: string } | undefined;
      const values = row
        .filter((x): x is string => typeof x === "string")
        .map((x, i) => (x === "." ? (previous[i] ?? x) : x));
      previous = values;
      const [namespace = "", name = "", ...rest] = values;
      const dims: Record<string, string> = {};
      for (let i = 0; i + 1 < rest.length; i += 2) dims[rest[i] as string] = rest[i + 1] as string;
      return { namespace, name, dims, stat: options?.stat };
    });
}

describe("dashboard", () => {
  it("is named after the stack, and its URL is an output", () => {
    const [, dashboard] = resourceAt(base.template, "AWS::CloudWatch::Dashboard", "/Operations/");
    expect(dashboard.DashboardName).toBe("ReportRender");
    const outputs = base.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(cfnText(outputs.DashboardUrl?.Value)).toBe(
      "https://console.aws.amazon.com/cloudwatch/home?region=<AWS::Region>#dashboards:name=ReportRender",
    );
  });

  it("latency: p50/p95/p99 of the API, of each function's Duration and of RenderDuration; each render step's p95", () => {
    const g = graphs(base);
    const percentiles = ["p50", "p95", "p99"];
    expect(rows(g.get("API latency (ms)") ?? [])).toEqual(
      percentiles.map((stat) => ({
        namespace: "AWS/ApiGateway",
        name: "Latency",
        dims: { ApiId: `<${ids.api}>` },
        stat,
      })),
    );
    for (const [title, id] of [
      ["HTTP function duration (ms)", ids.http],
      ["Upload function duration (ms)", ids.upload],
    ] as const) {
      expect(rows(g.get(title) ?? [])).toEqual(
        percentiles.map((stat) => ({
          namespace: "AWS/Lambda",
          name: "Duration",
          dims: { FunctionName: `<${id}>` },
          stat,
        })),
      );
    }
    const service = { service: "report-render" };
    expect(rows(g.get("Render duration (ms)") ?? [])).toEqual(
      percentiles.map((stat) => ({ namespace: "ReportRender", name: "RenderDuration", dims: service, stat })),
    );
    expect(rows(g.get("Render steps p95 (ms)") ?? [])).toEqual(
      ["validate", "template", "chromium", "finalize", "storage"].map((step) => ({
        namespace: "ReportRender",
        name: "RenderStepDuration",
        dims: { ...service, step },
        stat: "p95",
      })),
    );
  });

  it("throughput: API requests, Rendered, each function's invocations, BatchLines by outcome", () => {
    const g = graphs(base);
    expect(rows(g.get("Throughput") ?? [])).toEqual([
      { namespace: "AWS/ApiGateway", name: "Count", dims: { ApiId: `<${ids.api}>` }, stat: "Sum" },
      { namespace: "ReportRender", name: "Rendered", dims: { service: "report-render" }, stat: "Sum" },
      { namespace: "AWS/Lambda", name: "Invocations", dims: { FunctionName: `<${ids.http}>` }, stat: "Sum" },
      { namespace: "AWS/Lambda", name: "Invocations", dims: { FunctionName: `<${ids.upload}>` }, stat: "Sum" },
    ]);
    expect(rows(g.get("Batch lines") ?? [])).toEqual(
      ["rendered", "refused", "failed"].map((outcome) => ({
        namespace: "ReportRender",
        name: "BatchLines",
        dims: { service: "report-render", outcome },
        stat: "Sum",
      })),
    );
  });

  it("errors by code: SEARCH over Refused and Failed by their code, the API's 4xx and 5xx, each function's Errors", () => {
    const g = graphs(base);
    for (const [title, metric] of [
      ["Refused by code", "Refused"],
      ["Failed by code", "Failed"],
    ] as const) {
      const [row = []] = g.get(title) ?? [];
      const { expression, label } = (row[0] ?? {}) as { expression?: string; label?: string };
      expect(expression).toBe(
        `SEARCH('{ReportRender,code,service} MetricName="${metric}" service="report-render"', 'Sum', 60)`,
      );
      // One line per code, named by it.
      expect(label).toBe(`\${PROP('Dim.code')}`);
    }
    expect(rows(g.get("API 4xx / 5xx, function errors") ?? [])).toEqual([
      { namespace: "AWS/ApiGateway", name: "4xx", dims: { ApiId: `<${ids.api}>` }, stat: "Sum" },
      { namespace: "AWS/ApiGateway", name: "5xx", dims: { ApiId: `<${ids.api}>` }, stat: "Sum" },
      { namespace: "AWS/Lambda", name: "Errors", dims: { FunctionName: `<${ids.http}>` }, stat: "Sum" },
      { namespace: "AWS/Lambda", name: "Errors", dims: { FunctionName: `<${ids.upload}>` }, stat: "Sum" },
    ]);
  });

  it("cold starts by function, concurrency against each reservation, throttles", () => {
    const g = graphs(base);
    expect(rows(g.get("Cold starts by function") ?? [])).toEqual(
      [ids.http, ids.upload].map((id) => ({
        namespace: "ReportRender",
        name: "ColdStart",
        dims: { service: "report-render", function_name: `<${id}>` },
        stat: "Sum",
      })),
    );
    expect(rows(g.get("Concurrent executions") ?? []).map((r) => [r.name, r.dims.FunctionName, r.stat])).toEqual([
      ["ConcurrentExecutions", `<${ids.http}>`, "Maximum"],
      ["ConcurrentExecutions", `<${ids.upload}>`, "Maximum"],
    ]);
    // A line for each reservation, when there is one (none by default).
    const lines = (s: Synthesized) =>
      (
        dashboardBody(s).widgets.find((w) => w.properties.title === "Concurrent executions")?.properties.annotations as
          | { horizontal?: { value: number }[] }
          | undefined
      )?.horizontal;
    expect(lines(base) ?? []).toEqual([]);
    expect(lines(synthesize({ httpReservedConcurrency: "100", uploadReservedConcurrency: "60" }))).toEqual([
      expect.objectContaining({ value: 100 }),
      expect.objectContaining({ value: 60 }),
    ]);
    expect(rows(g.get("Throttles") ?? []).map((r) => [r.name, r.dims.FunctionName])).toEqual([
      ["Throttles", `<${ids.http}>`],
      ["Throttles", `<${ids.upload}>`],
    ]);
  });

  it("queues: depth and oldest message of each, the uploads' age when their render starts, the dead letters", () => {
    const g = graphs(base);
    const queueRows = (title: string) => rows(g.get(title) ?? []).map((r) => [r.name, r.dims.QueueName, r.stat]);
    expect(queueRows("Queue depth (visible messages)")).toEqual([
      ["ApproximateNumberOfMessagesVisible", `<${ids.queue}.QueueName>`, "Maximum"],
      ["ApproximateNumberOfMessagesVisible", `<${ids.lines}.QueueName>`, "Maximum"],
    ]);
    expect(queueRows("Oldest message (s)")).toEqual([
      ["ApproximateAgeOfOldestMessage", `<${ids.queue}.QueueName>`, "Maximum"],
      ["ApproximateAgeOfOldestMessage", `<${ids.lines}.QueueName>`, "Maximum"],
    ]);
    expect(rows(g.get("Upload age when its render starts (ms)") ?? []).map((r) => [r.name, r.stat])).toEqual([
      ["UploadQueueAge", "p50"],
      ["UploadQueueAge", "p95"],
      ["UploadQueueAge", "p99"],
      ["UploadQueueAge", "Maximum"],
    ]);
    expect(queueRows("Dead letters (visible messages)")).toEqual([
      ["ApproximateNumberOfMessagesVisible", `<${ids.dlq}.QueueName>`, "Maximum"],
      ["ApproximateNumberOfMessagesVisible", `<${ids.lineDlq}.QueueName>`, "Maximum"],
    ]);
    const alarms = dashboardBody(base).widgets.find((w) => w.properties.title === "Alarms");
    expect([...((alarms?.properties.alarms as string[] | undefined) ?? [])].sort()).toEqual(
      Object.keys(resourcesOf(base.template, "AWS::CloudWatch::Alarm"))
        .map((id) => `<${id}.Arn>`)
        .sort(),
    );
  });

  it("every metric of the service's namespace is one the functions emit (functions/service/metrics.ts)", async () => {
    const { METRIC } = await import("../../functions/service/metrics.ts");
    const emitted = new Set<string>(Object.values(METRIC));
    const used = [...graphs(base).values()].flatMap(rows).filter((r) => r.namespace === "ReportRender");
    expect(used.length).toBeGreaterThan(15);
    for (const r of used) expect(emitted.has(r.name), r.name).toBe(true);
  });
});

/** Every alarm by its name. */
function alarms(s: Synthesized): Map<string, Record<string, unknown>> {
  return new Map(Object.values(resourcesOf(s.template, "AWS::CloudWatch::Alarm")).map((a) => [String(a.AlarmName), a]));
}

describe("alarms", () => {
  it("fourteen, named after the stack, each notifying the alarm topic on alarm and on OK", () => {
    const [topic] = resourceAt(base.template, "AWS::SNS::Topic", "/Alarms/Topic/");
    const all = alarms(base);
    expect([...all.keys()].sort()).toEqual([
      "ReportRender-api-server-errors",
      "ReportRender-dead-letters",
      "ReportRender-dead-letters-new",
      "ReportRender-http-errors",
      "ReportRender-http-slow",
      "ReportRender-http-throttled",
      "ReportRender-internal-failures",
      "ReportRender-line-dead-letters",
      "ReportRender-line-dead-letters-new",
      "ReportRender-lines-waiting",
      "ReportRender-upload-errors",
      "ReportRender-upload-slow",
      "ReportRender-upload-throttled",
      "ReportRender-uploads-waiting",
    ]);
    for (const alarm of all.values()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.OKActions).toEqual([{ Ref: topic }]);
      expect(alarm.TreatMissingData).toBe("notBreaching");
      // Five minutes: the alarm's own period, or (metric math) its metrics'.
      const periods = alarm.Metrics
        ? (alarm.Metrics as { MetricStat?: { Period: number } }[]).flatMap((m) => m.MetricStat?.Period ?? [])
        : [alarm.Period];
      expect(periods.length).toBeGreaterThan(0);
      for (const period of periods) expect(period).toBe(300);
    }
  });

  it("each dead-letter queue not empty", () => {
    for (const [name, id] of [
      ["ReportRender-dead-letters", ids.dlq],
      ["ReportRender-line-dead-letters", ids.lineDlq],
    ] as const) {
      expect(alarms(base).get(name)).toMatchObject({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [id, "QueueName"] } }],
        Statistic: "Maximum",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        EvaluationPeriods: 1,
      });
    }
  });

  it("each new dead letter notifies again: more messages than 5 minutes before, back to OK when none arrive", () => {
    for (const [name, id] of [
      ["ReportRender-dead-letters-new", ids.dlq],
      ["ReportRender-line-dead-letters-new", ids.lineDlq],
    ] as const) {
      const alarm = alarms(base).get(name) as { Metrics: Record<string, unknown>[] } & Record<string, unknown>;
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        EvaluationPeriods: 1,
      });
      const expression = alarm.Metrics.find((m) => m.Expression !== undefined);
      expect(expression).toMatchObject({ Expression: "DIFF(depth)", ReturnData: true });
      const depth = alarm.Metrics.find((m) => m.Id === "depth");
      expect(depth).toMatchObject({
        MetricStat: {
          Metric: {
            Namespace: "AWS/SQS",
            MetricName: "ApproximateNumberOfMessagesVisible",
            Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [id, "QueueName"] } }],
          },
          Period: 300,
          Stat: "Maximum",
        },
        ReturnData: false,
      });
    }
  });

  it("each work queue's oldest message older than two hours (SQS drops it at 4 days)", () => {
    for (const [name, id] of [
      ["ReportRender-uploads-waiting", ids.queue],
      ["ReportRender-lines-waiting", ids.lines],
    ] as const) {
      expect(alarms(base).get(name)).toMatchObject({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateAgeOfOldestMessage",
        Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [id, "QueueName"] } }],
        Statistic: "Maximum",
        Threshold: 7200,
        ComparisonOperator: "GreaterThanThreshold",
      });
    }
  });

  it("the service's own faults (Failed, code internal) and the API's 5xx, which Lambda does not count as errors", () => {
    expect(alarms(base).get("ReportRender-internal-failures")).toMatchObject({
      Namespace: "ReportRender",
      MetricName: "Failed",
      Dimensions: [
        { Name: "code", Value: "internal" },
        { Name: "service", Value: "report-render" },
      ],
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    expect(alarms(base).get("ReportRender-api-server-errors")).toMatchObject({
      Namespace: "AWS/ApiGateway",
      MetricName: "5xx",
      Dimensions: [{ Name: "ApiId", Value: { Ref: ids.api } }],
      Statistic: "Sum",
      Threshold: 1,
    });
  });

  it("each function's errors, throttles, and p95 duration above 80 % of its timeout in 2 of 3 periods", () => {
    for (const [fn, id, timeoutMs] of [
      ["http", ids.http, 30_000],
      ["upload", ids.upload, 180_000],
    ] as const) {
      const dimensions = [{ Name: "FunctionName", Value: { Ref: id } }];
      const all = alarms(base);
      expect(all.get(`ReportRender-${fn}-errors`)).toMatchObject({
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: dimensions,
        Statistic: "Sum",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
      expect(all.get(`ReportRender-${fn}-throttled`)).toMatchObject({
        MetricName: "Throttles",
        Dimensions: dimensions,
        Statistic: "Sum",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
      expect(all.get(`ReportRender-${fn}-slow`)).toMatchObject({
        MetricName: "Duration",
        Dimensions: dimensions,
        ExtendedStatistic: "p95",
        Threshold: timeoutMs * 0.8,
        ComparisonOperator: "GreaterThanThreshold",
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
      });
    }
  });

  it("the slow thresholds follow the timeouts; a second stack's alarms have names of their own", () => {
    const s = synthesize({ httpTimeoutSeconds: 20, uploadTimeoutSeconds: 600, stackName: "RenderStaging" });
    const all = alarms(s);
    expect(all.get("RenderStaging-http-slow")?.Threshold).toBe(16_000);
    expect(all.get("RenderStaging-upload-slow")?.Threshold).toBe(480_000);
    expect([...all.keys()].every((name) => name.startsWith("RenderStaging-"))).toBe(true);
  });
});

describe("reserved concurrency", () => {
  const reservedOf = (s: Synthesized) =>
    ["/HttpFunction/", "/UploadFunction/"].map(
      (path) => resourceAt(s.template, "AWS::Lambda::Function", path)[1].ReservedConcurrentExecutions,
    );

  it("none by default, so that the one command deploys on a new account (limit 10), with the reason printed", () => {
    expect(reservedOf(base)).toEqual([undefined, undefined]);
    Annotations.fromStack(base.stack).hasInfo(
      "/ReportRender",
      Match.stringLikeRegexp(
        'httpReservedConcurrency and uploadReservedConcurrency "none".*new account\'s limit is 10',
      ),
    );
  });

  it("given, each is set (the HTTP one at least the API's burst, the upload one at least its queues' caps), and nothing is printed", () => {
    const reserving = synthesize({ httpReservedConcurrency: "100", uploadReservedConcurrency: "60" });
    expect(reservedOf(reserving)).toEqual([100, 60]);
    expect(Annotations.fromStack(reserving.stack).findInfo("*", Match.stringLikeRegexp("ReservedConcurrency"))).toEqual(
      [],
    );
    expect(
      reservedOf(
        synthesize({ accountConcurrencyLimit: "5000", httpReservedConcurrency: 2000, uploadReservedConcurrency: 1000 }),
      ),
    ).toEqual([2000, 1000]);
    const one = synthesize({ uploadReservedConcurrency: "60" });
    expect(reservedOf(one)).toEqual([undefined, 60]);
    Annotations.fromStack(one.stack).hasInfo(
      "/ReportRender",
      Match.stringLikeRegexp('^httpReservedConcurrency "none"'),
    );
  });

  it.each([
    [{ httpReservedConcurrency: "0" }, /httpReservedConcurrency must be "none" or a whole number from 1 to 900/],
    [{ httpReservedConcurrency: "lots" }, /httpReservedConcurrency must be a number/],
    [{ httpReservedConcurrency: "12.5" }, /httpReservedConcurrency must be "none" or a whole number/],
    [{ uploadReservedConcurrency: "901" }, /uploadReservedConcurrency must be "none" or a whole number from 1 to 900/],
    [{ httpReservedConcurrency: "10" }, /httpReservedConcurrency \(10\) must be at least throttlingBurstLimit \(20\)/],
    [
      { uploadReservedConcurrency: "59" },
      /uploadMaxConcurrency \+ batchLineMaxConcurrency must not exceed uploadReservedConcurrency/,
    ],
    [
      { httpReservedConcurrency: "850", uploadReservedConcurrency: "60" },
      /httpReservedConcurrency \+ uploadReservedConcurrency \(910\) must leave 100/,
    ],
    [
      { accountConcurrencyLimit: "150", httpReservedConcurrency: "100" },
      /must be "none" or a whole number from 1 to 50/,
    ],
    [{ accountConcurrencyLimit: "5" }, /accountConcurrencyLimit must be a whole number from 10/],
  ])("refuses %j at synth, naming the setting", (context, message) => {
    expect(() => synthesize(context)).toThrow(message);
  });
});

describe("callbacks", () => {
  it("a secret generated by Secrets Manager (nothing of it in the template), retained, its ARN given to both functions", () => {
    const [secret, props] = resourceAt(base.template, "AWS::SecretsManager::Secret", "/Callbacks/");
    // Deleting the stack keeps it, as it keeps the buckets and keys: receivers' keys derive from it.
    base.template.hasResource("AWS::SecretsManager::Secret", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
    });
    expect(props.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false });
    expect(props.SecretString).toBeUndefined();
    for (const path of ["/HttpFunction/", "/UploadFunction/"]) {
      expect(envOf(base, path).CALLBACK_SECRET_ARN).toBe(`<${secret}>`);
      // No hosts configured: no callbacks, and no variable that would say otherwise.
      expect(envOf(base, path).CALLBACK_ALLOWED_HOSTS).toBeUndefined();
    }
  });

  it("secretsmanager:GetSecretValue on this secret only, for the two functions (the upload one signs callbacks, the HTTP one derives callers' keys), and no other secret permission", () => {
    const [secret] = resourceAt(base.template, "AWS::SecretsManager::Secret", "/Callbacks/");
    const secretStatements = statements(base).filter(([, st]) =>
      actionsOf(st).some((a) => a.startsWith("secretsmanager:")),
    );
    // One statement in each function's own policy: GET /v1/callbacks/key answers 500 on AWS without the HTTP one's.
    expect(secretStatements.map(([id]) => id).sort()).toEqual(
      ["/HttpFunction/Role/DefaultPolicy/", "/UploadFunction/Role/DefaultPolicy/"]
        .map((path) => resourceAt(base.template, "AWS::IAM::Policy", path)[0])
        .sort(),
    );
    for (const [, st] of secretStatements) {
      expect(st.Action).toBe("secretsmanager:GetSecretValue");
      expect(st.Resource).toEqual({ Ref: secret });
    }
    // Nothing in the template names a secretsmanager wildcard.
    expect(JSON.stringify(base.template.toJSON())).not.toMatch(/secretsmanager:\*/);
  });

  it("the outputs name the secret and print the command that reads it", () => {
    const [secret] = resourceAt(base.template, "AWS::SecretsManager::Secret", "/Callbacks/");
    const outputs = base.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.CallbackSecretArn?.Value).toEqual({ Ref: secret });
    expect(cfnText(outputs.CallbackSecretCommand?.Value)).toBe(
      `aws secretsmanager get-secret-value --region <AWS::Region> --secret-id <${secret}> --query SecretString --output text`,
    );
  });

  it("callbackAllowedHosts → CALLBACK_ALLOWED_HOSTS on both functions, comma-separated as given", () => {
    const s = synthesize({ callbackAllowedHosts: "hooks.example.org, portal.example.gov.cn:8443,203.0.113.9" });
    for (const path of ["/HttpFunction/", "/UploadFunction/"]) {
      expect(envOf(s, path).CALLBACK_ALLOWED_HOSTS).toBe("hooks.example.org,portal.example.gov.cn:8443,203.0.113.9");
    }
    expect(
      envOf(synthesize({ callbackAllowedHosts: '["a.example.org"]' }), "/UploadFunction/").CALLBACK_ALLOWED_HOSTS,
    ).toBe("a.example.org");
  });

  it.each([
    "https://hooks.example.org",
    "hooks.example.org/path",
    "*.example.org",
    "hooks.example.org:0",
    "hooks.example.org:65536",
    "user@hooks.example.org",
    "hooks..example.org",
    "-hooks.example.org",
    "hooks example.org",
  ])("refuses callbackAllowedHosts %j at synth, naming the setting", (host) => {
    expect(() => synthesize({ callbackAllowedHosts: host })).toThrow(
      /setting callbackAllowedHosts: .* is not a host\[:port\]/,
    );
  });
});

describe("web sign-in", () => {
  const cognito = [
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
  ];
  const routes = (s: Synthesized) =>
    Object.values(resourcesOf(s.template, "AWS::ApiGatewayV2::Route"))
      .map((r) => [r.RouteKey, r.AuthorizationType])
      .sort();

  it("off by default: no Cognito resource, no public route, no sign-in variable", () => {
    for (const type of cognito) base.template.resourceCountIs(type, 0);
    expect(routes(base).filter(([, auth]) => auth === "NONE")).toEqual([]);
    for (const path of ["/HttpFunction/", "/UploadFunction/"]) {
      expect(Object.keys(envOf(base, path)).filter((k) => k.startsWith("WEB_SIGN_IN_"))).toEqual([]);
    }
  });

  describe("with the stack's user pool", () => {
    let s: Synthesized;
    let pool: string;
    let client: string;
    beforeAll(() => {
      s = synthesize({ webSignIn: "true" });
      pool = resourceAt(s.template, "AWS::Cognito::UserPool", "/WebSignIn/")[0];
      client = resourceAt(s.template, "AWS::Cognito::UserPoolClient", "/WebSignIn/")[0];
    });

    it("a pool of administrator-created users, e-mail as user name, a strong password policy, optional TOTP MFA", () => {
      for (const type of cognito) s.template.resourceCountIs(type, 1);
      const [, props] = resourceAt(s.template, "AWS::Cognito::UserPool", "/WebSignIn/");
      expect(props).toMatchObject({
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        UsernameAttributes: ["email"],
        UsernameConfiguration: { CaseSensitive: false },
        Policies: {
          PasswordPolicy: {
            MinimumLength: 12,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          },
        },
        MfaConfiguration: "OPTIONAL",
        EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
        AccountRecoverySetting: { RecoveryMechanisms: [{ Name: "verified_email", Priority: 1 }] },
      });
      // Kept when the stack is deleted, like the buckets.
      expect(s.template.toJSON().Resources[pool].DeletionPolicy).toBe("Retain");
    });

    it("a domain named after the stack and its id; a resource server with the publish scope alone", () => {
      const [, domain] = resourceAt(s.template, "AWS::Cognito::UserPoolDomain", "/WebSignIn/");
      expect(cfnText(domain.Domain)).toBe("reportrender-<selected>");
      expect(JSON.stringify(domain.Domain)).toContain("AWS::StackId");
      const [, server] = resourceAt(s.template, "AWS::Cognito::UserPoolResourceServer", "/WebSignIn/");
      expect(server).toMatchObject({ Identifier: "report-render", UserPoolId: { Ref: pool } });
      const issued = (server.Scopes as { ScopeName: string }[]).map(
        (scope) => `${server.Identifier}/${scope.ScopeName}`,
      );
      // No admin scope: Cognito gives a client's scopes to all its users, so handing over takes IAM instead.
      expect(issued).toEqual(["report-render/templates.publish"]);
      // Every scope a route of the API asks for is one the pool can issue, and each it issues is asked for.
      const asked = Object.values(resourcesOf(s.template, "AWS::ApiGatewayV2::Route")).flatMap(
        (r) => (r.AuthorizationScopes as string[] | undefined) ?? [],
      );
      expect(new Set(asked)).toEqual(new Set(issued));
    });

    it("a public client: code grant (PKCE), no secret, openid email (not the publish scope), the page's URL only", () => {
      const [, props] = resourceAt(s.template, "AWS::Cognito::UserPoolClient", "/WebSignIn/");
      const pageUrl = cfnText((s.template.toJSON().Outputs as Record<string, { Value: unknown }>).ApiUrl?.Value);
      expect(pageUrl).toMatch(/^https:\/\/<\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>\/$/);
      expect(props).toMatchObject({
        GenerateSecret: false,
        AllowedOAuthFlows: ["code"],
        AllowedOAuthFlowsUserPoolClient: true,
        SupportedIdentityProviders: ["COGNITO"],
        PreventUserExistenceErrors: "ENABLED",
      });
      // Not the publish scope: Cognito would give it to every user of the page.
      expect((props.AllowedOAuthScopes as unknown[]).map(cfnText)).toEqual(["openid", "email"]);
      expect((props.CallbackURLs as unknown[]).map(cfnText)).toEqual([pageUrl]);
      // The page's origin may read a presigned PDF from the output bucket (large PDFs come by a 303).
      const [, output] = resourceAt(s.template, "AWS::S3::Bucket", "/Buckets/Output/");
      const rules = (output.CorsConfiguration as { CorsRules: { AllowedOrigins: unknown[] }[] }).CorsRules;
      const [api] = resourceAt(s.template, "AWS::ApiGatewayV2::Api", "/Endpoint/");
      expect(rules.flatMap((r) => r.AllowedOrigins).map(cfnText)).toEqual([`<${api}.ApiEndpoint>`]);
      expect((props.LogoutURLs as unknown[]).map(cfnText)).toEqual([pageUrl]);
    });

    it("the API's JWT authorizer takes the pool's tokens for that client; only the page and its assets are public; handing over takes IAM", () => {
      s.template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
        AuthorizerType: "JWT",
        JwtConfiguration: { Audience: [{ Ref: client }], Issuer: Match.anyValue() },
      });
      const [, authorizer] = resourceAt(s.template, "AWS::ApiGatewayV2::Authorizer", "/Endpoint/");
      expect(cfnText((authorizer.JwtConfiguration as { Issuer: unknown }).Issuer)).toBe(
        `https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>/<${pool}>`,
      );
      expect(routes(s)).toEqual([
        ["$default", "JWT"],
        ["DELETE /v1/templates/{id}", "JWT"],
        ["GET /", "NONE"],
        ["GET /assets/{proxy+}", "NONE"],
        ["PUT /v1/admin/templates/{id}/owner", "AWS_IAM"],
        ["PUT /v1/templates/{id}", "JWT"],
      ]);
      // The public routes reach the HTTP function, which serves the page there (and its sign-in settings
      // under /assets/): nothing of the API is public.
      const [httpId] = resourceAt(s.template, "AWS::Lambda::Function", "/HttpFunction/");
      s.template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
        IntegrationUri: { "Fn::GetAtt": [httpId, "Arn"] },
      });
      expect(isWebPagePath("/")).toBe(true);
      expect(isWebPagePath("/assets/app.js")).toBe(true);
      expect(s.template.toJSON().Outputs.AuthorizationType.Value).toBe("JWT");
      // No token the authorizer takes may carry an admin permission: the administrators sign with SigV4,
      // by the one policy the stack makes in this mode.
      s.template.resourceCountIs("AWS::IAM::ManagedPolicy", 1);
      const [adminPolicy] = resourceAt(s.template, "AWS::IAM::ManagedPolicy", "/Endpoint/AdminPolicy/");
      expect(s.template.toJSON().Outputs.AdministerTemplatesPolicyArn.Value).toEqual({ Ref: adminPolicy });
    });

    it("the HTTP function is told the sign-in (the upload function is not); the outputs say how to add a user", () => {
      const [domain] = resourceAt(s.template, "AWS::Cognito::UserPoolDomain", "/WebSignIn/");
      expect(envOf(s, "/HttpFunction/")).toMatchObject({
        WEB_SIGN_IN_ISSUER: `https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>/<${pool}>`,
        WEB_SIGN_IN_CLIENT_ID: `<${client}>`,
        WEB_SIGN_IN_AUTHORIZE_URL: `https://<${domain}>.auth.<AWS::Region>.amazoncognito.com/oauth2/authorize`,
        WEB_SIGN_IN_TOKEN_URL: `https://<${domain}>.auth.<AWS::Region>.amazoncognito.com/oauth2/token`,
        WEB_SIGN_IN_SCOPES: "openid email",
      });
      expect(Object.keys(envOf(s, "/UploadFunction/")).filter((k) => k.startsWith("WEB_SIGN_IN_"))).toEqual([]);
      const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(outputs.UserPoolId?.Value).toEqual({ Ref: pool });
      expect(cfnText(outputs.AddUserCommand?.Value)).toBe(
        `aws cognito-idp admin-create-user --region <AWS::Region> --user-pool-id <${pool}> --username someone@example.org ` +
          "--user-attributes Name=email,Value=someone@example.org Name=email_verified,Value=true --desired-delivery-mediums EMAIL",
      );
      expect(cfnText(outputs.WebSignInUrl?.Value)).toBe(
        `https://<${domain}>.auth.<AWS::Region>.amazoncognito.com/oauth2/authorize`,
      );
    });

    it("a domain prefix of your choice; scopes narrowed to sign-in only (no publishing from the page)", () => {
      const t = synthesize({
        webSignIn: true,
        webSignInDomainPrefix: "agency-reports",
        webSignInScopes: "openid email",
      });
      expect(resourceAt(t.template, "AWS::Cognito::UserPoolDomain", "/WebSignIn/")[1].Domain).toBe("agency-reports");
      expect(resourceAt(t.template, "AWS::Cognito::UserPoolClient", "/WebSignIn/")[1].AllowedOAuthScopes).toEqual([
        "openid",
        "email",
      ]);
      expect(envOf(t, "/HttpFunction/").WEB_SIGN_IN_SCOPES).toBe("openid email");
    });
  });

  it("with your own provider: nothing created, the authorizer and the page use it", () => {
    const s = synthesize({
      webSignIn: "true",
      jwtIssuer: "https://login.example.org/realms/portal",
      jwtAudience: "portal-api,portal-web",
      webSignInClientId: "portal-web",
      webSignInAuthorizeUrl: "https://login.example.org/realms/portal/protocol/openid-connect/auth",
      webSignInTokenUrl: "https://login.example.org/realms/portal/protocol/openid-connect/token",
      webSignInScopes: "openid profile report-render/templates.publish",
    });
    for (const type of cognito) s.template.resourceCountIs(type, 0);
    s.template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      JwtConfiguration: { Issuer: "https://login.example.org/realms/portal", Audience: ["portal-api", "portal-web"] },
    });
    expect(envOf(s, "/HttpFunction/")).toMatchObject({
      WEB_SIGN_IN_ISSUER: "https://login.example.org/realms/portal",
      WEB_SIGN_IN_CLIENT_ID: "portal-web",
      WEB_SIGN_IN_AUTHORIZE_URL: "https://login.example.org/realms/portal/protocol/openid-connect/auth",
      WEB_SIGN_IN_TOKEN_URL: "https://login.example.org/realms/portal/protocol/openid-connect/token",
      WEB_SIGN_IN_SCOPES: "openid profile report-render/templates.publish",
    });
    expect(routes(s).filter(([, auth]) => auth === "NONE")).toEqual([
      ["GET /", "NONE"],
      ["GET /assets/{proxy+}", "NONE"],
    ]);
    const outputs = s.template.toJSON().Outputs as Record<string, unknown>;
    expect(outputs.UserPoolId).toBeUndefined();
    expect(outputs.AddUserCommand).toBeUndefined();
    // One audience: it is the page's client unless told otherwise; the scopes default to openid email.
    const one = synthesize({
      webSignIn: "true",
      jwtIssuer: "https://login.example.org",
      jwtAudience: "web",
      webSignInAuthorizeUrl: "https://login.example.org/authorize",
      webSignInTokenUrl: "https://login.example.org/token",
    });
    expect(envOf(one, "/HttpFunction/")).toMatchObject({
      WEB_SIGN_IN_CLIENT_ID: "web",
      WEB_SIGN_IN_SCOPES: "openid email",
    });
  });

  it("the default domain prefix is the stack's name as Cognito takes it", () => {
    expect(defaultDomainPrefix("ReportRender")).toBe("reportrender");
    expect(defaultDomainPrefix("My_AWS-Cognito-Reports")).toBe("my-reports");
    expect(defaultDomainPrefix("Amazon")).toBe("report-render");
    expect(defaultDomainPrefix(`R${"x".repeat(120)}`)).toHaveLength(40);
  });

  const provider = OWN_PROVIDER_SETTINGS;
  it.each([
    [{ webSignIn: "yes" }, /setting webSignIn must be true or false/],
    [{ webSignInDomainPrefix: "reports" }, /setting webSignInDomainPrefix needs webSignIn=true/],
    [{ webSignInScopes: "openid" }, /setting webSignInScopes needs webSignIn=true/],
    [{ webSignIn: "true", webSignInDomainPrefix: "Reports" }, /setting webSignInDomainPrefix must be 1–63 lower-case/],
    [{ webSignIn: "true", webSignInDomainPrefix: "my-aws-reports" }, /setting webSignInDomainPrefix must be/],
    [{ webSignIn: "true", webSignInDomainPrefix: "-reports" }, /setting webSignInDomainPrefix must be/],
    [{ webSignIn: "true", webSignInClientId: "web" }, /setting webSignInClientId is for the provider of jwtIssuer/],
    [{ webSignIn: "true", webSignInScopes: "email" }, /setting webSignInScopes must include openid/],
    [
      { webSignIn: "true", webSignInScopes: "openid phone" },
      /setting webSignInScopes: the user pool gives .*, not "phone"/,
    ],
    // The pool defines no admin scope (handing over takes IAM): the page's client cannot ask for one.
    [
      { webSignIn: "true", webSignInScopes: "openid report-render/templates.admin" },
      /setting webSignInScopes: the user pool gives .*, not "report-render\/templates.admin"/,
    ],
    [{ webSignIn: "true", webSignInScopes: 'openid "x"' }, /setting webSignInScopes: .* is not an OAuth scope/],
    [{ ...provider, webSignInDomainPrefix: "reports" }, /setting webSignInDomainPrefix is for the Cognito user pool/],
    [
      { ...provider, webSignInTokenUrl: undefined },
      /setting webSignInTokenUrl is required with webSignIn and jwtIssuer/,
    ],
    [
      { ...provider, webSignInAuthorizeUrl: "http://login.example.org/authorize" },
      /webSignInAuthorizeUrl must be an https/,
    ],
    [{ ...provider, webSignInClientId: "other" }, /setting webSignInClientId must be one of jwtAudience/],
    [{ ...provider, jwtAudience: "a,b" }, /setting webSignInClientId is required when jwtAudience has more than one/],
  ])("refuses %j at synth, naming the setting", (context, message) => {
    expect(() => synthesize(context)).toThrow(message);
  });
});
