import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULTS, ENV, loadConfig } from "../../functions/service/settings.ts";
import { PREFLIGHT_HANDLER } from "../../infra/constructs/cors-preflight.ts";
import { batchLineQueueName } from "../../infra/constructs/upload-pipeline.ts";
import type { FunctionEnvironment } from "../../infra/constructs/render-function.ts";
import { type BundlingHost, checkBundlingHost } from "../../infra/constructs/bundling-host.ts";
import { ReportRenderStack, COST_TAGS } from "../../infra/report-render-stack.ts";
import {
  cfnText,
  removeAssemblies,
  resourceAt,
  resourcesOf,
  stackIds,
  synthesize,
  testApp,
  type Synthesized,
} from "../helpers/synth.ts";

/**
 * The stack's resources, as CloudFormation will create them: buckets, functions, endpoint, upload
 * path, alarms, permissions and outputs. Synthesized without bundling (artifact.test.ts bundles).
 */

let base: Synthesized;
let ids: ReturnType<typeof stackIds>;

beforeAll(() => {
  base = synthesize();
  ids = stackIds(base.template);
}, 120_000);
afterAll(removeAssemblies);

interface Grant {
  actions: string[];
  resources: string[];
}

/** The statements of a function role's policy, as sorted actions and resources. */
function grantsOf(path: string): Grant[] {
  const [, policy] = resourceAt(base.template, "AWS::IAM::Policy", path);
  const statements = (policy.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
  return statements.map((s) => {
    expect(s.Effect).toBe("Allow");
    const list = (x: unknown) => (Array.isArray(x) ? x : [x]);
    return { actions: list(s.Action).map(String).sort(), resources: list(s.Resource).map(cfnText).sort() };
  });
}

describe("buckets", () => {
  it("input and output (and the access-log bucket) are private, encrypted, TLS-only and keep their data", () => {
    const t = base.template;
    t.resourceCountIs("AWS::S3::Bucket", 3);
    for (const id of [ids.input, ids.output, ids.accessLogs]) {
      const bucket = t.toJSON().Resources[id];
      expect(bucket.DeletionPolicy).toBe("Retain");
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] });
      // enforceSSL: a bucket policy denies every request without TLS (and below TLS 1.2).
      t.hasResourceProperties("AWS::S3::BucketPolicy", {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: "Deny",
              Action: "s3:*",
              Principal: { AWS: "*" },
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            }),
            Match.objectLike({
              Effect: "Deny",
              Action: "s3:*",
              Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } },
            }),
          ]),
        },
      });
    }
  });

  it("the input bucket is versioned; both log their requests to the access-log bucket", () => {
    const t = base.template;
    t.hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      LoggingConfiguration: { DestinationBucketName: { Ref: ids.accessLogs }, LogFilePrefix: "input/" },
    });
    const output = t.toJSON().Resources[ids.output].Properties;
    expect(output.VersioningConfiguration).toBeUndefined();
    expect(output.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: ids.accessLogs },
      LogFilePrefix: "output/",
    });
    // The S3 logging service may write the logs, to this bucket only, from these two buckets only.
    t.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: ids.accessLogs },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: "s3:PutObject", Principal: { Service: "logging.s3.amazonaws.com" } }),
        ]),
      },
    });
  });

  it("outputs and uploads expire after 30 days by default; the settings change or remove the expiry", () => {
    const expiryOf = (s: Synthesized) => {
      const [, output] = resourceAt(s.template, "AWS::S3::Bucket", "/Buckets/Output/");
      const rules = (output.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      return rules.find((r) => r.Id === "expire-outputs")?.ExpirationInDays;
    };
    expect(expiryOf(base)).toBe(30);
    expect(expiryOf(synthesize({ outputExpirationDays: "7" }))).toBe(7);
    expect(expiryOf(synthesize({ outputExpirationDays: 0 }))).toBeUndefined();

    const [, input] = resourceAt(base.template, "AWS::S3::Bucket", "/Buckets/Input/");
    expect((input.LifecycleConfiguration as { Rules: unknown[] }).Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Id: "expire-old-versions",
          NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          Status: "Enabled",
        }),
        expect.objectContaining({ Id: "expire-job-requests", Prefix: "jobs/", ExpirationInDays: 30 }),
        expect.objectContaining({ Id: "expire-uploads", Prefix: "incoming/", ExpirationInDays: 30 }),
      ]),
    );
    const uploadsExpiry = (s: Synthesized) => {
      const [, bucket] = resourceAt(s.template, "AWS::S3::Bucket", "/Buckets/Input/");
      const rules = (bucket.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
      return rules.find((r) => r.Id === "expire-uploads")?.ExpirationInDays;
    };
    expect(uploadsExpiry(synthesize({ uploadExpirationDays: "90" }))).toBe(90);
    expect(uploadsExpiry(synthesize({ uploadExpirationDays: 0 }))).toBeUndefined();
  });

  it("CORS on presigned downloads only for configured origins", () => {
    expect(base.template.toJSON().Resources[ids.output].Properties.CorsConfiguration).toBeUndefined();
    const withCors = synthesize({ corsAllowedOrigins: "https://portal.example.org" });
    const [, output] = resourceAt(withCors.template, "AWS::S3::Bucket", "/Buckets/Output/");
    expect(output.CorsConfiguration).toEqual({
      CorsRules: [
        expect.objectContaining({ AllowedOrigins: ["https://portal.example.org"], AllowedMethods: ["GET", "HEAD"] }),
      ],
    });
  });
});

