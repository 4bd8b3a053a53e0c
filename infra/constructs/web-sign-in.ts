import { Aws, Duration, Fn, RemovalPolicy, Stack } from "aws-cdk-lib";
import {
  AccountRecovery,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
} from "aws-cdk-lib/aws-cognito";
import { Construct } from "constructs";
import { DEFAULT_PUBLISH_SCOPE, PAGE_ROUTES } from "./http-endpoint.ts";
import { type FunctionEnvironment, WEB_SIGN_IN_ENV } from "./render-function.ts";

/** An OpenID provider of your own instead of the user pool: the page's client there and its endpoints. */
export interface OwnProvider {
  /**
   * The issuer URL (https); the API's JWT authorizer takes its tokens.
   *
   * Required.
   */
  readonly issuer: string;
  /**
   * The page's client id (a public client: authorization code grant with PKCE, the page's URL allowed).
   *
   * Required.
   */
  readonly clientId: string;
  /**
   * The authorization endpoint (https).
   *
   * Required.
   */
  readonly authorizeUrl: string;
  /**
   * The token endpoint (https).
   *
   * Required.
   */
  readonly tokenUrl: string;
}

/** The properties of {@link WebSignIn}. */
export interface WebSignInProps {
  /**
   * The page's URL (the API's URL, ending in `/`): where the provider sends the browser back after
   * signing in and out. May be a lazy token (the API is made after the pool).
   *
   * Required.
   */
  readonly pageUrl: string;
  /**
   * The scopes the page asks for.
   *
   * @default - the user pool: `WEB_SIGN_IN_POOL_SCOPES`; a provider of your own: openid and email
   */
  readonly scopes?: string[];
  /**
   * The user pool's domain prefix (`<prefix>.auth.<region>.amazoncognito.com`).
   *
   * @default - `defaultDomainPrefix(stack name)` and the first eight hex digits of the stack's id
   */
  readonly domainPrefix?: string;
  /**
   * A provider of your own; without it the construct creates a Cognito user pool.
   *
   * @default - a user pool, its domain and the page's client
   */
  readonly provider?: OwnProvider;
}

/**
 * The routes that need no token when the page signs its users in: the page, its assets
 * (functions/http/web-page-route.ts), and its sign-in settings (the page asks for them before anyone
 * has signed in). They go to the page's own function (infra/constructs/page-function.ts).
 */
export const WEB_PAGE_ROUTES = PAGE_ROUTES;

/**
 * The scopes a pool's page asks for unless told otherwise: who signs in. Not publishing: every user
 * of the client would get it (webSignInScopes adds it where every staff member may publish).
 */
const WEB_SIGN_IN_POOL_SCOPES = ["openid", "email"];

/**
 * The scopes the pool's client may be given (infra/settings.ts refuses others). There is no admin
 * scope: Cognito gives a client's scopes to every user of it, so handing a template over is
 * IAM-authorized instead (infra/constructs/http-endpoint.ts).
 */
export const WEB_SIGN_IN_POOL_SCOPE_CHOICES = ["openid", "email", "profile", DEFAULT_PUBLISH_SCOPE];

