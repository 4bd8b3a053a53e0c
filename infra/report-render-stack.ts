import {
  Annotations,
  Aws,
  CfnOutput,
  CfnResource,
  Duration,
  Fn,
  Lazy,
  Stack,
  type StackProps,
  Tags,
  Token,
} from "aws-cdk-lib";
import { Metric } from "aws-cdk-lib/aws-cloudwatch";
import { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { METRIC } from "../functions/service/metrics.ts";
import { DEFAULTS, ENV } from "../functions/service/settings.ts";
import { grantHttpAccess, grantUploadAccess } from "./constructs/access.ts";
import { ServiceAlarms } from "./constructs/alarms.ts";
import { ReportBuckets } from "./constructs/buckets.ts";
import { CallbackSecret } from "./constructs/callbacks.ts";
import { OperationsDashboard } from "./constructs/dashboard.ts";
import { HttpEndpoint } from "./constructs/http-endpoint.ts";
import {
  type FunctionEnvironment,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  RenderFunction,
} from "./constructs/render-function.ts";
import { PageFunction } from "./constructs/page-function.ts";
import { Signing } from "./constructs/signing.ts";
import { batchLineQueueName, UploadPipeline } from "./constructs/upload-pipeline.ts";
import { WEB_PAGE_ROUTES, WebSignIn } from "./constructs/web-sign-in.ts";
import { addNagSuppressions } from "./nag-suppressions.ts";
import { type ReservedConcurrency, settingsFromContext, type ReportRenderSettings } from "./settings.ts";

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

const RESERVED_SETTINGS = ["httpReservedConcurrency", "uploadReservedConcurrency"] as const;

/** The tags every resource gets: the service's name and the stack's. */
export const COST_TAGS = { application: "report-render:application", stack: "report-render:stack" } as const;

/** Why a function has no reserved concurrency, and how to give it one (printed by `cdk synth`/`deploy`). */
function unreservedNote(keys: readonly string[]): string {
  return (
    `${keys.join(" and ")} "none" (the default): the functions share the account's unreserved Lambda ` +
    "concurrency, uncapped. Reserving needs an account limit above the reservations plus the 100 Lambda " +
    "keeps free, and a new account's limit is 10, so a reservation by default would make `cdk deploy` fail " +
    "there. Once the limit allows (Service Quotas, Lambda 'Concurrent executions'), deploy with e.g. " +
    "-c accountConcurrencyLimit=1000 -c httpReservedConcurrency=100 -c uploadReservedConcurrency=60."
  );
}

/**
 * The age, s, past which a queue's oldest message raises an alarm: two hours. A message failing every
 * attempt lives about `maxReceiveCount` visibility timeouts (3 × 18 min) before its dead-letter queue
 * takes it; older than that, nothing is taking the queue's work (SQS drops it after 4 days).
 */
const QUEUE_AGE_ALARM_SECONDS = 7200;

/**
 * The whole service: the buckets, the two render functions, the HTTP API in front of one and the
 * S3 → SQS upload path in front of the other, the callback secret, the web page's sign-in (with
 * `webSignIn`), alarms, a dashboard, and the outputs a client needs.
 * Environment-agnostic (no account or region lookups), so it synthesizes offline.
 */
export class ReportRenderStack extends Stack {
  /** The settings in effect: props over CDK context over the defaults, each checked. */
  readonly settings: ReportRenderSettings;
  /** The input, output and access-log buckets. */
  readonly buckets: ReportBuckets;
  /** The function behind the HTTP API. */
  readonly httpFunction: RenderFunction;
  /** The web page's function (no Chromium), behind the page's routes. */
  readonly pageFunction: PageFunction;
  /** The function the upload queue invokes. */
  readonly uploadFunction: RenderFunction;
  /** The HTTP API, its stage, authorizer and access log. */
  readonly endpoint: HttpEndpoint;
  /** The S3 → SQS path of uploads and job requests, and the queue of batch lines, each with its dead-letter queue. */
  readonly uploads: UploadPipeline;
  /** The alarms and the topic they notify. */
  readonly alarms: ServiceAlarms;
  /** With `signing`: the KMS key that signs PDFs, and its certificate chain once configured. */
  readonly signing?: Signing;
  /** The CloudWatch dashboard of the whole service. */
  readonly dashboard: OperationsDashboard;
  /** The secret callback keys are derived from, and the callback settings of both functions. */
  readonly callbacks: CallbackSecret;
  /** With `webSignIn`: the user pool (or your provider) the page signs in with. */
  readonly webSignIn?: WebSignIn;

  constructor(scope: Construct, id: string, props: ReportRenderStackProps = {}) {
    super(scope, id, {
      description: "report-render: JSON reports rendered to PDF by headless Chromium on Lambda",
      ...props,
    });
    this.settings = settingsFromContext(this.node, props.settings);
    // On every resource that takes tags: activate them as cost allocation tags (Billing) to see what
    // the service costs, and what each copy of it costs.
    // (Not the dashboard: CDK would tag it, and CloudFormation's AWS::CloudWatch::Dashboard takes no Tags.)
    const notTaggable = { excludeResourceTypes: ["AWS::CloudWatch::Dashboard"] };
    Tags.of(this).add(COST_TAGS.application, "report-render", notTaggable);
    Tags.of(this).add(COST_TAGS.stack, this.stackName, notTaggable);
    const s = this.settings;
    const logRetention = s.logRetentionDays as RetentionDays;

    this.buckets = new ReportBuckets(this, "Buckets", {
      outputExpirationDays: s.outputExpirationDays,
      uploadExpirationDays: s.uploadExpirationDays,
      kmsKey: s.bucketKmsKey,
      inputVersionExpirationDays: s.inputVersionExpirationDays,
      accessLogExpirationDays: s.accessLogExpirationDays,
      // The signed-in page fetches a PDF too large to answer inline from its presigned URL (a 303
      // from its own API's origin). The Api resource depends on neither bucket: no cycle.
      corsAllowedOrigins: s.webSignIn
        ? [...(s.corsAllowedOrigins ?? []), Lazy.string({ produce: () => this.endpoint.api.apiEndpoint })]
        : s.corsAllowedOrigins,
    });
    const { input, output } = this.buckets;

    this.callbacks = new CallbackSecret(this, "Callbacks", { allowedHosts: s.callbackAllowedHosts });
    // The settings of functions/service/settings.ts, by the names it reads them by; the rest keep their defaults.
    const common: FunctionEnvironment = {
      ...this.callbacks.environment,
      [ENV.inputBucket]: input.bucketName,
      [ENV.outputBucket]: output.bucketName,
      [ENV.maxReceiveCount]: String(s.maxReceiveCount),
      // The render limit of uploads and jobs, within the upload function's timeout; the HTTP
      // function names it when it sends a long report to POST /v1/jobs.
      [ENV.renderTimeoutMs]: String(Math.min(MAX_BACKGROUND_RENDER_MS, (s.uploadTimeoutSeconds - 10) * 1000)),
      [ENV.logLevel]: s.logLevel,
    };
    // Made before the API, whose URL the pool's client is given lazily (the API's authorizer needs the client).
    if (s.webSignIn) {
      this.webSignIn = new WebSignIn(this, "WebSignIn", {
        pageUrl: Lazy.string({ produce: () => this.endpoint.url }),
        domainPrefix: s.webSignInDomainPrefix,
        scopes: s.webSignInScopes,
        provider:
          s.jwtIssuer === undefined
            ? undefined
            : {
                issuer: s.jwtIssuer,
                clientId: s.webSignInClientId ?? s.jwtAudience?.[0] ?? "",
                authorizeUrl: s.webSignInAuthorizeUrl ?? "",
                tokenUrl: s.webSignInTokenUrl ?? "",
              },
      });
    }
    const reserved = (value: ReservedConcurrency) => (value === "none" ? undefined : value);
    const unreserved = RESERVED_SETTINGS.filter((key) => s[key] === "none");
    if (unreserved.length > 0) Annotations.of(this).addInfo(unreservedNote(unreserved));
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
      reservedConcurrency: reserved(s.httpReservedConcurrency),
      environment: {
        ...common,
        ...this.webSignIn?.environment,
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
      reservedConcurrency: reserved(s.uploadReservedConcurrency),
      environment: { ...common, [ENV.batchLineQueueName]: lineQueueName },
    });
    grantHttpAccess(this.httpFunction.function, this.buckets);
    grantUploadAccess(this.uploadFunction.function, this.buckets);
    if (s.signing) {
      this.signing = new Signing(this, "Signing", {
        functions: [this.httpFunction.function, this.uploadFunction.function],
        certificateFile: s.signingCertificate,
      });
    }
    // The upload function signs callbacks; the HTTP function derives each caller's key (GET /v1/callbacks/key).
    this.callbacks.grantRead(this.uploadFunction.function);
    this.callbacks.grantRead(this.httpFunction.function);

    // The web page's routes go to a function of their own that starts no Chromium.
    this.pageFunction = new PageFunction(this, "PageFunction", {
      logRetention,
      environment: { ...this.webSignIn?.environment, [ENV.logLevel]: s.logLevel },
    });
    this.endpoint = new HttpEndpoint(this, "Endpoint", {
      handler: this.httpFunction.function,
      pageHandler: this.pageFunction.function,
      // With the user pool, its tokens for the page's client; otherwise jwtIssuer's (or IAM auth).
      jwtIssuer: this.webSignIn?.issuer ?? s.jwtIssuer,
      jwtAudience: this.webSignIn?.userPool ? [this.webSignIn.clientId] : s.jwtAudience,
      publicRoutes: this.webSignIn ? WEB_PAGE_ROUTES : [],
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
      namePrefix: this.stackName,
      deadLetterQueues: [
        {
          name: "DeadLetters",
          queue: this.uploads.deadLetterQueue,
          description: "Uploads or jobs failed every attempt and wait in the dead-letter queue",
        },
        {
          // A line whose every attempt failed, even to record its failure, leaves its batch without a summary.
          name: "LineDeadLetters",
          queue: this.uploads.lineDeadLetterQueue,
          description: "Batch lines failed every attempt and wait in the line dead-letter queue",
        },
      ],
      workQueues: [
        { name: "Uploads", queue: this.uploads.queue, maxAgeSeconds: QUEUE_AGE_ALARM_SECONDS },
        { name: "Lines", queue: this.uploads.lineQueue, maxAgeSeconds: QUEUE_AGE_ALARM_SECONDS },
      ],
      metrics: [
        {
          // The service's own faults (functions/service/metrics.ts `failed`): the HTTP function answers
          // them with a 500 and the upload function's last attempt with an `internal` answer, so
          // Lambda counts neither as an error.
          name: "InternalFailures",
          description: "The service failed a render or request by a fault of its own (Failed, code internal)",
          metric: new Metric({
            namespace: METRICS_NAMESPACE,
            metricName: METRIC.failed,
            dimensionsMap: { service: METRICS_SERVICE, code: "internal" },
            statistic: "Sum",
            period: Duration.minutes(5),
          }),
        },
        {
          name: "ApiServerErrors",
          description: "The HTTP API answered 5xx (the function's own 500s, its timeouts and crashes)",
          metric: this.endpoint.api.metricServerError({ statistic: "Sum", period: Duration.minutes(5) }),
        },
      ],
      functions: [
        { name: "Http", function: this.httpFunction.function, timeoutSeconds: s.httpTimeoutSeconds },
        { name: "Upload", function: this.uploadFunction.function, timeoutSeconds: s.uploadTimeoutSeconds },
      ],
      alarmEmail: s.alarmEmail,
    });
    this.dashboard = new OperationsDashboard(this, "Operations", {
      dashboardName: this.stackName,
      api: this.endpoint.api,
      functions: [
        {
          label: "HTTP",
          function: this.httpFunction.function,
          timeoutSeconds: s.httpTimeoutSeconds,
          reservedConcurrency: reserved(s.httpReservedConcurrency),
        },
        {
          label: "Upload",
          function: this.uploadFunction.function,
          timeoutSeconds: s.uploadTimeoutSeconds,
          reservedConcurrency: reserved(s.uploadReservedConcurrency),
        },
      ],
      queues: [
        { label: "uploads", queue: this.uploads.queue },
        { label: "batch lines", queue: this.uploads.lineQueue },
      ],
      deadLetterQueues: [
        { label: "uploads", queue: this.uploads.deadLetterQueue },
        { label: "batch lines", queue: this.uploads.lineDeadLetterQueue },
      ],
      alarms: this.alarms.all,
    });

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
    new CfnOutput(this, "DashboardUrl", {
      description: "The service's CloudWatch dashboard",
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.stackName}`,
    });
    new CfnOutput(this, "CallbackSecretArn", {
      description:
        "The secret every owner's callback key is derived from, for operators (receivers read their own key: GET /v1/callbacks/key)",
      value: this.callbacks.secret.secretArn,
    });
    new CfnOutput(this, "CallbackSecretCommand", {
      description: "Prints the callback secret, for operators",
      value: Fn.join("", [
        `aws secretsmanager get-secret-value --region ${Aws.REGION} --secret-id `,
        this.callbacks.secret.secretArn,
        " --query SecretString --output text",
      ]),
    });
    const pool = this.webSignIn?.userPool;
    if (pool) {
      new CfnOutput(this, "UserPoolId", { description: "The web page's users", value: pool.userPoolId });
      new CfnOutput(this, "AddUserCommand", {
        description: "Adds a user of the web page (replace the address); AWS e-mails a temporary password",
        value: Fn.join("", [
          `aws cognito-idp admin-create-user --region ${Aws.REGION} --user-pool-id `,
          pool.userPoolId,
          " --username someone@example.org --user-attributes Name=email,Value=someone@example.org " +
            "Name=email_verified,Value=true --desired-delivery-mediums EMAIL",
        ]),
      });
    }
    if (this.webSignIn) {
      new CfnOutput(this, "WebSignInUrl", {
        description: "Where the page sends its users to sign in",
        value: this.webSignIn.authorizeUrl,
      });
    }

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
    // In either auth mode: handing a template over is always IAM-authorized (operators sign with SigV4).
    new CfnOutput(this, "AdministerTemplatesPolicyArn", {
      description:
        "Attach to the IAM principals (operators) that may hand a template package to another owner: " +
        "PUT /v1/admin/templates/{id}/owner, signed with SigV4 whatever AuthorizationType says",
      value: this.endpoint.adminPolicy.managedPolicyArn,
    });

    this.logFunctionsOfCdk(logRetention);
    addNagSuppressions(this);
  }

  /**
   * CDK's own functions (the handler that configures the input bucket's notifications) are written
   * as raw resources with no log group: Lambda would make one on first use, kept for ever. Each is
   * given one here, with the stack's retention.
   */
  private logFunctionsOfCdk(retention: RetentionDays): void {
    const raw = this.node.findAll().filter(
      (c): c is CfnResource =>
        c instanceof CfnResource && c.cfnResourceType === "AWS::Lambda::Function" && !(c instanceof CfnFunction), // ours are CfnFunctions, each with its log group
    );
    for (const fn of raw) {
      const scope = fn.node.scope as Construct;
      const logs = new LogGroup(scope, "Logs", { retention });
      fn.addPropertyOverride("LoggingConfig", { LogGroup: logs.logGroupName });
    }
  }
}
