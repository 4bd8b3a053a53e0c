import { CfnOutput, Duration, Stack, type StackProps, Token } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, type Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { DEFAULTS, ENV } from "../functions/service/settings.ts";
import { grantHttpAccess, grantUploadAccess } from "./constructs/access.ts";
import { ServiceAlarms } from "./constructs/alarms.ts";
import { ReportBuckets } from "./constructs/buckets.ts";
import { HttpEndpoint } from "./constructs/http-endpoint.ts";
import { RenderFunction, type FunctionEnvironment } from "./constructs/render-function.ts";
import { batchLineQueueName, UploadPipeline } from "./constructs/upload-pipeline.ts";
import { addNagSuppressions } from "./nag-suppressions.ts";
import { settingsFromContext, type ReportRenderSettings } from "./settings.ts";

/** The properties of a {@link ReportRenderStack}: a CDK stack's own, and its settings. */
export interface ReportRenderStackProps extends StackProps {
  /**
   * Settings of the deployment. Each one given here wins over the same setting in CDK context
   * (`-c name=value`, cdk.json), which wins over its default (infra/settings.ts `DEFAULT_SETTINGS`).
   *
   * @default - every setting from CDK context, or its default
   */
  readonly settings?: Partial<ReportRenderSettings>;
}

/**
 * The synchronous render limit, ms: API Gateway gives up at 30 s, the function answers before it.
 * The functions' own default (functions/service/settings.ts `DEFAULTS.syncRenderTimeoutMs`).
 */
export const MAX_SYNC_RENDER_MS: number = DEFAULTS.syncRenderTimeoutMs;
/** The render limit of an upload or job, ms (functions/service/settings.ts `DEFAULTS.renderTimeoutMs`). */
export const MAX_BACKGROUND_RENDER_MS: number = DEFAULTS.renderTimeoutMs;

/**
 * The whole service: the buckets, the two render functions, the HTTP API in front of one and the
 * S3 → SQS upload path in front of the other, alarms, and the outputs a client needs.
 * Environment-agnostic (no account or region lookups), so it synthesizes offline.
 */
export class ReportRenderStack extends Stack {
  /** The settings in effect: props over CDK context over the defaults, each checked. */
  readonly settings: ReportRenderSettings;
  /** The input, output and access-log buckets. */
  readonly buckets: ReportBuckets;
  /** The function behind the HTTP API. */
  readonly httpFunction: RenderFunction;
  /** The function the upload queue invokes. */
  readonly uploadFunction: RenderFunction;
  /** The HTTP API, its stage, authorizer and access log. */
  readonly endpoint: HttpEndpoint;
  /** The S3 → SQS path of uploads and job requests, and the queue of batch lines, each with its dead-letter queue. */
  readonly uploads: UploadPipeline;
  /** The alarms and the topic they notify. */
  readonly alarms: ServiceAlarms;
  /** The alarm on the line queue's dead letters (`alarms` has the rest). */
  readonly lineDeadLettersAlarm: Alarm;

