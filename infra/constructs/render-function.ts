import { Duration, Size, Stack } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { join } from "node:path";
import { ENV } from "../../functions/service/settings.ts";
import { checkBundlingHost, thisHost } from "./bundling-host.ts";
import {
  chromiumPackCommands,
  copyCommands,
  fenceWorkerCommand,
  LAMBDA_TASK_ROOT,
  RUNTIME_DIR,
  runtimeFiles,
} from "./runtime-files.ts";

/** The repository root: the entry points, package-lock.json and the runtime files are found from it. */
export const PROJECT_ROOT = join(import.meta.dirname, "..", "..");

/**
 * Kept out of the bundle and installed into the asset (the core takes its launch flags); its bin/*.br
 * files are recompressed into the asset's Chromium pack and removed.
 */
const CHROMIUM_PACKAGE = "@sparticuz/chromium";

/**
 * An ESM bundle may still meet CommonJS code that calls require() for Node built-ins
 * (handlebars, ajv, …); esbuild leaves those calls to a `require` that ESM lacks.
 */
const REQUIRE_SHIM =
  "import { createRequire as __reportRenderRequire } from 'node:module'; const require = __reportRenderRequire(import.meta.url);";

/**
 * The service and namespace of every metric the functions emit (Powertools reads them from
 * `POWERTOOLS_ENV`); infra/constructs/dashboard.ts finds the metrics by them.
 */
export const METRICS_SERVICE = "report-render";
export const METRICS_NAMESPACE = "ReportRender";

/** Variables Powertools reads itself (functions/service/settings.ts does not). */
export const POWERTOOLS_ENV = {
  serviceName: "POWERTOOLS_SERVICE_NAME",
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
} as const;

/** Job callbacks (functions/service/settings.ts reads them by these names). */
export const CALLBACK_ENV = {
  secretArn: "CALLBACK_SECRET_ARN",
  allowedHosts: "CALLBACK_ALLOWED_HOSTS",
} as const;

/** The web page's sign-in (functions/service/settings.ts reads them by these names; the page learns them). */
export const WEB_SIGN_IN_ENV = {
  issuer: "WEB_SIGN_IN_ISSUER",
  clientId: "WEB_SIGN_IN_CLIENT_ID",
  authorizeUrl: "WEB_SIGN_IN_AUTHORIZE_URL",
  tokenUrl: "WEB_SIGN_IN_TOKEN_URL",
  scopes: "WEB_SIGN_IN_SCOPES",
} as const;

type ValueOf<T> = T[keyof T];

/** The name of an environment variable the functions read (functions/service/settings.ts `ENV`, and the above). */
export type FunctionEnvName =
  | ValueOf<typeof ENV>
  | ValueOf<typeof POWERTOOLS_ENV>
  | ValueOf<typeof CALLBACK_ENV>
  | ValueOf<typeof WEB_SIGN_IN_ENV>;

/** Environment variables of a render function, by the names the functions read them by. */
export type FunctionEnvironment = { readonly [name in FunctionEnvName]?: string };

/** The properties of a {@link RenderFunction}. */
export interface RenderFunctionProps {
  /**
   * The handler module, relative to the project root; it exports `handler`
   * (e.g. `functions/http/lambda.ts`).
   *
   * Required.
   */
  readonly entry: string;
  /**
   * The function's description, as the Lambda console shows it.
   *
   * Required.
   */
  readonly description: string;
  /**
   * Memory of the function, MB; Lambda gives CPU in proportion. The stack passes the
   * `memorySizeMb` setting.
   *
   * Required.
   */
  readonly memorySizeMb: number;
  /**
   * Timeout of one invocation, seconds. The stack passes `httpTimeoutSeconds` or `uploadTimeoutSeconds`.
   *
   * Required.
   */
  readonly timeoutSeconds: number;
  /**
   * Size of /tmp, MB: Chromium inflates itself there (~200 MB). The stack passes `ephemeralStorageMb`.
   *
   * Required.
   */
  readonly ephemeralStorageMb: number;
  /**
   * Reserved concurrent executions of the function.
   *
   * @default - none: the function draws on the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
  /**
   * How long the function's own log group keeps its logs.
   *
   * Required.
   */
  readonly logRetention: RetentionDays;
  /**
   * Settings of the functions, by the names in functions/service/settings.ts `ENV` (the type admits no
   * other name). `ENV.runtimeRoot`, `POWERTOOLS_ENV` and `NODE_OPTIONS` are set by the construct itself.
   *
   * @default - none besides those: every setting of functions/service/settings.ts keeps its default
   */
  readonly environment?: FunctionEnvironment;
}

