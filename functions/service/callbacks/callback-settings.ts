import { isIPv4 } from "node:net";

/** Job callbacks: where they may go, the key that signs them, and how hard delivery tries. */
export interface CallbackSettings {
  /**
   * `host[:port]`, the host as a URL names it (a name lower-cased; without a port: the scheme's
   * default); empty: no callbacks. A name must resolve to public addresses; an address listed as such may be private.
   */
  allowedHosts: string[];
  /** The secret each owner's signing key is derived from (`npm start` generates one under its data folder when it is unset). */
  secret?: string;
  /** On AWS: the Secrets Manager secret whose SecretString is the key (read once per process). */
  secretArn?: string;
  /** One attempt: connecting, sending and the answer's status line (default 10 s). */
  timeoutMs: number;
  /** Attempts at most (default 5); retried after a network error, a 5xx or a 429. */
  attempts: number;
  /** The first retry's delay, doubled each time, with jitter (default 1 s). */
  backoffMs: number;
}

export const CALLBACK_DELIVERY = { timeoutMs: 10_000, attempts: 5, backoffMs: 1_000 } as const;

/** Short keys are guessable; the stack's has 64 characters, `npm start` generates 64 hex digits. */
const MIN_SECRET_LENGTH = 32;

/** The settings from the three variables, each checked (a bad one stops the service at start-up). */
export function callbackSettings(
  env: NodeJS.ProcessEnv,
  names: { allowedHosts: string; secret: string; secretArn: string },
): CallbackSettings {
  const secret = env[names.secret] || undefined;
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH)
    throw new Error(`${names.secret} must be at least ${MIN_SECRET_LENGTH} characters long`);
  const secretArn = env[names.secretArn] || undefined;
  if (secretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$/.test(secretArn))
    throw new Error(`${names.secretArn} must be the ARN of a Secrets Manager secret, not "${secretArn.slice(0, 200)}"`);
  const raw = env[names.allowedHosts] ?? "";
  const allowedHosts = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => allowedHost(entry, names.allowedHosts));
  return { allowedHosts: [...new Set(allowedHosts)], secret, secretArn, ...CALLBACK_DELIVERY };
}

/** `host[:port]` → the form URL.host gives it: a name lower-cased, an address in its one spelling. */
function allowedHost(entry: string, name: string): string {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(entry);
  const host = match?.[1];
  const url = host && URL.canParse(`https://${host}/`) ? new URL(`https://${host}/`) : undefined;
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  // The URL parser also reads "127.1" or "0x7f.1" as 127.0.0.1: a listed address is written out.
  const written = url && (!isIPv4(url.hostname) || isIPv4(host ?? ""));
  if (!url || !written || (port !== undefined && (port < 1 || port > 65535)))
    throw new Error(`${name}: "${entry.slice(0, 200)}" is not a host[:port] like hooks.example.org or 10.0.0.5:8080`);
  return port === undefined ? url.hostname : `${url.hostname}:${port}`;
}
