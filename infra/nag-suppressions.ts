import { Stack, Validations, type CfnElement } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import type { ReportBuckets } from "./constructs/buckets.ts";
import type { CallbackSecret } from "./constructs/callbacks.ts";
import type { HttpEndpoint } from "./constructs/http-endpoint.ts";
import type { PageFunction } from "./constructs/page-function.ts";
import type { RenderFunction } from "./constructs/render-function.ts";
import { WEB_PAGE_ROUTES, type WebSignIn } from "./constructs/web-sign-in.ts";

/** The parts of the stack (report-render-stack.ts) whose findings are accepted: the stack itself. */
export interface NagSubject extends Stack {
  readonly buckets: ReportBuckets;
  readonly httpFunction: RenderFunction;
  readonly uploadFunction: RenderFunction;
  readonly pageFunction: PageFunction;
  readonly endpoint: HttpEndpoint;
  readonly callbacks: CallbackSecret;
  readonly webSignIn?: WebSignIn;
}

/**
 * The cdk-nag AwsSolutions findings this stack accepts, each on the one construct it concerns and
 * each with the reason. Everything else the pack checks must pass (test/infra/nag.test.ts).
 */
export function addNagSuppressions(stack: NagSubject): void {
  const arn = (construct: IConstruct) =>
    `<${Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement)}.Arn>`;
  const input = arn(stack.buckets.input);
  const output = arn(stack.buckets.output);
  const objectPrefixes = (construct: IConstruct, resources: string[], why: string) => {
    for (const resource of resources) {
      acknowledge(construct, `AwsSolutions-IAM5[Resource::${resource}]`, why);
    }
  };

  // The policy documents CDK attaches to each function's own role (infra/constructs/access.ts).
  objectPrefixes(
    stack.httpFunction.role,
    [`${input}/jobs/*`, `${output}/jobs/*`, `${output}/renders/*`, `${input}/templates/*`],
    "an S3 object ARN names a key prefix only with a wildcard; the HTTP function writes job requests " +
      "(jobs/<uuid>.json), job state, PDFs and published template packages (templates/<id>/…) under exactly " +
      "these prefixes, with exactly the actions it calls",
  );
  objectPrefixes(
    stack.uploadFunction.role,
    [`${input}/jobs/*`, `${input}/incoming/*`, `${input}/templates/*`],
    "an S3 object ARN names a key prefix only with a wildcard; the upload function reads (GetObject only) " +
      "the uploads and job requests under these prefixes, the only ones the queue is notified of, and the " +
      "published template packages they may name; it deletes a job request (every version) once its job has ended",
  );
  objectPrefixes(
    stack.uploadFunction.role,
    [`${output}/*`],
    "outputs are written at keys named after the uploaded file (incoming/<path>.json → <path>.pdf), so any key " +
      "of the output bucket may be one; this bucket holds nothing but the service's outputs and triggers nothing",
  );

  for (const fn of [stack.httpFunction, stack.uploadFunction]) {
    acknowledge(
      fn.role,
      "AwsSolutions-IAM5[Resource::*]",
      "active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords, which CDK grants for Tracing.ACTIVE, " +
        "name no resource (X-Ray has no resource-level permissions for them); the role's other statements are narrow",
    );
    acknowledge(
      fn.function,
      "AwsSolutions-L1",
      "nodejs22.x is the runtime chosen for @sparticuz/chromium (whose Amazon Linux 2023 libraries it inflates) " +
        "and the one the project tests against; moving to a newer runtime is a deliberate, tested change",
    );
  }

  acknowledge(
    stack.pageFunction.function,
    "AwsSolutions-L1",
    "the page function uses the same pinned runtime as the render functions (nodejs22.x), so that the one " +
      "runtime the project tests against serves every route",
  );

  acknowledge(
    stack.callbacks.secret,
    "AwsSolutions-SMG4",
    "every owner's callback key is derived from this secret, and the receivers of callbacks hold theirs: rotating " +
      "it automatically would change every key and fail every receiver's check until each read its key again; it is " +
      "replaced by hand, with the receivers told",
  );

  // CDK's singleton that configures the input bucket's notifications during deployment.
  const notifications = stack.node.tryFindChild("BucketNotificationsHandler050a0587b7544547bf325f094a3db834");
  if (notifications) {
    acknowledge(
      notifications,
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      "CDK's own custom resource that sets the S3 → SQS notification at deploy time; the managed policy lets it " +
        "write its logs and nothing else, and the role is not reachable from the service",
    );
  }

  const preflight = stack.endpoint.preflight;
  if (preflight) {
    const route = stack.endpoint.api.node.tryFindChild("OPTIONS--{proxy+}");
    if (route) {
      acknowledge(
        route,
        "AwsSolutions-APIG4",
        "CORS preflight only (OPTIONS, which browsers send without credentials): AWS's documented remedy for an " +
          "authorizer on $default; it reaches a function that answers 204 with no body and touches nothing, every " +
          "other method and path still needs IAM or JWT auth",
      );
    }
    acknowledge(
      preflight.function,
      "AwsSolutions-L1",
      "the preflight function uses the same pinned runtime as the render functions (nodejs22.x); its inline code " +
        "returns a constant and has no dependencies",
    );
  }

  const web = stack.webSignIn;
  if (web) {
    for (const route of WEB_PAGE_ROUTES) {
      const child = stack.endpoint.api.node.tryFindChild(route.replace(" ", "").replaceAll("/", "--"));
      if (!child) continue;
      acknowledge(
        child,
        "AwsSolutions-APIG4",
        `${route} is the web page, its static assets or its sign-in settings, which a browser loads before its user ` +
          "can sign in; they serve only fixed files and public settings (GET only, throttled with the stage), and " +
          "every other method and path still needs a token",
      );
    }
  }
  const pool = web?.userPool;
  if (pool) {
    acknowledge(
      pool,
      "AwsSolutions-COG2",
      "MFA is optional by design: every user is created by an administrator (no self sign-up) with a strong " +
        "password, and may turn on TOTP; agencies that want it required change the pool's MFA setting",
    );
    acknowledge(
      pool,
      "AwsSolutions-COG8",
      "the Essentials feature plan: the pool signs in a few administrator-created staff; threat protection (Plus) " +
        "is charged per monthly active user and can be switched on in the pool without redeploying the service",
    );
  }

  // The API policies (IAM auth): execute-api ARNs of this one API, by stage, method and path.
  const api = Stack.of(stack).getLogicalId(stack.endpoint.api.node.defaultChild as CfnElement);
  const invokeArn = (rest: string) =>
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/${rest}]`;
  const invoke = stack.endpoint.invokePolicy;
  if (invoke) {
    for (const method of ["GET", "HEAD", "POST", "OPTIONS"]) {
      acknowledge(
        invoke,
        invokeArn(`*/${method}/*`),
        "the policy is for the clients of this one API: every stage and path of it by this method (the $default " +
          "route's function routes the paths), nothing of any other API",
      );
    }
  }
  const publish = stack.endpoint.publishPolicy;
  if (publish) {
    for (const method of ["PUT", "DELETE"]) {
      acknowledge(
        publish,
        invokeArn(`*/${method}/v1/templates/*`),
        "publishing any template package of this one API, in every stage: the ids are the publishers' to choose",
      );
    }
  }
  // In both auth modes: the administrators' route is always IAM-authorized.
  acknowledge(
    stack.endpoint.adminPolicy,
    invokeArn("*/PUT/v1/admin/*"),
    "administering any template package of this one API, in every stage (an ARN names the ids only with a " +
      "wildcard); the administrators' route is PUT /v1/admin/templates/{id}/owner, which no other policy reaches",
  );
}

function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}
