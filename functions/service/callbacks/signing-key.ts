import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { CallbackSettings } from "./callback-settings.ts";

/** The key read from Secrets Manager, once per process and ARN; a failed read is tried again next time. */
const read = new Map<string, Promise<string>>();

/**
 * The callback secret: CALLBACK_SECRET itself, or the SecretString of CALLBACK_SECRET_ARN. Nothing is
 * signed with it directly: each owner's key is derived from it (owner-key.ts).
 */
export function signingKey(settings: Pick<CallbackSettings, "secret" | "secretArn">): Promise<string> {
  if (settings.secret) return Promise.resolve(settings.secret);
  const arn = settings.secretArn;
  if (!arn)
    return Promise.reject(new Error("no callback signing key: neither CALLBACK_SECRET nor CALLBACK_SECRET_ARN"));
  let key = read.get(arn);
  if (!key) {
    key = readSecret(arn);
    read.set(arn, key);
    key.catch(() => read.delete(arn));
  }
  return key;
}

async function readSecret(arn: string): Promise<string> {
  // The secret's own region (arn:aws:secretsmanager:<region>:…), whatever the function's is.
  const region = arn.split(":")[3];
  const client = new SecretsManagerClient(region ? { region } : {});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new Error(`the secret ${arn} has no SecretString`);
    return out.SecretString;
  } finally {
    client.destroy();
  }
}