describe("render functions", () => {
  it("two NodejsFunctions on nodejs22.x, x86_64, with the default memory, timeouts, /tmp and no reserved concurrency", () => {
    const t = base.template;
    // The third is the web page's (test below).
    t.resourcePropertiesCountIs("AWS::Lambda::Function", { Runtime: "nodejs22.x" }, 3);
    for (const [id, timeout] of [
      [ids.http, 30],
      [ids.upload, 180],
    ] as const) {
      const fn = t.toJSON().Resources[id].Properties;
      expect(fn).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["x86_64"],
        Handler: "index.handler",
        MemorySize: 2048,
        Timeout: timeout,
        EphemeralStorage: { Size: 1024 },
      });
      expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it("the environment of functions/service/settings.ts, and its runtime root where the bundle put the runtime files", () => {
    const env = (id: string) => base.template.toJSON().Resources[id].Properties.Environment.Variables;
    const common = {
      [ENV.inputBucket]: { Ref: ids.input },
      [ENV.outputBucket]: { Ref: ids.output },
      [ENV.maxReceiveCount]: "3",
      [ENV.renderTimeoutMs]: "50000",
      [ENV.logLevel]: "info",
      [ENV.runtimeRoot]: "/var/task/runtime",
      NODE_OPTIONS: "--enable-source-maps",
      POWERTOOLS_SERVICE_NAME: "report-render",
      POWERTOOLS_METRICS_NAMESPACE: "ReportRender",
      CALLBACK_SECRET_ARN: { Ref: resourceAt(base.template, "AWS::SecretsManager::Secret", "/Callbacks/")[0] },
    };
    expect(env(ids.http)).toEqual({ ...common, [ENV.syncRenderTimeoutMs]: "28000" });
    // Only the upload function splits batches: it is told the line queue's name.
    expect(env(ids.upload)).toEqual({ ...common, [ENV.batchLineQueueName]: "ReportRender-batch-lines" });
  });

  it("memory, timeouts, /tmp and reserved concurrency are settings (context strings or numbers)", () => {
    const s = synthesize({
      memorySizeMb: "3008",
      httpTimeoutSeconds: 20,
      uploadTimeoutSeconds: "300",
      ephemeralStorageMb: 2048,
      httpReservedConcurrency: "25",
      uploadReservedConcurrency: 40,
      uploadMaxConcurrency: 20,
      batchLineMaxConcurrency: "20",
    });
    const [, http] = resourceAt(s.template, "AWS::Lambda::Function", "/HttpFunction/");
    const [, upload] = resourceAt(s.template, "AWS::Lambda::Function", "/UploadFunction/");
    expect(http).toMatchObject({
      MemorySize: 3008,
      Timeout: 20,
      EphemeralStorage: { Size: 2048 },
      ReservedConcurrentExecutions: 25,
    });
    expect(upload).toMatchObject({
      MemorySize: 3008,
      Timeout: 300,
      EphemeralStorage: { Size: 2048 },
      ReservedConcurrentExecutions: 40,
    });
    // The synchronous render limit follows the HTTP timeout; the queue's visibility the upload timeout.
    expect((http.Environment as { Variables: Record<string, string> }).Variables[ENV.syncRenderTimeoutMs]).toBe(
      "18000",
    );
    const visibility = Object.values(resourcesOf(s.template, "AWS::SQS::Queue")).map((q) => q.VisibilityTimeout);
    expect(visibility.filter((v) => v === 1800)).toHaveLength(2); // the upload queue and the line queue: 6 × 300 s
    const scaling = Object.values(resourcesOf(s.template, "AWS::Lambda::EventSourceMapping")).map(
      (m) => m.ScalingConfig,
    );
    expect(scaling).toEqual([{ MaximumConcurrency: 20 }, { MaximumConcurrency: 20 }]);
    expect(() => synthesize({ uploadReservedConcurrency: 40 })).toThrow(/batchLineMaxConcurrency must not exceed/);
  });

  it("the same settings as typed stack props, which win over context", () => {
    const app = testApp({ memorySizeMb: "3008", uploadTimeoutSeconds: "600" });
    const stack = new ReportRenderStack(app, "Props", {
      settings: { memorySizeMb: 4096, httpReservedConcurrency: 30 },
    });
    const t = Template.fromStack(stack);
    const [, http] = resourceAt(t, "AWS::Lambda::Function", "/HttpFunction/");
    const [, upload] = resourceAt(t, "AWS::Lambda::Function", "/UploadFunction/");
    expect(http).toMatchObject({ MemorySize: 4096, ReservedConcurrentExecutions: 30 });
    expect(upload).toMatchObject({ MemorySize: 4096, Timeout: 600 });
    expect(() => new ReportRenderStack(testApp(), "Bad", { settings: { memorySizeMb: 100 } })).toThrow(/memorySizeMb/);
  });

  it("log groups with retention, and each function logs to its own, CDK's own handler too", () => {
    const t = base.template;
    const groups = resourcesOf(t, "AWS::Logs::LogGroup");
    // Three functions, the API's access log, the handler that configures the bucket's notifications.
    expect(Object.keys(groups)).toHaveLength(5);
    for (const group of Object.values(groups)) expect(group.RetentionInDays).toBe(30);
    // No function left to make a log group of its own on first use (kept for ever).
    for (const s of [base, synthesize({ webSignIn: "true", corsAllowedOrigins: "https://a.example.org" })]) {
      const fns = Object.values(resourcesOf(s.template, "AWS::Lambda::Function"));
      const logGroups = new Set(Object.keys(resourcesOf(s.template, "AWS::Logs::LogGroup")));
      expect(fns.length).toBeGreaterThanOrEqual(3);
      for (const fn of fns) {
        const group = (fn.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
        expect(group !== undefined && logGroups.has(group)).toBe(true);
      }
    }
    for (const [id, name] of [
      [ids.http, "HttpFunction"],
      [ids.upload, "UploadFunction"],
    ] as const) {
      const [logs] = resourceAt(t, "AWS::Logs::LogGroup", `/${name}/Logs/`);
      expect(t.toJSON().Resources[id].Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logs } });
    }
    const s = synthesize({ logRetentionDays: "90" });
    for (const group of Object.values(resourcesOf(s.template, "AWS::Logs::LogGroup")))
      expect(group.RetentionInDays).toBe(90);
  });
});

