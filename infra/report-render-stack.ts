import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { grantHttpAccess, grantUploadAccess } from "./constructs/access.ts";
import { ServiceAlarms } from "./constructs/alarms.ts";
import { ReportBuckets } from "./constructs/buckets.ts";
import { HttpEndpoint } from "./constructs/http-endpoint.ts";
import { RenderFunction } from "./constructs/render-function.ts";
import { UploadPipeline } from "./constructs/upload-pipeline.ts";
import { addNagSuppressions } from "./nag-suppressions.ts";
import { settingsFromContext, type ReportRenderSettings } from "./settings.ts";

export interface ReportRenderStackProps extends StackProps {
  /** Settings given here win over CDK context; any setting in neither takes its default (infra/settings.ts). */
  settings?: Partial<ReportRenderSettings>;
}

/** The synchronous render limit: API Gateway gives up at 30 s, the function answers before it. */
export const MAX_SYNC_RENDER_MS = 28_000;
/** The render limit of an upload or job (functions/config.ts default). */
export const MAX_BACKGROUND_RENDER_MS = 50_000;

/**
 * The whole service: the buckets, the two render functions, the HTTP API in front of one and the
 * S3 → SQS upload path in front of the other, alarms, and the outputs a client needs.
 * Environment-agnostic (no account or region lookups), so it synthesizes offline.
 */
export class ReportRenderStack extends Stack {
  readonly settings: ReportRenderSettings;
  readonly buckets: ReportBuckets;
  readonly httpFunction: RenderFunction;
  readonly uploadFunction: RenderFunction;
  readonly endpoint: HttpEndpoint;
  readonly uploads: UploadPipeline;
  readonly alarms: ServiceAlarms;

  constructor(scope: Construct, id: string, props: ReportRenderStackProps = {}) {
    super(scope, id, {
      description: "report-render: JSON reports rendered to PDF by headless Chromium on Lambda",
      ...props,
    });
    const s = (this.settings = settingsFromContext(this.node, props.settings));
    const logRetention = s.logRetentionDays as RetentionDays;

    this.buckets = new ReportBuckets(this, "Buckets", {
      outputExpirationDays: s.outputExpirationDays,
      inputVersionExpirationDays: s.inputVersionExpirationDays,
      accessLogExpirationDays: s.accessLogExpirationDays,
      corsAllowedOrigins: s.corsAllowedOrigins,
    });
    const { input, output } = this.buckets;

    // The settings of functions/config.ts; the rest keep their defaults.
    const common = {
      INPUT_BUCKET: input.bucketName,
      OUTPUT_BUCKET: output.bucketName,
      MAX_RECEIVE_COUNT: String(s.maxReceiveCount),
      // The render limit of uploads and jobs, within the upload function's timeout; the HTTP
      // function names it when it sends a long report to POST /v1/jobs.
      RENDER_TIMEOUT_MS: String(Math.min(MAX_BACKGROUND_RENDER_MS, (s.uploadTimeoutSeconds - 10) * 1000)),
      LOG_LEVEL: s.logLevel,
    };
    const functionProps = {
      memorySizeMb: s.memorySizeMb,
      ephemeralStorageMb: s.ephemeralStorageMb,
      logRetention,
    };

    this.httpFunction = new RenderFunction(this, "HttpFunction", {
      ...functionProps,
      entry: "functions/http/handler.ts",
      description: "report-render: the HTTP API (render, jobs, templates, web page)",
      timeoutSeconds: s.httpTimeoutSeconds,
      reservedConcurrency: s.httpReservedConcurrency,
      environment: {
        ...common,
        // 2 s for the response and the upload of a stored PDF, within the function's timeout.
        SYNC_RENDER_TIMEOUT_MS: String(Math.min(MAX_SYNC_RENDER_MS, (s.httpTimeoutSeconds - 2) * 1000)),
      },
    });
    this.uploadFunction = new RenderFunction(this, "UploadFunction", {
      ...functionProps,
      entry: "functions/upload/handler.ts",
      description: "report-render: uploads and jobs from the input bucket, via SQS",
      timeoutSeconds: s.uploadTimeoutSeconds,
      reservedConcurrency: s.uploadReservedConcurrency,
      environment: common,
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
    });

    this.alarms = new ServiceAlarms(this, "Alarms", {
      deadLetterQueue: this.uploads.deadLetterQueue,
      functions: [
        { name: "Http", function: this.httpFunction.function },
        { name: "Upload", function: this.uploadFunction.function },
      ],
      alarmEmail: s.alarmEmail,
    });

    new CfnOutput(this, "ApiUrl", { description: "The endpoint (POST /v1/render, /v1/jobs, GET /v1/templates)", value: this.endpoint.url });
    new CfnOutput(this, "InputBucketName", { description: "Upload incoming/<path>.json or .jsonl here", value: input.bucketName });
    new CfnOutput(this, "OutputBucketName", { description: "PDFs and result files appear here", value: output.bucketName });
    new CfnOutput(this, "DeadLetterQueueUrl", { description: "Uploads that failed every attempt", value: this.uploads.deadLetterQueue.queueUrl });
    new CfnOutput(this, "AlarmTopicArn", { description: "Subscribe to be told of dead letters and function errors", value: this.alarms.topic.topicArn });
    new CfnOutput(this, "AuthorizationType", { value: this.endpoint.authorizationType });

    if (this.endpoint.invokePolicy) {
      new CfnOutput(this, "InvokeApiPolicyArn", {
        description: "Attach to the IAM principals that may call the API",
        value: this.endpoint.invokePolicy.managedPolicyArn,
      });
    }

    addNagSuppressions(this);
  }
}
