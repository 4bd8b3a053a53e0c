import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { InputError } from "../../core/errors.ts";
import { type AddressRange, addressRange } from "./addresses.ts";
import type { CallbackSettings } from "./callback-settings.ts";

export const CALLBACK_PATH = "/options/callback";
const CALLBACK_URL_PATH = "/options/callback/url";
const MAX_CALLBACK_URL_LENGTH = 2000;

/** Every address a name has (node:dns lookup, all of them, in the resolver's order). */
export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const dnsLookup: Lookup = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Where a callback goes: its URL, and the address checked for it, which is the one connected to. */
export interface CallbackTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/**
 * `options.callback` as sent → its URL, checked (checkCallbackUrl); refused with `invalid_options`
 * at the path of what is wrong. Only `{ "url": "…" }` is taken, so a misspelt field is not ignored.
 */
export async function checkCallbackOption(
  value: unknown,
  settings: CallbackSettings,
  lookupFn: Lookup = dnsLookup,
): Promise<string> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw refusal(`must be an object { "url": "https://…" }, not ${describe(value)}`, CALLBACK_PATH);
  const unknown = Object.keys(value).filter((key) => key !== "url");
  if (unknown.length > 0)
    throw new InputError(
      "invalid_options",
      unknown.map((key) => ({
        rule: "callback",
        path: `${CALLBACK_PATH}/${pointerToken(key)}`,
        message: `unknown property ${JSON.stringify(key.slice(0, 100))}: a callback has only "url"`,
      })),
    );
  const url = (value as { url?: unknown }).url;
  if (typeof url !== "string") throw refusal(`must be a string (an https URL), not ${describe(url)}`);
  return (await checkCallbackUrl(url, settings, lookupFn)).url.href;
}

/**
 * A callback URL → where to send it, or an InputError saying why not; asked when a job is accepted
 * and again before each delivery attempt (settings may have changed, and what a name resolves to
 * may have: DNS rebinding).
 *
 * - https, at most 2,000 characters, no credentials, its host[:port] listed in CALLBACK_ALLOWED_HOSTS;
 * - a listed name must resolve to public addresses only: whoever controls its DNS could otherwise
 *   point it at the service's own network (metadata endpoints, the Lambda runtime API on loopback);
 * - an address listed as such (`10.0.0.5:8080`, `127.0.0.1:9000`) is explicit: it may be private,
 *   and only it may take plain http.
 */
export async function checkCallbackUrl(
  raw: string,
  settings: CallbackSettings,
  lookupFn: Lookup = dnsLookup,
): Promise<CallbackTarget> {
  if (settings.allowedHosts.length === 0)
    throw refusal("this service sends no callbacks (it lists no host for them: CALLBACK_ALLOWED_HOSTS)");
  if (!settings.secret && !settings.secretArn)
    throw refusal("this service sends no callbacks (it has no signing key: CALLBACK_SECRET or CALLBACK_SECRET_ARN)");
  if (raw.length > MAX_CALLBACK_URL_LENGTH)
    throw refusal(`must be at most ${MAX_CALLBACK_URL_LENGTH.toLocaleString("en")} characters, not ${raw.length}`);
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url) throw refusal(`must be an absolute https URL, not ${JSON.stringify(raw.slice(0, 100))}`);
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw refusal(`must be an https URL, not ${url.protocol.slice(0, 20)}`);
  if (url.username || url.password) throw refusal("must not carry credentials (user:password@)");
  url.hash = ""; // never sent

  const literal = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const family = isIP(literal);
  const listed = isListed(url, settings.allowedHosts);
  if (family === 4 || family === 6) {
    const range = addressRange(literal);
    if (!listed)
      throw refusal(
        range
          ? `${url.hostname} is a ${range} address; callbacks go only to the hosts this service lists (CALLBACK_ALLOWED_HOSTS)`
          : notListed(url),
      );
    return { url, address: literal, family };
  }
  if (url.protocol !== "https:")
    throw refusal(`must be https: plain http goes only to an address listed as such (not to ${url.hostname})`);
  if (!listed) throw refusal(notListed(url));
  return { url, ...(await publicAddress(url.hostname, lookupFn)) };
}

/** The first address of `hostname`, if every address it has is public. */
async function publicAddress(hostname: string, lookupFn: Lookup): Promise<{ address: string; family: 4 | 6 }> {
  let addresses: { address: string; family: number }[];
  try {
    addresses = await lookupFn(hostname);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ENOTFOUND" || code === "ENODATA") throw unresolved(hostname);
    throw e; // the resolver failed: a fault to retry, not an answer about the URL
  }
  const first = addresses[0];
  if (!first) throw unresolved(hostname);
  for (const { address } of addresses) {
    const range: AddressRange | undefined = addressRange(address);
    if (range)
      throw refusal(
        `${hostname} resolves to ${address}, a ${range} address: a listed name must resolve to public addresses ` +
          "only (list the address itself to send callbacks to it)",
      );
  }
  // IPv4 first when there is one: a Lambda function outside a VPC has no IPv6 route.
  const chosen = addresses.find((a) => a.family === 4) ?? first;
  return { address: chosen.address, family: chosen.family === 6 ? 6 : 4 };
}

/** Listed as the URL names it (`hooks.example.org`), or with its port written out (`hooks.example.org:443`). */
function isListed(url: URL, allowed: string[]): boolean {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return allowed.includes(url.host) || allowed.includes(`${url.hostname}:${port}`);
}

function notListed(url: URL): string {
  return `${url.host.slice(0, 300)} is not a host this service sends callbacks to (CALLBACK_ALLOWED_HOSTS)`;
}

/**
 * A name that does not resolve: refused at submission; at delivery a fault to retry (DNS may be
 * failing for a moment), where a name that resolves elsewhere is not.
 */
export class UnresolvedHost extends InputError {}

function unresolved(hostname: string): UnresolvedHost {
  return new UnresolvedHost("invalid_options", [
    { rule: "callback", path: CALLBACK_URL_PATH, message: `${hostname} does not resolve (no address)` },
  ]);
}

function refusal(message: string, path = CALLBACK_URL_PATH): InputError {
  return new InputError("invalid_options", [{ rule: "callback", path, message }]);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `a string ${JSON.stringify(value.slice(0, 100))}` : `a ${typeof value}`;
}

/** A key as a JSON Pointer token (RFC 6901). */
function pointerToken(key: string): string {
  return key.slice(0, 100).replaceAll("~", "~0").replaceAll("/", "~1");
}