/**
 * Variables a function's environment may hold that are not the service's settings: Node's own, and
 * those Lambda reserves (it refuses them in a function's configuration, but none may slip through).
 */
const NOT_SETTINGS = new Set([
  "NODE_OPTIONS",
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
  "TZ",
]);
const isReserved = (name: string) => NOT_SETTINGS.has(name) || name.startsWith("AWS_");

/** Every function of a template with an environment: construct path → its variables. */
function environments(s: Synthesized): Record<string, Record<string, unknown>> {
  const resources = s.template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }
  >;
  return Object.fromEntries(
    Object.entries(resources)
      .filter(([, r]) => r.Type === "AWS::Lambda::Function" && r.Properties.Environment)
      .map(([id, r]) => [
        r.Metadata?.["aws:cdk:path"] ?? id,
        (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
      ]),
  );
}

describe("environment variable names: the stack and the functions share functions/service/settings.ts ENV", () => {
  const names: ReadonlySet<string> = new Set(Object.values(ENV));

  it("ENV names each setting by a distinct variable", () => {
    expect(names.size).toBe(Object.keys(ENV).length);
  });

  it("every variable the stack sets on a function is one the functions read (a name of ENV), in every configuration", () => {
    const configurations = [
      base,
      synthesize({
        corsAllowedOrigins: "https://portal.example.org",
        jwtIssuer: "https://login.example.org/realms/portal",
        jwtAudience: "portal-web",
        httpTimeoutSeconds: 20,
        uploadTimeoutSeconds: 300,
        maxReceiveCount: 5,
        logLevel: "debug",
        alarmEmail: "ops@example.org",
      }),
    ];
    for (const s of configurations) {
      const byPath = environments(s);
      // Both render functions have an environment (the CORS preflight function has none).
      expect(Object.keys(byPath).filter((p) => /\/(Http|Upload)Function\//.test(p))).toHaveLength(2);
      for (const [path, variables] of Object.entries(byPath)) {
        const unknown = Object.keys(variables).filter((name) => !names.has(name) && !isReserved(name));
        expect(unknown, `${path}: variables functions/service/settings.ts ENV does not name`).toEqual([]);
        // No setting hides behind a reserved name: the only non-ENV variable is Node's own.
        expect(
          Object.keys(variables).filter((name) => !names.has(name)),
          path,
        ).toEqual(["NODE_OPTIONS"]);
      }
    }
  });

  it("the functions read what the stack sets: loadConfig of each environment gives the stack's buckets and limits", () => {
    const [secret] = resourceAt(base.template, "AWS::SecretsManager::Secret", "/Callbacks/");
    const buckets: Record<string, string> = {
      [ids.input]: "the-input-bucket",
      [ids.output]: "the-output-bucket",
      [secret]: "arn:aws:secretsmanager:us-east-1:123456789012:secret:CallbacksSecret-AbCdEf",
    };
    const resolve = (variables: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [
          k,
          typeof v === "string" ? v : (buckets[(v as { Ref: string }).Ref] ?? "?"),
        ]),
      );
    const variablesOf = (id: string) =>
      base.template.toJSON().Resources[id].Properties.Environment.Variables as Record<string, unknown>;
    const expected = {
      inputBucket: "the-input-bucket",
      outputBucket: "the-output-bucket",
      // The stack's limits are the functions' own defaults, from the one source (DEFAULTS).
      maxReceiveCount: DEFAULTS.maxReceiveCount,
      renderTimeoutMs: DEFAULTS.renderTimeoutMs,
      syncRenderTimeoutMs: DEFAULTS.syncRenderTimeoutMs,
      logLevel: "info",
    };
    expect(loadConfig(resolve(variablesOf(ids.http)))).toMatchObject(expected);
    expect(loadConfig(resolve(variablesOf(ids.upload)))).toMatchObject(expected);
    expect(variablesOf(ids.http)[ENV.runtimeRoot]).toBe("/var/task/runtime");
  });

  it("a render function's environment type admits only the names of ENV", () => {
    const ok: FunctionEnvironment = { [ENV.logLevel]: "debug" };
    // @ts-expect-error: LOG_LEVELS is not a name of functions/service/settings.ts ENV (`npx tsc` fails if it were accepted)
    const misspelt: FunctionEnvironment = { LOG_LEVELS: "debug" };
    expect([ok, misspelt]).toHaveLength(2);
  });
});

/** Whether an IAM resource pattern matches `resource`: `*` is any characters, "/" included. */
function iamMatches(pattern: string, resource: string): boolean {
  const literal = (part: string) => part.replace(/[.+?^$(){}|[\]\\]/g, "\\$&");
  return new RegExp(`^${pattern.split("*").map(literal).join(".*")}$`).test(resource);
}

describe("endpoint", () => {
  it("the web page's routes go to a function of its own: 256 MB, no Chromium, logs only, throttled apart", () => {
    for (const s of [base, synthesize({ webSignIn: "true" })]) {
      const t = s.template;
      const [pageFn, props] = resourceAt(t, "AWS::Lambda::Function", "/PageFunction/");
      expect(props).toMatchObject({ MemorySize: 256, Timeout: 10, Runtime: "nodejs22.x" });
      expect(props.Layers).toBeUndefined();
      const integrations = resourcesOf(t, "AWS::ApiGatewayV2::Integration");
      const routes = Object.values(resourcesOf(t, "AWS::ApiGatewayV2::Route"));
      for (const key of ["GET /", "GET /assets/{proxy+}"]) {
        const route = routes.find((r) => r.RouteKey === key);
        const target = JSON.stringify(route?.Target);
        const integrationId = Object.keys(integrations).find((id) => target.includes(id));
        expect(JSON.stringify(integrations[integrationId ?? ""]?.IntegrationUri), key).toContain(pageFn);
      }
      // Its role writes its log group; nothing else (no bucket, no secret, no key).
      const [role] = resourceAt(t, "AWS::IAM::Role", "/PageFunction/Role/");
      const policies = Object.values(resourcesOf(t, "AWS::IAM::Policy")).filter((p) =>
        (p.Roles as { Ref: string }[]).some((r) => r.Ref === role),
      );
      const actions = policies.flatMap((p) =>
        (p.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap((st) => st.Action),
      );
      expect(actions.sort()).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
      const [, stage] = resourceAt(t, "AWS::ApiGatewayV2::Stage", "/Endpoint/Api/DefaultStage/");
      expect(stage.RouteSettings).toEqual({
        "GET /": { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 },
        "GET /assets/{proxy+}": { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 },
      });
    }
  });

  it("an HTTP API whose routes ($default, publishing, handing over → the HTTP function, payload 2.0) require IAM auth", () => {
    const t = base.template;
    t.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    t.hasResourceProperties("AWS::ApiGatewayV2::Api", { ProtocolType: "HTTP", CorsConfiguration: Match.absent() });
    const routes = Object.values(resourcesOf(t, "AWS::ApiGatewayV2::Route"));
    expect(routes.map((r) => [r.RouteKey, r.AuthorizationType]).sort()).toEqual([
      ["$default", "AWS_IAM"],
      ["DELETE /v1/templates/{id}", "AWS_IAM"],
      ["GET /", "AWS_IAM"],
      ["GET /assets/{proxy+}", "AWS_IAM"],
      ["PUT /v1/admin/templates/{id}/owner", "AWS_IAM"],
      ["PUT /v1/templates/{id}", "AWS_IAM"],
    ]);
    t.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 0);
    t.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
      PayloadFormatVersion: "2.0",
      IntegrationUri: { "Fn::GetAtt": [ids.http, "Arn"] },
    });
    t.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunction",
      FunctionName: { "Fn::GetAtt": [ids.http, "Arn"] },
      Principal: "apigateway.amazonaws.com",
    });
    // Three managed policies: calling this API but publishing, publishing, administering (nothing of any other API).
    const policies = Object.entries(resourcesOf(t, "AWS::IAM::ManagedPolicy"));
    expect(policies).toHaveLength(3);
    const resourcesOfPolicy = (path: string) => {
      const [, policy] = policies.find(([id]) => id.startsWith(path)) ?? [];
      expect(policy, path).toBeDefined();
      const document = policy?.PolicyDocument as { Statement: { Action: string; Resource: unknown[] }[] };
      const statement = document.Statement[0];
      expect(statement?.Action).toBe("execute-api:Invoke");
      return JSON.stringify(statement?.Resource);
    };
    const invoke = resourcesOfPolicy("EndpointInvokePolicy");
    for (const method of ["GET", "HEAD", "POST", "OPTIONS"]) expect(invoke).toContain(`/*/${method}/*`);
    expect(invoke).not.toMatch(/PUT|DELETE/);
    // The $default route exactly: no pattern of the callers' policy reaches a publishing request,
    // not even for a template named $default.
    const invokePatterns = (JSON.parse(invoke) as unknown[]).map((r) => cfnText(r).replace(/^.*<\w+>\//, ""));
    expect(invokePatterns).toContain("$default/$default");
    for (const request of ["$default/PUT/v1/templates/$default", "$default/DELETE/v1/templates/x/$default"]) {
      expect(
        invokePatterns.some((p) => iamMatches(p, request)),
        request,
      ).toBe(false);
    }
    expect(invokePatterns.some((p) => iamMatches(p, "$default/POST/v1/render"))).toBe(true);
    const publish = resourcesOfPolicy("EndpointPublishPolicy");
    expect(publish).toContain("/*/PUT/v1/templates/*");
    expect(publish).toContain("/*/DELETE/v1/templates/*");
    expect(publish).not.toMatch(/GET|POST/);
    // Handing a template to another owner: the administrators' route only, which neither policy above
    // reaches (an IAM wildcard spans "/": that is why it is not under /v1/templates/).
    const admin = resourcesOfPolicy("EndpointAdminPolicy");
    const adminResources = [JSON.parse(admin) as unknown].flat();
    expect(adminResources).toHaveLength(1);
    expect(admin).toContain("/*/PUT/v1/admin/*");
    expect(invoke).not.toContain("admin");
    expect(publish).not.toContain("admin");
    // As IAM matches them: the publishers' patterns reach publishing, never the administrators' path.
    const patterns = (JSON.parse(publish) as unknown[]).map((r) => cfnText(r).replace(/^.*<\w+>\//, ""));
    expect(patterns.some((p) => iamMatches(p, "$default/PUT/v1/templates/payment-notice"))).toBe(true);
    expect(patterns.some((p) => iamMatches(p, "$default/PUT/v1/admin/templates/payment-notice/owner"))).toBe(false);
    const adminPattern = cfnText(adminResources[0]).replace(/^.*<\w+>\//, "");
    expect(iamMatches(adminPattern, "$default/PUT/v1/admin/templates/payment-notice/owner")).toBe(true);
    expect(iamMatches(adminPattern, "$default/PUT/v1/templates/payment-notice")).toBe(false);
  });

  it("the preflight function answers 204 and nothing else", async () => {
    const module = { exports: {} as { handler?: () => Promise<unknown> } };
    new Function("exports", "module", PREFLIGHT_HANDLER)(module.exports, module);
    expect(await module.exports.handler?.()).toEqual({ statusCode: 204 });
  });

  it("the $default stage is throttled and writes an access log", () => {
    const t = base.template;
    const [logs] = resourceAt(t, "AWS::Logs::LogGroup", "/Endpoint/AccessLogs/");
    t.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      AccessLogSettings: {
        DestinationArn: { "Fn::GetAtt": [logs, "Arn"] },
        Format: Match.stringLikeRegexp("requestId"),
      },
    });
    // Who signed, on IAM routes: which operator handed a template over (the function logs only hashed owner ids).
    const [, stage] = resourceAt(t, "AWS::ApiGatewayV2::Stage", "/Endpoint/");
    const { Format } = stage.AccessLogSettings as { Format: string };
    expect(JSON.parse(Format)).toMatchObject({
      caller: "$context.identity.caller",
      userArn: "$context.identity.userArn",
    });
    const s = synthesize({ throttlingRateLimit: "50", throttlingBurstLimit: "100" });
    s.template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it("a JWT authorizer for portals (issuer and audience), CORS only for the configured origins", () => {
    const s = synthesize({
      jwtIssuer: "https://login.example.org/realms/portal",
      jwtAudience: "portal-web,portal-app",
      corsAllowedOrigins: ["https://portal.example.org", "https://www.example.org"],
    });
    const t = s.template;
    t.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: { Issuer: "https://login.example.org/realms/portal", Audience: ["portal-web", "portal-app"] },
    });
    // $default needs the JWT; only the CORS preflight (OPTIONS) is let through, to a function that answers
    // 204. Handing a template over takes IAM credentials (operators'), whatever the other routes take.
    const routes = Object.values(resourcesOf(t, "AWS::ApiGatewayV2::Route"));
    expect(routes.map((r) => [r.RouteKey, r.AuthorizationType]).sort()).toEqual([
      ["$default", "JWT"],
      ["DELETE /v1/templates/{id}", "JWT"],
      ["GET /", "JWT"],
      ["GET /assets/{proxy+}", "JWT"],
      ["OPTIONS /{proxy+}", "NONE"],
      ["PUT /v1/admin/templates/{id}/owner", "AWS_IAM"],
      ["PUT /v1/templates/{id}", "JWT"],
    ]);
    // Publishing takes the publish scope besides the JWT; the JWT authorizer guards nothing else.
    const [jwtAuthorizer] = resourceAt(t, "AWS::ApiGatewayV2::Authorizer", "/Endpoint/");
    for (const r of routes.filter((r) => String(r.RouteKey).includes("/v1/templates/"))) {
      expect(r.AuthorizationScopes).toEqual(["report-render/templates.publish"]);
    }
    const admin = routes.find((r) => r.RouteKey === "PUT /v1/admin/templates/{id}/owner");
    expect(admin?.AuthorizationScopes).toBeUndefined();
    expect(admin?.AuthorizerId).toBeUndefined();
    // $default, publishing, withdrawing and the page's two routes (not public without webSignIn).
    expect(routes.filter((r) => r.AuthorizationType === "JWT").map((r) => r.AuthorizerId)).toEqual(
      Array.from({ length: 5 }, () => ({ Ref: jwtAuthorizer })),
    );
    expect(routes.find((r) => r.RouteKey === "$default")?.AuthorizationScopes).toBeUndefined();
    const [preflight, preflightFn] = resourceAt(t, "AWS::Lambda::Function", "/Endpoint/Preflight/");
    expect(preflightFn).toMatchObject({ Runtime: "nodejs22.x", MemorySize: 128, Code: { ZipFile: PREFLIGHT_HANDLER } });
    t.hasResourceProperties("AWS::ApiGatewayV2::Integration", { IntegrationUri: { "Fn::GetAtt": [preflight, "Arn"] } });
    const [, preflightPolicy] = resourceAt(t, "AWS::IAM::Policy", "/Endpoint/Preflight/Role/");
    expect(
      (preflightPolicy.PolicyDocument as { Statement: { Action: string[] }[] }).Statement.map((st) => st.Action),
    ).toEqual([["logs:CreateLogStream", "logs:PutLogEvents"]]);
    t.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ["https://portal.example.org", "https://www.example.org"],
        AllowMethods: ["GET", "POST", "HEAD", "PUT", "DELETE"],
      }),
    });
    // One IAM policy, the administrators' (the scopes stand in for the others), and its output.
    const [adminPolicy, adminProps] = resourceAt(t, "AWS::IAM::ManagedPolicy", "/Endpoint/AdminPolicy/");
    t.resourceCountIs("AWS::IAM::ManagedPolicy", 1);
    const [statement, ...more] = (adminProps.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(more).toEqual([]);
    expect(statement).toMatchObject({ Effect: "Allow", Action: "execute-api:Invoke" });
    const [api] = resourceAt(t, "AWS::ApiGatewayV2::Api", "/Endpoint/");
    expect(cfnText(statement?.Resource)).toBe(
      `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/*/PUT/v1/admin/*`,
    );
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.AuthorizationType?.Value).toBe("JWT");
    expect(Object.keys(outputs).filter((k) => k.endsWith("PolicyArn"))).toEqual(["AdministerTemplatesPolicyArn"]);
    expect(outputs.AdministerTemplatesPolicyArn?.Value).toEqual({ Ref: adminPolicy });
  });
});