/** The literal part of the default domain prefix: the stack's name as Cognito takes it (words it refuses removed). */
export function defaultDomainPrefix(stackName: string): string {
  const name = stackName
    .toLowerCase()
    .replace(/aws|amazon|cognito/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return name || "report-render";
}

/**
 * Sign-in for the web page. By default a Cognito user pool: no self sign-up (an administrator
 * creates each user, who gets a temporary password by e-mail), the e-mail address as the user name,
 * a strong password policy, optional TOTP MFA, recovery by e-mail only; its domain (the hosted
 * sign-in pages); a resource server `report-render` with the publish scope; and one public app client
 * for the page (authorization code grant, PKCE, no secret) whose only URL is the page's. The API's
 * JWT authorizer takes the pool's tokens for that client (`issuer`, `clientId`). With `provider`,
 * nothing is created: the page uses that provider.
 */
export class WebSignIn extends Construct {
  /** The issuer URL the JWT authorizer trusts. */
  readonly issuer: string;
  /** The page's client id: the JWT authorizer's audience. */
  readonly clientId: string;
  /** The authorization endpoint. */
  readonly authorizeUrl: string;
  /** The token endpoint. */
  readonly tokenUrl: string;
  /** The scopes the page asks for. */
  readonly scopes: string[];
  /** The user pool (none with a provider of your own). */
  readonly userPool?: UserPool;
  /** The pool's domain (its hosted sign-in pages). */
  readonly domain?: UserPoolDomain;
  /** The page's app client. */
  readonly client?: UserPoolClient;
  /** `WEB_SIGN_IN_*` for the HTTP function, which tells the page. */
  readonly environment: FunctionEnvironment;

  constructor(scope: Construct, id: string, props: WebSignInProps) {
    super(scope, id);
    if (props.provider) {
      ({
        issuer: this.issuer,
        clientId: this.clientId,
        authorizeUrl: this.authorizeUrl,
        tokenUrl: this.tokenUrl,
      } = props.provider);
      this.scopes = props.scopes ?? ["openid", "email"];
    } else {
      this.scopes = props.scopes ?? WEB_SIGN_IN_POOL_SCOPES;
      this.userPool = new UserPool(this, "Users", {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        signInCaseSensitive: false,
        autoVerify: { email: true },
        standardAttributes: { email: { required: true, mutable: true } },
        passwordPolicy: {
          minLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        mfa: Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        accountRecovery: AccountRecovery.EMAIL_ONLY,
        userInvitation: {
          emailSubject: "report-render: your account",
          emailBody:
            "You can now sign in to report-render as {username} with the temporary password {####} " +
            "(valid for 3 days); you will choose your own password when you first sign in.",
        },
        // Kept when the stack is deleted, like the buckets: it holds the agency's users.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const [server, scopeName] = DEFAULT_PUBLISH_SCOPE.split("/") as [string, string];
      const publish = new ResourceServerScope({
        scopeName,
        scopeDescription: "Publish and withdraw template packages (PUT and DELETE /v1/templates/{id})",
      });
      const resourceServer = this.userPool.addResourceServer("Api", {
        identifier: server,
        userPoolResourceServerName: "report-render API",
        scopes: [publish],
      });
      const prefix =
        props.domainPrefix ??
        Fn.join("-", [
          defaultDomainPrefix(Stack.of(this).stackName),
          Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", Aws.STACK_ID)))),
        ]);
      this.domain = this.userPool.addDomain("Domain", { cognitoDomain: { domainPrefix: prefix } });
      const oauthScope = (name: string): OAuthScope =>
        name === DEFAULT_PUBLISH_SCOPE ? OAuthScope.resourceServer(resourceServer, publish) : OAuthScope.custom(name);
      this.client = this.userPool.addClient("Page", {
        userPoolClientName: "report-render web page",
        generateSecret: false,
        authFlows: { userSrp: true },
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: this.scopes.map(oauthScope),
          callbackUrls: [props.pageUrl],
          logoutUrls: [props.pageUrl],
        },
        supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.hours(12),
      });
      // Spelt out as the tokens' `iss` claim is, as CDK's HttpUserPoolAuthorizer does.
      this.issuer = `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.userPool.userPoolId}`;
      this.clientId = this.client.userPoolClientId;
      const base = this.domain.baseUrl();
      this.authorizeUrl = `${base}/oauth2/authorize`;
      this.tokenUrl = `${base}/oauth2/token`;
    }
    this.environment = {
      [WEB_SIGN_IN_ENV.issuer]: this.issuer,
      [WEB_SIGN_IN_ENV.clientId]: this.clientId,
      [WEB_SIGN_IN_ENV.authorizeUrl]: this.authorizeUrl,
      [WEB_SIGN_IN_ENV.tokenUrl]: this.tokenUrl,
      [WEB_SIGN_IN_ENV.scopes]: this.scopes.join(" "),
    };
  }
}
