import { ArnFormat, Duration, Stack } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  type CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpStage,
  LogGroupLogDestination,
  type IHttpRouteAuthorizer,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer, HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { Effect, ManagedPolicy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { TEMPLATE_OWNER_PATH } from "../../functions/http/job-owner.ts";
import { CorsPreflight } from "./cors-preflight.ts";

/** The properties of {@link HttpEndpoint}. */
export interface HttpEndpointProps {
  /**
   * The function behind the `$default` route (payload format 2.0); it matches the paths itself.
   *
   * Required.
   */
  readonly handler: IFunction;
  /**
   * The issuer URL of a JWT authorizer (portals that log their users in); with `jwtAudience`.
   *
   * @default - none: IAM (SigV4) auth, and a managed policy that lets a principal call the API
   */
  readonly jwtIssuer?: string;
  /**
   * The audiences (client ids) the JWT authorizer accepts; with `jwtIssuer`.
   *
   * @default - none: IAM (SigV4) auth
   */
  readonly jwtAudience?: string[];
  /**
   * With a JWT authorizer: the OAuth scope a token must carry to publish or withdraw template packages
   * (`PUT`/`DELETE /v1/templates/{id}`); tokens without it may still render.
   *
   * @default "report-render/templates.publish"
   */
  readonly publishScope?: string;
  /**
   * Routes (`GET /`, `GET /assets/{proxy+}`) to the handler that need no authorization: the web
   * page and what it loads before its user signs in. Each must be a `GET` of paths the handler
   * serves to anyone.
   *
   * @default [] - every route but CORS preflights is authorized
   */
  readonly publicRoutes?: string[];
  /**
   * The web page's own function: `PAGE_ROUTES` go to it instead of `handler`, authorized as
   * `$default` is unless they are among `publicRoutes`, and throttled apart (`PAGE_THROTTLE`).
   *
   * @default - the page is served by `handler` through `$default`
   */
  readonly pageHandler?: IFunction;
  /**
   * Origins allowed by CORS. With any, API Gateway answers preflights for them, through an
   * unauthenticated `OPTIONS /{proxy+}` route to a function that answers 204.
   *
   * @default [] - no CORS configuration and no OPTIONS route
   */
  readonly corsAllowedOrigins?: string[];
  /**
   * Steady-state requests per second of the `$default` stage.
   *
   * Required.
   */
  readonly throttlingRateLimit: number;
  /**
   * Burst of the `$default` stage; at least `throttlingRateLimit`.
   *
   * Required.
   */
  readonly throttlingBurstLimit: number;
  /**
   * How long the access log (and the preflight function's log) keeps its entries.
   *
   * Required.
   */
  readonly logRetention: RetentionDays;
}

/** The scope a JWT needs for PUT and DELETE /v1/templates/{id} unless HttpEndpointProps.publishScope says otherwise. */
export const DEFAULT_PUBLISH_SCOPE = "report-render/templates.publish";

/** The web page's routes: the page and everything it loads (functions/http/page-route.ts). */
export const PAGE_ROUTES = ["GET /", "GET /assets/{proxy+}"];

/**
 * The page routes' own throttle, apart from the API's: a page load asks for about a dozen files, so
 * this is a few page loads a second, and a flood of anonymous GETs never takes the API's budget.
 */
const PAGE_THROTTLE = { rateLimit: 25, burstLimit: 50 };

/**
 * An HTTP API (payload 2.0) with one `$default` route to the HTTP function, which matches the paths
 * itself. It is never anonymous: every request is signed with IAM credentials (execute-api:Invoke),
 * or carries a JWT from the configured issuer. The administrators' route (handing a template to
 * another owner) takes IAM credentials in either case. The exceptions are the public routes given,
 * and, only when CORS origins are configured, the CORS preflight (OPTIONS), which browsers send
 * without credentials: it is answered 204 by a function that does nothing else. The stage is
 * throttled and logs every request.
 */
export class HttpEndpoint extends Construct {
  /** The HTTP API, with its one `$default` route (and, with CORS origins, `OPTIONS /{proxy+}`). */
  readonly api: HttpApi;
  /** The `$default` stage: auto-deployed, throttled, logging every request. */
  readonly stage: HttpStage;
  /** The stage's access log. */
  readonly accessLogs: LogGroup;
  /** How the `$default` and publishing routes authorize a request: IAM (SigV4) or JWT. */
  readonly authorizationType: "AWS_IAM" | "JWT";
  /** With IAM auth: execute-api:Invoke on this API but publishing and handing over, for the clients' roles or users. */
  readonly invokePolicy?: ManagedPolicy;
  /** With IAM auth: publishing and withdrawing template packages, for those who may (besides invokePolicy). */
  readonly publishPolicy?: ManagedPolicy;
  /** The administrators' route (handing a template to another owner), IAM-authorized in either mode: for operators. */
  readonly adminPolicy: ManagedPolicy;
  /** With CORS origins: the function behind the unauthenticated `OPTIONS /{proxy+}` route. */
  readonly preflight?: CorsPreflight;

  constructor(scope: Construct, id: string, props: HttpEndpointProps) {
    super(scope, id);
    const corsAllowedOrigins = props.corsAllowedOrigins ?? [];
    let authorizer: IHttpRouteAuthorizer;
    if (props.jwtIssuer && props.jwtAudience?.length) {
      authorizer = new HttpJwtAuthorizer("Jwt", props.jwtIssuer, { jwtAudience: props.jwtAudience });
      this.authorizationType = "JWT";
    } else {
      authorizer = new HttpIamAuthorizer();
      this.authorizationType = "AWS_IAM";
    }

    this.api = new HttpApi(this, "Api", {
      description: "report-render: JSON in, PDF out",
      // The integration keeps API Gateway's default (and maximum) timeout of 30 s.
      defaultIntegration: new HttpLambdaIntegration("Render", props.handler),
      defaultAuthorizer: authorizer,
      createDefaultStage: false,
      // API Gateway answers CORS preflights itself, only for these origins; none: no CORS headers.
      corsPreflight:
        corsAllowedOrigins.length > 0
          ? {
              allowOrigins: corsAllowedOrigins,
              allowMethods: [
                CorsHttpMethod.GET,
                CorsHttpMethod.POST,
                CorsHttpMethod.HEAD,
                CorsHttpMethod.PUT,
                CorsHttpMethod.DELETE,
              ],
              allowHeaders: [
                "content-type",
                "accept",
                "authorization",
                "x-amz-date",
                "x-amz-security-token",
                "x-amz-content-sha256",
              ],
              exposeHeaders: [
                "location",
                "content-disposition",
                "retry-after",
                "x-request-id",
                "x-report-pages",
                "x-report-sha256",
                "x-report-warnings",
                "x-report-template",
              ],
              maxAge: Duration.hours(1),
            }
          : undefined,
    });

    // Publishing a template package is a route of its own, so that it takes its own permission: the
    // IAM policy below leaves it out (PublishPolicy grants it), a JWT needs the publish scope.
    this.api.addRoutes({
      path: "/v1/templates/{id}",
      methods: [HttpMethod.PUT, HttpMethod.DELETE],
      integration: new HttpLambdaIntegration("Publish", props.handler),
      ...(this.authorizationType === "JWT"
        ? { authorizationScopes: [props.publishScope ?? DEFAULT_PUBLISH_SCOPE] }
        : {}),
    });

    // Handing a template to another owner is an operator's act: a route of its own under /v1/admin/,
    // outside both other policies' paths (an IAM wildcard spans "/", so it cannot sit under /v1/templates/*),
    // and IAM-authorized whatever the other routes take. A JWT could not serve: the stack's user pool
    // gives a client's scopes to all its users, and its authorizer takes only the page's client.
    // The function checks the route and the IAM caller (functions/http/job-owner.ts isAdministrator).
    this.api.addRoutes({
      path: TEMPLATE_OWNER_PATH,
      methods: [HttpMethod.PUT],
      integration: new HttpLambdaIntegration("Administer", props.handler),
      authorizer: new HttpIamAuthorizer(),
    });

    // The web page is public (it signs its user in); API Gateway picks the most specific route, so
    // these win over $default for exactly these paths, and every other request still needs a token.
    const publicRoutes = new Set(props.publicRoutes ?? []);
    const pageRoutes = props.pageHandler ? PAGE_ROUTES : [];
    const integrations = {
      page: props.pageHandler ? new HttpLambdaIntegration("PageFunction", props.pageHandler) : undefined,
      handler: publicRoutes.size > 0 ? new HttpLambdaIntegration("Page", props.handler) : undefined,
    };
    for (const route of new Set([...pageRoutes, ...publicRoutes])) {
      const [method, path] = route.split(" ") as [string, string];
      if (method !== "GET" || !path?.startsWith("/"))
        throw new Error(`a public route is a GET of a path, not "${route}"`);
      const integration = pageRoutes.includes(route) ? integrations.page : integrations.handler;
      this.api.addRoutes({
        path,
        methods: [HttpMethod.GET],
        integration: integration as HttpLambdaIntegration,
        // Unless public, the page's routes take what $default takes (the API's authorizer).
        ...(publicRoutes.has(route) ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
    }

    if (corsAllowedOrigins.length > 0) {
      // OPTIONS /{proxy+} outranks $default, so preflights skip its authorizer (and nothing else does).
      this.preflight = new CorsPreflight(this, "Preflight", { logRetention: props.logRetention });
      this.api.addRoutes({
        path: "/{proxy+}",
        methods: [HttpMethod.OPTIONS],
        integration: new HttpLambdaIntegration("Preflight", this.preflight.function),
        authorizer: new HttpNoneAuthorizer(),
      });
    }

    this.accessLogs = new LogGroup(this, "AccessLogs", { retention: props.logRetention });
    this.stage = this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: props.throttlingRateLimit, burstLimit: props.throttlingBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            time: "$context.requestTime",
            ip: "$context.identity.sourceIp",
            caller: "$context.identity.caller",
            user: "$context.identity.user",
            // Who signed (IAM routes): the record of which operator handed a template over.
            userArn: "$context.identity.userArn",
            jwtSubject: "$context.authorizer.claims.sub",
            method: "$context.httpMethod",
            path: "$context.path",
            status: "$context.status",
            responseLength: "$context.responseLength",
            latencyMs: "$context.responseLatency",
            integrationLatencyMs: "$context.integrationLatency",
            integrationError: "$context.integrationErrorMessage",
            authorizerError: "$context.authorizer.error",
          }),
        ),
      },
    });
    if (pageRoutes.length > 0) {
      // A map by route key that CDK passes through as written: CloudFormation's own property names.
      (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
        pageRoutes.map((route) => [
          route,
          { ThrottlingRateLimit: PAGE_THROTTLE.rateLimit, ThrottlingBurstLimit: PAGE_THROTTLE.burstLimit },
        ]),
      );
    }

    if (this.authorizationType === "AWS_IAM") {
      this.invokePolicy = new ManagedPolicy(this, "InvokePolicy", {
        description: "report-render: call the HTTP API (render, jobs, the templates), but not publish templates",
        statements: [
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: ["execute-api:Invoke"],
            // Every path by these methods; PUT and DELETE are only the publishing route's. And the
            // $default route of the $default stage exactly, in case IAM names requests by the route
            // (…/<stage>/$default): no wildcard, which would span "/" and reach PUT /v1/templates/$default.
            resources: [
              ...["GET", "HEAD", "POST", "OPTIONS"].map((method) => this.api.arnForExecuteApi(method)),
              Stack.of(this).formatArn({
                service: "execute-api",
                resource: this.api.apiId,
                resourceName: "$default/$default",
                arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
              }),
            ],
          }),
        ],
      });
      this.publishPolicy = new ManagedPolicy(this, "PublishPolicy", {
        description: "report-render: publish and withdraw template packages (PUT and DELETE /v1/templates/{id})",
        statements: [
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: ["execute-api:Invoke"],
            resources: ["PUT", "DELETE"].map((method) => this.api.arnForExecuteApi(method, "/v1/templates/*")),
          }),
        ],
      });
    }
    this.adminPolicy = new ManagedPolicy(this, "AdminPolicy", {
      description: "report-render: administer template packages (hand one to another owner: PUT /v1/admin/…)",
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ["execute-api:Invoke"],
          resources: [this.api.arnForExecuteApi("PUT", "/v1/admin/*")],
        }),
      ],
    });
  }

  /** The base URL, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }
}