describe("upload path", () => {
  it("S3 ObjectCreated for incoming/*.json, incoming/*.jsonl and jobs/*.json of the input bucket → the queue", () => {
    const t = base.template;
    const queueArn = { "Fn::GetAtt": [ids.queue, "Arn"] };
    const rule = (prefix: string, suffix: string) => ({
      Events: ["s3:ObjectCreated:*"],
      Filter: {
        Key: {
          FilterRules: Match.arrayEquals([
            { Name: "suffix", Value: suffix },
            { Name: "prefix", Value: prefix },
          ]),
        },
      },
      QueueArn: queueArn,
    });
    t.resourceCountIs("Custom::S3BucketNotifications", 1);
    t.hasResourceProperties("Custom::S3BucketNotifications", {
      BucketName: { Ref: ids.input },
      NotificationConfiguration: {
        QueueConfigurations: Match.arrayEquals([
          rule("incoming/", ".json"),
          rule("incoming/", ".jsonl"),
          rule("jobs/", ".json"),
        ]),
      },
    });
    // S3 may send to the queue, for the input bucket only.
    t.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: ids.queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "s3.amazonaws.com" },
            Action: Match.arrayWith(["sqs:SendMessage"]),
            Condition: { ArnLike: { "aws:SourceArn": { "Fn::GetAtt": [ids.input, "Arn"] } } },
          }),
        ]),
      },
    });
  });

  it("the queue: encrypted, TLS-only, visibility six times the function timeout (AWS's advice), dead letters after 3 receives", () => {
    const t = base.template;
    const queues = resourcesOf(t, "AWS::SQS::Queue");
    const queue = queues[ids.queue] as Record<string, unknown>;
    const dlq = queues[ids.dlq] as Record<string, unknown>;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [ids.dlq, "Arn"] }, maxReceiveCount: 3 },
    });
    const uploadTimeout = t.toJSON().Resources[ids.upload].Properties.Timeout as number;
    expect(queue.VisibilityTimeout).toBe(6 * uploadTimeout);
    expect(dlq).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    for (const id of [ids.queue, ids.dlq]) {
      t.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      });
    }
  });

  it("the upload function reads the queue one message at a time and reports partial batch failures", () => {
    const t = base.template;
    t.resourceCountIs("AWS::Lambda::EventSourceMapping", 2);
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [ids.queue, "Arn"] },
      FunctionName: { Ref: ids.upload },
      BatchSize: 1,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it("the line queue: named after the stack, encrypted, TLS-only, visibility six times the function timeout, its own dead letters", () => {
    const t = base.template;
    const queues = resourcesOf(t, "AWS::SQS::Queue");
    t.resourceCountIs("AWS::SQS::Queue", 4);
    const uploadTimeout = t.toJSON().Resources[ids.upload].Properties.Timeout as number;
    expect(queues[ids.lines]).toMatchObject({
      QueueName: "ReportRender-batch-lines",
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * uploadTimeout,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [ids.lineDlq, "Arn"] }, maxReceiveCount: 3 },
    });
    expect(queues[ids.lineDlq]).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    for (const id of [ids.lines, ids.lineDlq]) {
      t.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      });
    }
    // Nothing but the function sends to it: no queue policy lets anyone else in.
    const linePolicies = Object.values(resourcesOf(t, "AWS::SQS::QueuePolicy")).filter((p) =>
      (p.Queues as { Ref: string }[]).some((q) => q.Ref === ids.lines),
    );
    for (const policy of linePolicies) {
      const statements = (policy.PolicyDocument as { Statement: { Effect: string }[] }).Statement;
      expect(statements.filter((st) => st.Effect === "Allow")).toEqual([]);
    }
  });

  it("the upload function reads the line queue two tasks at a time, reports partial batch failures, at most 50 at once", () => {
    const t = base.template;
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [ids.lines, "Arn"] },
      FunctionName: { Ref: ids.upload },
      BatchSize: 2,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    synthesize({ batchLineMaxConcurrency: "200" }).template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 2,
      ScalingConfig: { MaximumConcurrency: 200 },
    });
  });

  it("the line queue's name fits SQS's 80 characters, whatever the stack's name", () => {
    expect(batchLineQueueName("ReportRender")).toBe("ReportRender-batch-lines");
    const long = `R${"x".repeat(127)}`;
    const name = batchLineQueueName(long);
    expect(name).toHaveLength(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+-batch-lines$/);
    expect(batchLineQueueName(`${long.slice(0, -1)}y`)).not.toBe(name);
  });

  it("maxReceiveCount sets both redrive policies and the function's ENV.maxReceiveCount", () => {
    const s = synthesize({ maxReceiveCount: "5" });
    const [, queue] = resourceAt(s.template, "AWS::SQS::Queue", "/Uploads/Uploads/");
    const [, lines] = resourceAt(s.template, "AWS::SQS::Queue", "/Uploads/Lines/");
    const [, upload] = resourceAt(s.template, "AWS::Lambda::Function", "/UploadFunction/");
    expect((queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(5);
    expect((lines.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(5);
    expect((upload.Environment as { Variables: Record<string, string> }).Variables[ENV.maxReceiveCount]).toBe("5");
  });
});

describe("alarms", () => {
  it("on the dead-letter queues' depth and on each function's errors, notifying one topic", () => {
    const t = base.template;
    const [topic] = resourceAt(t, "AWS::SNS::Topic", "/Alarms/Topic/");
    const actions = [{ Ref: topic }];
    t.resourceCountIs("AWS::CloudWatch::Alarm", 14); // the others: ops.test.ts
    for (const id of [ids.dlq, ids.lineDlq]) {
      t.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [id, "QueueName"] } }],
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        AlarmActions: actions,
        OKActions: actions,
      });
    }
    for (const id of [ids.http, ids.upload]) {
      t.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: [{ Name: "FunctionName", Value: { Ref: id } }],
        Statistic: "Sum",
        Threshold: 1,
        AlarmActions: actions,
      });
    }
    t.resourceCountIs("AWS::SNS::Subscription", 0);
    synthesize({ alarmEmail: "ops@example.org" }).template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.org",
    });
  });
});

