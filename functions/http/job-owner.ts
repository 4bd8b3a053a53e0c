import { createHash } from "node:crypto";
import type { HttpEvent } from "../service/events.ts";

/** Jobs made without an authorizer (`npm start`): everyone there is the same caller. */
export const LOCAL_OWNER = "local";

/** The parts of API Gateway's authorizer context that name the caller (IAM auth or a JWT authorizer). */
interface AuthorizerContext {
  iam?: { userArn?: unknown; cognitoIdentity?: { identityId?: unknown } | null };
  jwt?: { claims?: Record<string, unknown> };
}

/**
 * Who a job belongs to: the IAM principal that signed the request (its ARN; with Cognito identity
 * pool credentials, whose roles all users share, also the identity), or the JWT's issuer and
 * subject. Recorded as a hash: the job state names no one, and keeps no token.
 */
export function jobOwner(event: HttpEvent): string {
  const authorizer = (event.requestContext as { authorizer?: AuthorizerContext }).authorizer;
  const iam = authorizer?.iam;
  if (typeof iam?.userArn === "string" && iam.userArn) {
    const identity = iam.cognitoIdentity?.identityId;
    return owner("iam", iam.userArn, typeof identity === "string" ? identity : "");
  }
  const claims = authorizer?.jwt?.claims;
  if (typeof claims?.sub === "string" && claims.sub && typeof claims.iss === "string")
    return owner("jwt", claims.iss, claims.sub);
  return LOCAL_OWNER;
}

function owner(kind: string, ...parts: string[]): string {
  return `${kind}:${createHash("sha256")
    .update([kind, ...parts].join("\n"))
    .digest("hex")}`;
}
