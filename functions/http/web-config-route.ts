import type { HttpResult } from "../service/events.ts";
import type { ServiceConfig } from "../service/settings.ts";
import { json } from "./responses.ts";

/**
 * GET /assets/web-config.json: what the web page needs before anyone signs in, so it is served with
 * the page's assets (which a deployment leaves open) rather than under /v1/ (which needs a token).
 * `signIn` is null where the page signs nobody in (`npm start`, a stack without webSignIn). Nothing
 * in it is a secret: the page is a public client, and every value is also in its sign-in requests.
 */
export const WEB_CONFIG_PATH = "/assets/web-config.json";

export function webConfig(config: Pick<ServiceConfig, "webSignIn">): HttpResult {
  const signIn = config.webSignIn;
  return json(200, {
    signIn: signIn
      ? {
          issuer: signIn.issuer,
          clientId: signIn.clientId,
          authorizeUrl: signIn.authorizeUrl,
          tokenUrl: signIn.tokenUrl,
          scopes: signIn.scopes,
        }
      : null,
  });
}
