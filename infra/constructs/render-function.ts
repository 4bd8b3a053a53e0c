import { Duration, Size } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { join } from "node:path";
import { copyCommands, LAMBDA_TASK_ROOT, RUNTIME_DIR, runtimeFiles } from "./runtime-files.ts";

/** The repository root: the entry points, package-lock.json and the runtime files are found from it. */
export const PROJECT_ROOT = join(import.meta.dirname, "..", "..");

/** Kept out of the bundle and installed into the asset: it finds its bin/*.br files beside itself. */
export const CHROMIUM_PACKAGE = "@sparticuz/chromium";

/**
 * An ESM bundle may still meet CommonJS code that calls require() for Node built-ins
 * (handlebars, ajv, …); esbuild leaves those calls to a `require` that ESM lacks.
 */
const REQUIRE_SHIM = "import { createRequire as __reportRenderRequire } from 'node:module'; const require = __reportRenderRequire(import.meta.url);";

export interface RenderFunctionProps {
  /** The handler module, relative to the project root (it exports `handler`). */
  entry: string;
  description: string;
  memorySizeMb: number;
  timeoutSeconds: number;
  ephemeralStorageMb: number;
  reservedConcurrency?: number;
  logRetention: RetentionDays;
  environment: Record<string, string>;
}

/**
 * One render function: the handler bundled with esbuild (ESM, nodejs22.x, x86_64, the AWS SDK
 * bundled at the version the project pins), @sparticuz/chromium installed beside the bundle, and
 * the runtime files in `runtime/`. Its own role may write only to its own log group; the stack
 * grants it the bucket actions it uses.
 */
export class RenderFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: RenderFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, "Logs", { retention: props.logRetention });
    // A role of its own instead of AWSLambdaBasicExecutionRole: logs only to this log group.
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `${id}: the render function's own role`,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );

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
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        REPORT_RENDER_ROOT: `${LAMBDA_TASK_ROOT}/${RUNTIME_DIR}`,
        NODE_OPTIONS: "--enable-source-maps",
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: "node22",
        mainFields: ["module", "main"],
        banner: REQUIRE_SHIM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Everything bundled, the AWS SDK too (the pinned version, not the runtime's), except Chromium.
        externalModules: [],
        bundleAwsSDK: true,
        nodeModules: [CHROMIUM_PACKAGE],
        forceDockerBundling: false,
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
            ...copyCommands(files, inputDir, outputDir),
            // The lockfile was only needed to install Chromium's package at the pinned version.
            `rm -f '${outputDir}/package-lock.json'`,
          ],
        },
      },
    });
  }
}