describe("least privilege", () => {
  // Active tracing: X-Ray's two actions have no resource-level permissions.
  const xray = { actions: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], resources: ["*"] };
  // The callback secret (the upload function signs callbacks; the HTTP function derives each caller's key for
  // GET /v1/callbacks/key): its value only, this secret only.
  const readCallbackKey = () => ({
    actions: ["secretsmanager:GetSecretValue"],
    resources: [`<${resourceAt(base.template, "AWS::SecretsManager::Secret", "/Callbacks/")[0]}>`],
  });

  it("the HTTP function: put job requests; get/put job state, stored renders and template packages; list jobs/ and templates/ only; read the callback secret; its own log group", () => {
    const [logs] = resourceAt(base.template, "AWS::Logs::LogGroup", "/HttpFunction/Logs/");
    const { input, output } = ids;
    expect(grantsOf("/HttpFunction/Role/DefaultPolicy/")).toEqual([
      { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`<${logs}.Arn>`] },
      xray,
      { actions: ["s3:PutObject"], resources: [`<${input}.Arn>/jobs/*`] },
      { actions: ["s3:GetObject", "s3:PutObject"], resources: [`<${output}.Arn>/jobs/*`, `<${output}.Arn>/renders/*`] },
      { actions: ["s3:ListBucket"], resources: [`<${output}.Arn>`] },
      { actions: ["s3:GetObject", "s3:PutObject"], resources: [`<${input}.Arn>/templates/*`] },
      { actions: ["s3:ListBucket"], resources: [`<${input}.Arn>`] },
      readCallbackKey(),
    ]);
    // It lists templates/ of the input and jobs/ of the output only: never the uploads' keys, nor
    // the PDFs under renders/ or any upload's output.
    const [, policy] = resourceAt(base.template, "AWS::IAM::Policy", "/HttpFunction/Role/DefaultPolicy/");
    const statements = (
      policy.PolicyDocument as { Statement: { Sid?: string; Action: unknown; Condition?: unknown }[] }
    ).Statement;
    expect(statements.find((st) => st.Sid === "ListTemplatePackages")?.Condition).toEqual({
      StringLike: { "s3:prefix": ["templates/*"] },
    });
    expect(statements.find((st) => st.Sid === "ListJobStates")?.Condition).toEqual({
      StringLike: { "s3:prefix": ["jobs/*"] },
    });
    for (const st of statements.filter((st) => st.Action === "s3:ListBucket")) expect(st.Condition).toBeDefined();
  });

  it("the upload function: read uploads, job requests and template packages; erase ended job requests; write the output bucket; consume its queues; send batch lines", () => {
    const [logs] = resourceAt(base.template, "AWS::Logs::LogGroup", "/UploadFunction/Logs/");
    const { input, output, queue, lines } = ids;
    const consume = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
    ];
    expect(grantsOf("/UploadFunction/Role/DefaultPolicy/")).toEqual([
      { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`<${logs}.Arn>`] },
      xray,
      {
        actions: ["s3:GetObject"],
        resources: [`<${input}.Arn>/incoming/*`, `<${input}.Arn>/jobs/*`, `<${input}.Arn>/templates/*`],
      },
      { actions: ["s3:ListBucket"], resources: [`<${input}.Arn>`] },
      { actions: ["s3:DeleteObject", "s3:DeleteObjectVersion"], resources: [`<${input}.Arn>/jobs/*`] },
      { actions: ["s3:ListBucketVersions"], resources: [`<${input}.Arn>`] },
      { actions: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], resources: [`<${output}.Arn>/*`] },
      { actions: ["s3:ListBucket"], resources: [`<${output}.Arn>`] },
      readCallbackKey(),
      { actions: consume, resources: [`<${queue}.Arn>`, `<${lines}.Arn>`].sort() },
      // The line queue only: it finds it by name and sends the tasks of the batches it splits.
      { actions: ["sqs:GetQueueUrl", "sqs:SendMessage"], resources: [`<${lines}.Arn>`] },
    ]);
    // It erases ended job requests, and lists the versions of those alone, never the uploads'.
    const [, policy] = resourceAt(base.template, "AWS::IAM::Policy", "/UploadFunction/Role/DefaultPolicy/");
    const statements = (policy.PolicyDocument as { Statement: { Sid?: string; Condition?: unknown }[] }).Statement;
    expect(statements.find((st) => st.Sid === "ListJobRequestVersions")?.Condition).toEqual({
      StringLike: { "s3:prefix": ["jobs/*"] },
    });
    // The HTTP function sends nothing to any queue.
    expect(
      grantsOf("/HttpFunction/Role/DefaultPolicy/")
        .flatMap((g) => g.actions)
        .filter((a) => a.startsWith("sqs:")),
    ).toEqual([]);
  });

  it("the function roles have no managed policies and no other policy", () => {
    const t = base.template;
    for (const name of ["HttpFunction", "UploadFunction"]) {
      const [role, props] = resourceAt(t, "AWS::IAM::Role", `/${name}/Role/`);
      expect(props.ManagedPolicyArns).toBeUndefined();
      expect(props.Policies).toBeUndefined();
      const attached = Object.values(resourcesOf(t, "AWS::IAM::Policy")).filter((p) =>
        (p.Roles as { Ref: string }[]).some((r) => r.Ref === role),
      );
      expect(attached).toHaveLength(1);
    }
  });
});

