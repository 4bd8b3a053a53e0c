import { Duration } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

/**
 * The whole preflight answer: 204 and no body. API Gateway adds the CORS headers of the API's CORS
 * configuration (only for its allowed origins) and ignores any the integration sends.
 */
export const PREFLIGHT_HANDLER = `exports.handler = async () => ({ statusCode: 204 });`;

/** The properties of {@link CorsPreflight}. */
export interface CorsPreflightProps {
  /**
   * How long the function's own log group keeps its logs.
   *
   * Required.
   */
  readonly logRetention: RetentionDays;
}

/**
 * A tiny function that answers CORS preflight requests. With an authorizer on the `$default` route,
 * API Gateway sends OPTIONS requests to that route too, where they fail authorization (browsers
 * never send credentials on a preflight). AWS's remedy is an `OPTIONS /{proxy+}` route without
 * authorization and with an integration: this is that integration. It reads and returns nothing.
 */
export class CorsPreflight extends Construct {
  /** The function (inline code, 128 MB, 3 s), with its own role and log group. */
  readonly function: LambdaFunction;

  constructor(scope: Construct, id: string, props: CorsPreflightProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, "Logs", { retention: props.logRetention });
    const role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: "report-render: the CORS preflight function's own role",
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new LambdaFunction(this, "Function", {
      description: "report-render: answers CORS preflight requests (204, no body)",
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.X86_64,
      handler: "index.handler",
      code: Code.fromInline(PREFLIGHT_HANDLER),
      memorySize: 128,
      timeout: Duration.seconds(3),
      role,
      logGroup,
    });
  }
}
