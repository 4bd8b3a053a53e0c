import { createHash } from "node:crypto";
import type { HttpEvent } from "../service/events.ts";
import { LOCAL_OWNER } from "../service/owners.ts";

/**
 * The one route that takes the administrators' permission (infra/constructs/http-endpoint.ts): IAM
 * auth whatever the other routes take, so API Gateway lets a request through it only signed by a
 * principal with the admin policy (AdministerTemplatesPolicyArn).
 */
export const TEMPLATE_OWNER_PATH = "/v1/admin/templates/{id}/owner";
const TEMPLATE_OWNER_ROUTE_KEY = `PUT ${TEMPLATE_OWNER_PATH}`;

/** The parts of API Gateway's authorizer context that name the caller (IAM auth or a JWT authorizer). */
interface AuthorizerContext {
  iam?: { userArn?: unknown; cognitoIdentity?: { identityId?: unknown } | null };
  jwt?: { claims?: Record<string, unknown> };
}

/**
 * Who the caller is, as what it makes records it (its jobs, the templates it publishes first, the
 * key its callbacks are signed with): the IAM principal that signed the request (its ARN; with
 * Cognito identity pool credentials, whose roles all users share, also the identity), or the JWT's
 * issuer and subject. By the route's authorizer, not the stack's mode: in a JWT stack the
 * administrators' route still carries an IAM principal. A hash: no record names anyone, or keeps a token.
 */
export function callerOwner(event: HttpEvent): string {
  const authorizer = authorizerOf(event);
  const userArn = iamPrincipalOf(event);
  if (userArn !== undefined) {
    const identity = authorizer?.iam?.cognitoIdentity?.identityId;
    return owner("iam", userArn, typeof identity === "string" ? identity : "");
  }
  const claims = authorizer?.jwt?.claims;
  // A token without a subject (a client-credentials token) is still a signed caller, never local:
  // the client it was issued to, so that two such clients of one issuer are not one owner.
  if (typeof claims?.iss === "string") return owner("jwt", claims.iss, subjectOf(claims));
  return LOCAL_OWNER;
}

/**
 * Whether the caller may do what only administrators may (hand a template to another owner): the
 * request came through the administrators' route signed by an IAM principal, which API Gateway let
 * through only with their policy; or it came to `npm start` (no authorizer at all, loopback only),
 * whose one caller administers it. A signed caller on any other route is not one, whatever path it
 * asks for; nor is a JWT on the administrators' route (it is never the route's authorizer: a route
 * so configured by mistake must not make every signed-in user an administrator).
 */
export function isAdministrator(event: HttpEvent): boolean {
  const routeKey = event.requestContext.routeKey;
  if (routeKey === TEMPLATE_OWNER_ROUTE_KEY) return iamPrincipalOf(event) !== undefined;
  return routeKey === "$default" && authorizerOf(event) === undefined;
}

/** A token's subject, or else the client it was issued to (OAuth's client_id, OpenID's azp). */
function subjectOf(claims: Record<string, unknown>): string {
  const text = (name: string) => (typeof claims[name] === "string" ? (claims[name] as string) : undefined);
  const client = text("client_id") ?? text("azp");
  return text("sub") ?? (client === undefined ? "" : `client:${client}`);
}

/** The ARN of the IAM principal that signed the request, if IAM auth let it through. */
function iamPrincipalOf(event: HttpEvent): string | undefined {
  const userArn = authorizerOf(event)?.iam?.userArn;
  return typeof userArn === "string" && userArn ? userArn : undefined;
}

function authorizerOf(event: HttpEvent): AuthorizerContext | undefined {
  return (event.requestContext as { authorizer?: AuthorizerContext }).authorizer;
}

function owner(kind: string, ...parts: string[]): string {
  return `${kind}:${createHash("sha256")
    .update([kind, ...parts].join("\n"))
    .digest("hex")}`;
}
