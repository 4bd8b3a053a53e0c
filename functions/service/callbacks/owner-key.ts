import { createHmac } from "node:crypto";
import type { CallbackSettings } from "./callback-settings.ts";
import { signingKey } from "./signing-key.ts";

/** What the callback secret is keyed on to make an owner's key (so no other use of it gives the same bytes). */
const OWNER_KEY_CONTEXT = "callback-key:";

/**
 * The key an owner's callbacks are signed with: hex HMAC-SHA256 of `callback-key:<owner>` keyed with
 * the callback secret. Each portal verifies with its own key and can make no other owner's: that
 * takes the secret, which only the service (and whoever may read the secret) holds.
 */
function ownerCallbackKey(secret: string, owner: string): string {
  return createHmac("sha256", secret).update(`${OWNER_KEY_CONTEXT}${owner}`, "utf8").digest("hex");
}

/** `owner`'s callback key, from the service's secret (CALLBACK_SECRET, or read from CALLBACK_SECRET_ARN). */
export async function callbackKeyOf(
  settings: Pick<CallbackSettings, "secret" | "secretArn">,
  owner: string,
): Promise<string> {
  return ownerCallbackKey(await signingKey(settings), owner);
}