describe("outputs", () => {
  it("the endpoint URL, the bucket names, the dead-letter queues, the alarm topic and the three API policies", () => {
    const outputs = base.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([
      "AdministerTemplatesPolicyArn",
      "AlarmTopicArn",
      "ApiUrl",
      "AuthorizationType",
      "BatchLineDeadLetterQueueUrl",
      "CallbackSecretArn",
      "CallbackSecretCommand",
      "DashboardUrl",
      "DeadLetterQueueUrl",
      "InputBucketName",
      "InvokeApiPolicyArn",
      "OutputBucketName",
      "PublishTemplatesPolicyArn",
    ]);
    expect(outputs.InputBucketName?.Value).toEqual({ Ref: ids.input });
    expect(outputs.OutputBucketName?.Value).toEqual({ Ref: ids.output });
    expect(cfnText(outputs.ApiUrl?.Value)).toMatch(/^https:\/\/<\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>\/$/);
    expect(outputs.AuthorizationType?.Value).toBe("AWS_IAM");
    // Each policy output names its own policy.
    for (const [output, path] of [
      ["InvokeApiPolicyArn", "/Endpoint/InvokePolicy/"],
      ["PublishTemplatesPolicyArn", "/Endpoint/PublishPolicy/"],
      ["AdministerTemplatesPolicyArn", "/Endpoint/AdminPolicy/"],
    ] as const) {
      expect(outputs[output]?.Value, output).toEqual({
        Ref: resourceAt(base.template, "AWS::IAM::ManagedPolicy", path)[0],
      });
    }
  });

  it("the stack is environment-agnostic: nothing is looked up in an account", () => {
    expect(base.stack.environment).toBe("aws://unknown-account/unknown-region");
    const missing = base.app.synth().manifest.missing ?? [];
    expect(missing).toEqual([]);
  });
});