  constructor(scope: Construct, id: string, props: ReportRenderStackProps = {}) {
    super(scope, id, {
      description: "report-render: JSON reports rendered to PDF by headless Chromium on Lambda",
      ...props,
    });
    this.settings = settingsFromContext(this.node, props.settings);
    const s = this.settings;
    const logRetention = s.logRetentionDays as RetentionDays;

    this.buckets = new ReportBuckets(this, "Buckets", {
      outputExpirationDays: s.outputExpirationDays,
      inputVersionExpirationDays: s.inputVersionExpirationDays,
      accessLogExpirationDays: s.accessLogExpirationDays,
      corsAllowedOrigins: s.corsAllowedOrigins,
    });
    const { input, output } = this.buckets;

    // The settings of functions/service/settings.ts, by the names it reads them by; the rest keep their defaults.
    const common: FunctionEnvironment = {
      [ENV.inputBucket]: input.bucketName,
      [ENV.outputBucket]: output.bucketName,
      [ENV.maxReceiveCount]: String(s.maxReceiveCount),
      // The render limit of uploads and jobs, within the upload function's timeout; the HTTP
      // function names it when it sends a long report to POST /v1/jobs.
      [ENV.renderTimeoutMs]: String(Math.min(MAX_BACKGROUND_RENDER_MS, (s.uploadTimeoutSeconds - 10) * 1000)),
      [ENV.logLevel]: s.logLevel,
    };
    const functionProps = {
      memorySizeMb: s.memorySizeMb,
      ephemeralStorageMb: s.ephemeralStorageMb,
      logRetention,
    };

    this.httpFunction = new RenderFunction(this, "HttpFunction", {
      ...functionProps,
      entry: "functions/http/lambda.ts",
      description: "report-render: the HTTP API (render, jobs, templates, web page)",
      timeoutSeconds: s.httpTimeoutSeconds,
      reservedConcurrency: s.httpReservedConcurrency,
      environment: {
        ...common,
        // 2 s for the response and the upload of a stored PDF, within the function's timeout.
        [ENV.syncRenderTimeoutMs]: String(Math.min(MAX_SYNC_RENDER_MS, (s.httpTimeoutSeconds - 2) * 1000)),
      },
    });
    // A name known now, not a reference: see batchLineQueueName.
    if (Token.isUnresolved(this.stackName)) throw new Error("the stack needs a literal name (it names the line queue)");
    const lineQueueName = batchLineQueueName(this.stackName);
    this.uploadFunction = new RenderFunction(this, "UploadFunction", {
      ...functionProps,
      entry: "functions/upload/lambda.ts",
      description: "report-render: uploads, jobs and batch lines from the input bucket, via SQS",
      timeoutSeconds: s.uploadTimeoutSeconds,
      reservedConcurrency: s.uploadReservedConcurrency,
      environment: { ...common, [ENV.batchLineQueueName]: lineQueueName },
    });
    grantHttpAccess(this.httpFunction.function, this.buckets);
    grantUploadAccess(this.uploadFunction.function, this.buckets);

    this.endpoint = new HttpEndpoint(this, "Endpoint", {
      handler: this.httpFunction.function,
      jwtIssuer: s.jwtIssuer,
      jwtAudience: s.jwtAudience,
      corsAllowedOrigins: s.corsAllowedOrigins,
      throttlingRateLimit: s.throttlingRateLimit,
      throttlingBurstLimit: s.throttlingBurstLimit,
      logRetention,
    });

    this.uploads = new UploadPipeline(this, "Uploads", {
      input,
      handler: this.uploadFunction.function,
      handlerTimeoutSeconds: s.uploadTimeoutSeconds,
      maxReceiveCount: s.maxReceiveCount,
      maxConcurrency: s.uploadMaxConcurrency,
      lineQueueName,
      lineMaxConcurrency: s.batchLineMaxConcurrency,
    });

    this.alarms = new ServiceAlarms(this, "Alarms", {
      deadLetterQueue: this.uploads.deadLetterQueue,
      functions: [
        { name: "Http", function: this.httpFunction.function },
        { name: "Upload", function: this.uploadFunction.function },
      ],
      alarmEmail: s.alarmEmail,
    });
    this.lineDeadLettersAlarm = deadLettersAlarm(
      this.alarms,
      this.uploads.lineDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: "Maximum",
      }),
    );

    new CfnOutput(this, "ApiUrl", {
      description: "The endpoint (POST /v1/render, /v1/jobs, GET /v1/templates)",
      value: this.endpoint.url,
    });
    new CfnOutput(this, "InputBucketName", {
      description: "Upload incoming/<path>.json or .jsonl here",
      value: input.bucketName,
    });
    new CfnOutput(this, "OutputBucketName", {
      description: "PDFs and result files appear here",
      value: output.bucketName,
    });
    new CfnOutput(this, "DeadLetterQueueUrl", {
      description: "Uploads that failed every attempt",
      value: this.uploads.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, "BatchLineDeadLetterQueueUrl", {
      description: "Batch lines that failed every attempt",
      value: this.uploads.lineDeadLetterQueue.queueUrl,
    });
    new CfnOutput(this, "AlarmTopicArn", {
      description: "Subscribe to be told of dead letters and function errors",
      value: this.alarms.topic.topicArn,
    });
    new CfnOutput(this, "AuthorizationType", { value: this.endpoint.authorizationType });

    if (this.endpoint.invokePolicy) {
      new CfnOutput(this, "InvokeApiPolicyArn", {
        description: "Attach to the IAM principals that may call the API",
        value: this.endpoint.invokePolicy.managedPolicyArn,
      });
    }
    if (this.endpoint.publishPolicy) {
      new CfnOutput(this, "PublishTemplatesPolicyArn", {
        description: "Attach to the IAM principals that may also publish and withdraw template packages",
        value: this.endpoint.publishPolicy.managedPolicyArn,
      });
    }

    addNagSuppressions(this);
  }
}

/**
 * The line queue's dead letters raise an alarm like the upload queue's (infra/constructs/alarms.ts
 * watches that one): a line whose every attempt failed, even to record its failure, leaves its batch
 * without a summary.
 */
function deadLettersAlarm(alarms: ServiceAlarms, metric: Metric): Alarm {
  const alarm = new Alarm(alarms, "LineDeadLetters", {
    alarmDescription: "Batch lines failed every attempt and wait in the line dead-letter queue",
    metric,
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  const action = new SnsAction(alarms.topic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}
