import { Duration, Stack } from "aws-cdk-lib";
import type { Role } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { join } from "node:path";
import { ENV } from "../../functions/service/settings.ts";
import { checkBundlingHost, thisHost } from "./bundling-host.ts";
import {
  definedValues,
  ESM_BUNDLING,
  type FunctionEnvironment,
  METRICS_SERVICE,
  ownLogging,
  POWERTOOLS_ENV,
  PROJECT_ROOT,
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
    ({ logGroup: this.logGroup, role: this.role } = ownLogging(
      this,
      props.logRetention,
      `${id}: the web page's function's own role`,
    ));
    const files = pageFiles(PROJECT_ROOT);
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
        ...definedValues(props.environment ?? {}),
      },
      bundling: {
        ...ESM_BUNDLING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => copyCommands(files, inputDir, outputDir),
        },
      },
    });
  }
}