describe("tags", () => {
  it("every resource that takes tags is tagged with the service and the stack (cost allocation)", () => {
    const s = synthesize({ stackName: "RenderStaging", signing: "true" });
    const resources = s.template.toJSON().Resources as Record<
      string,
      { Type: string; Properties?: { Tags?: unknown } }
    >;
    const tagged = ["AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::SQS::Queue", "AWS::KMS::Key", "AWS::SNS::Topic"];
    let seen = 0;
    for (const [id, r] of Object.entries(resources)) {
      if (!tagged.includes(r.Type)) continue;
      seen++;
      const tags = r.Properties?.Tags as { Key: string; Value: string }[] | undefined;
      expect(tags, id).toEqual(
        expect.arrayContaining([
          { Key: COST_TAGS.application, Value: "report-render" },
          { Key: COST_TAGS.stack, Value: "RenderStaging" },
        ]),
      );
    }
    expect(seen).toBeGreaterThanOrEqual(12);
    // CloudFormation refuses Tags on a dashboard (cfn-lint E3002).
    for (const r of Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Dashboard")) {
      expect(r.Properties?.Tags).toBeUndefined();
    }
  });
});

describe("the machine that bundles", () => {
  const linux: BundlingHost = { platform: "linux", resolve: (name) => `/project/node_modules/${name}` };
  it("needs the project's esbuild and a POSIX shell, and says so (not a silent fall-back to Docker)", () => {
    expect(() => checkBundlingHost(linux)).not.toThrow();
    expect(() => checkBundlingHost({ ...linux, platform: "darwin" })).not.toThrow();
    expect(() => checkBundlingHost({ ...linux, platform: "win32" })).toThrow(/WSL/);
    const noEsbuild = {
      ...linux,
      resolve: (name: string) => {
        throw new Error(`Cannot find module '${name}'`);
      },
    };
    expect(() => checkBundlingHost(noEsbuild)).toThrow(
      /esbuild is not installed in this project \(npm ci installs it\)/,
    );
  });
});

