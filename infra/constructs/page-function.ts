import { Duration, Stack } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { join } from "node:path";
import { ENV } from "../../functions/service/settings.ts";
import { checkBundlingHost, thisHost } from "./bundling-host.ts";
import {
  type FunctionEnvironment,
  METRICS_SERVICE,
  POWERTOOLS_ENV,
  PROJECT_ROOT,
  REQUIRE_SHIM,
} from "./render-function.ts";
import { copyCommands, LAMBDA_TASK_ROOT, pageFiles, RUNTIME_DIR } from "./runtime-files.ts";

/** The properties of {@link PageFunction}. */
export interface PageFunctionProps {
  /**
   * How long the function's log group keeps its entries.
   *
   * Required.
   */
  readonly logRetention: RetentionDays;
  /**
   * Its settings: the sign-in's (`WEB_SIGN_IN_*`, for web-config.json) and the log level.
   *
   * @default {} - a page that signs nobody in
   */
  readonly environment?: FunctionEnvironment;
}

/** Memory of the page function, MB: it reads a few files once and answers them from memory. */
const PAGE_MEMORY_MB = 256;

/**
 * The web page's own function (functions/http/page-lambda.ts): the page, its scripts, fonts and
 * pdf.js, and web-config.json. No Chromium and no service: a GET of the page, anonymous where the
 * page signs people in, never starts the 2 GB function that renders. Its role may write its log
 * group and nothing else.
 */
export class PageFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: PageFunctionProps) {
    super(scope, id);
    if (Stack.of(this).bundlingRequired) checkBundlingHost(thisHost(PROJECT_ROOT));
    this.logGroup = new LogGroup(this, "Logs", { retention: props.logRetention });
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `${id}: the web page's function's own role`,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    const files = pageFiles(PROJECT_ROOT);
    const environment = Object.fromEntries(
      Object.entries(props.environment ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    this.function = new NodejsFunction(this, "Function", {
      description: "report-render: the web page (no Chromium)",
      entry: join(PROJECT_ROOT, "functions/http/page-lambda.ts"),
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.X86_64,
      memorySize: PAGE_MEMORY_MB,
      timeout: Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        [ENV.runtimeRoot]: `${LAMBDA_TASK_ROOT}/${RUNTIME_DIR}`,
        NODE_OPTIONS: "--enable-source-maps",
        [POWERTOOLS_ENV.serviceName]: METRICS_SERVICE,
        ...environment,
      },
      bundling: {
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
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => copyCommands(files, inputDir, outputDir),
        },
      },
    });
  }
}