/**
 * One render function: the handler bundled with esbuild (ESM, nodejs22.x, x86_64, the AWS SDK
 * bundled at the version the project pins), @sparticuz/chromium installed beside the bundle, and
 * the runtime files in `runtime/`, Chromium's recompressed for a fast start in `runtime/chromium-pack/`.
 * Active X-Ray tracing; Powertools names its metrics' service and namespace. Its own role may write
 * only to its own log group and traces; the stack grants it the bucket actions it uses.
 */
export class RenderFunction extends Construct {
  /** The Lambda function (esbuild bundle, Chromium beside it, runtime files in `runtime/`). */
  readonly function: NodejsFunction;
  /** The function's own log group, with the retention of `logRetention`. */
  readonly logGroup: LogGroup;
  /** The function's own role: its log group only, until the stack grants bucket access. */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: RenderFunctionProps) {
    super(scope, id);
    // Before CDK tries, and quietly falls back to Docker: a synth that bundles says what it lacks.
    if (Stack.of(this).bundlingRequired) checkBundlingHost(thisHost(PROJECT_ROOT));
    ({ logGroup: this.logGroup, role: this.role } = ownLogging(
      this,
      props.logRetention,
      `${id}: the render function's own role`,
    ));

    const files = runtimeFiles(PROJECT_ROOT);
    this.function = new NodejsFunction(this, "Function", {
      description: props.description,
      entry: join(PROJECT_ROOT, props.entry),
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.X86_64,
      memorySize: props.memorySizeMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMb),
      reservedConcurrentExecutions: props.reservedConcurrency,
      // Lambda samples and sends the traces; the role gets xray:PutTraceSegments/PutTelemetryRecords.
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        [ENV.runtimeRoot]: `${LAMBDA_TASK_ROOT}/${RUNTIME_DIR}`,
        NODE_OPTIONS: "--enable-source-maps",
        [POWERTOOLS_ENV.serviceName]: METRICS_SERVICE,
        [POWERTOOLS_ENV.metricsNamespace]: METRICS_NAMESPACE,
        ...definedValues(props.environment ?? {}),
      },
      bundling: {
        ...ESM_BUNDLING,
        // Everything bundled (ESM_BUNDLING), except Chromium, which npm installs beside the bundle.
        nodeModules: [CHROMIUM_PACKAGE],
        // `npm ci` of Chromium's package: from npm's cache when it is there (after the project's own
        // npm ci it is), no audit or funding requests, so a synth needs no network.
        environment: {
          npm_config_prefer_offline: "true",
          npm_config_audit: "false",
          npm_config_fund: "false",
          npm_config_update_notifier: "false",
        },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => [
            fenceWorkerCommand(PROJECT_ROOT, outputDir),
            ...copyCommands(files, inputDir, outputDir),
            ...chromiumPackCommands(PROJECT_ROOT, `${outputDir}/node_modules/${CHROMIUM_PACKAGE}/bin`, outputDir),
            // The lockfile was only needed to install Chromium's package at the pinned version.
            `rm -f '${outputDir}/package-lock.json'`,
          ],
        },
      },
    });
  }
}

/**
 * A function's own log group (with `retention`) and a role of its own instead of
 * AWSLambdaBasicExecutionRole: it may write that log group and nothing else until given more.
 */
export function ownLogging(
  scope: Construct,
  retention: RetentionDays,
  description: string,
): { logGroup: LogGroup; role: Role } {
  const logGroup = new LogGroup(scope, "Logs", { retention });
  const role = new Role(scope, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com"), description });
  role.addToPolicy(
    new PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [logGroup.logGroupArn] }),
  );
  return { logGroup, role };
}

/**
 * How the functions are bundled: ESM for nodejs22.x, minified with source maps, everything bundled,
 * the AWS SDK too (the version the project pins, not the runtime's), by the project's own esbuild.
 */
export const ESM_BUNDLING = {
  format: OutputFormat.ESM,
  target: "node22",
  mainFields: ["module", "main"],
  banner: REQUIRE_SHIM,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: [],
  bundleAwsSDK: true,
  forceDockerBundling: false,
};

/** The variables that have a value (an optional key left undefined sets nothing). */
export function definedValues(environment: FunctionEnvironment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