describe("the buckets' own key (bucketKmsKey)", () => {
  it("none by default: S3-managed keys, no KMS key for them, no KMS permission", () => {
    const [, input] = resourceAt(base.template, "AWS::S3::Bucket", "/Buckets/Input/");
    expect(JSON.stringify(input.BucketEncryption)).toContain("AES256");
    expect(Object.keys(resourcesOf(base.template, "AWS::KMS::Key"))).toEqual([]);
    for (const path of ["/HttpFunction/Role/DefaultPolicy/", "/UploadFunction/Role/DefaultPolicy/"]) {
      expect(
        grantsOf(path)
          .flatMap((g) => g.actions)
          .filter((a) => a.startsWith("kms:")),
      ).toEqual([]);
    }
  });

  it("with it: input and output under a rotated, retained key (Bucket Keys on), the logs bucket not; the functions use it only through S3", () => {
    const s = synthesize({ bucketKmsKey: "true" });
    const t = s.template;
    const [keyId, key] = resourceAt(t, "AWS::KMS::Key", "/Buckets/Key/");
    expect(key.EnableKeyRotation).toBe(true);
    t.hasResource("AWS::KMS::Key", { DeletionPolicy: "Retain" });
    for (const name of ["Input", "Output"]) {
      const [, bucket] = resourceAt(t, "AWS::S3::Bucket", `/Buckets/${name}/`);
      expect(bucket.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: "aws:kms",
              KMSMasterKeyID: { "Fn::GetAtt": [keyId, "Arn"] },
            },
          },
        ],
      });
    }
    const [, logs] = resourceAt(t, "AWS::S3::Bucket", "/Buckets/AccessLogs/");
    expect(JSON.stringify(logs.BucketEncryption)).toContain("AES256");
    for (const name of ["HttpFunction", "UploadFunction"]) {
      const [, policy] = resourceAt(t, "AWS::IAM::Policy", `/${name}/Role/DefaultPolicy/`);
      const statements = (policy.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
      expect(statements.find((st) => st.Sid === "BucketKeyThroughS3")).toEqual({
        Sid: "BucketKeyThroughS3",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: { "Fn::GetAtt": [keyId, "Arn"] },
        Condition: {
          StringEquals: { "kms:ViaService": { "Fn::Join": ["", ["s3.", { Ref: "AWS::Region" }, ".amazonaws.com"]] } },
        },
      });
    }
    // The page function reads no bucket: no key either.
    const [, pagePolicy] = resourceAt(t, "AWS::IAM::Policy", "/PageFunction/Role/DefaultPolicy/");
    expect(JSON.stringify(pagePolicy)).not.toContain("kms:");
  });

  it("refuses a value that is not true or false, naming the setting", () => {
    expect(() => synthesize({ bucketKmsKey: "yes" })).toThrow(/setting bucketKmsKey must be true or false/);
  });
});
