import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { DEFAULTS, type LogLevel } from "../functions/service/settings.ts";
import { WEB_SIGN_IN_POOL_SCOPE_CHOICES } from "./constructs/web-sign-in.ts";

/**
 * What a deployment can change, each with a default. Set them as stack props, or as CDK context
 * (`npx cdk deploy -c memorySizeMb=3008 -c corsAllowedOrigins=https://portal.example.gov.cn`, or the
 * "context" of cdk.json): `settingsFromContext` reads every key below by its own name.
 */
export interface ReportRenderSettings {
  /**
   * Memory of each render function, MB (1024–10240); Lambda gives CPU in proportion.
   *
   * @default 2048
   */
  readonly memorySizeMb: number;
  /**
   * Timeout of the HTTP function, s (10–30: API Gateway answers 504 after 30 s anyway). Its
   * synchronous render limit (`ENV.syncRenderTimeoutMs`) is 2 s less, at most the functions' default
   * (`DEFAULTS.syncRenderTimeoutMs`, 28 s).
   *
   * @default 30
   */
  readonly httpTimeoutSeconds: number;
  /**
   * Timeout of the upload function, s (60–900). One invocation renders one upload, one job or two
   * lines of a batch; its render limit per report (`ENV.renderTimeoutMs`) is 10 s less, at most the
   * functions' default (`DEFAULTS.renderTimeoutMs`, 50 s). Both queues hide a received message this
   * long plus 60 s, so it is also how long a message whose invocation crashed waits for its retry:
   * 180 s covers two lines at the render limit with room for storage, and retries come after 4 min.
   *
   * @default 180
   */
  readonly uploadTimeoutSeconds: number;
  /**
   * /tmp of each function, MB (512–10240): Chromium inflates itself there (~200 MB).
   *
   * @default 1024
   */
  readonly ephemeralStorageMb: number;
  /**
   * Reserved concurrency of the HTTP function: its share, which the upload function cannot take, and
   * its cap. At least `throttlingBurstLimit` (what the API lets through at once); `"none"`: the
   * account's unreserved pool, uncapped. 100 suits an account whose limit was raised (ten requests a
   * second of up to 10 s each).
   *
   * @default "none" - a new account's limit (10) leaves nothing to reserve: `cdk deploy` would fail
   */
  readonly httpReservedConcurrency: ReservedConcurrency;
  /**
   * Reserved concurrency of the upload function (uploads, jobs and batch lines); at least
   * `uploadMaxConcurrency` + `batchLineMaxConcurrency` (60 with their defaults), so that neither
   * queue is ever throttled. `"none"`: the account's unreserved pool, uncapped.
   *
   * @default "none" - as httpReservedConcurrency
   */
  readonly uploadReservedConcurrency: ReservedConcurrency;
  /**
   * The account's Lambda concurrency limit in this region (Service Quotas, "Concurrent executions").
   * The two reserved concurrencies together must leave 100 of it unreserved (Lambda's own minimum).
   *
   * @default 1000 - the default limit of an account
   */
  readonly accountConcurrencyLimit: number;
  /**
   * Upload function invocations the queue starts at once (SQS event source maxConcurrency, 2–1000).
   * Caps the burst of a mass upload without Lambda throttling, which would count as failed receives
   * and send good messages to the dead-letter queue.
   *
   * @default 10
   */
  readonly uploadMaxConcurrency: number;
  /**
   * Upload function invocations the line queue starts at once (SQS event source maxConcurrency,
   * 2–1000), each rendering up to two lines of a batch: how many of a batch's lines render at the
   * same time (about twice this). With `uploadReservedConcurrency`, this and `uploadMaxConcurrency`
   * together must fit in it. Lambda's account concurrency (1,000 by default) caps it too.
   *
   * @default 50
   */
  readonly batchLineMaxConcurrency: number;
  /**
   * SQS attempts before a message goes to the dead-letter queue (1–1000); the upload function is
   * told it too (`ENV.maxReceiveCount`), so it writes the error on the last attempt.
   *
   * @default - the functions' default, `DEFAULTS.maxReceiveCount` (3)
   */
  readonly maxReceiveCount: number;
  /**
   * Outputs (PDFs, result files, job state), and job requests, are deleted this many days after
   * they are written; 0 keeps them.
   *
   * @default 30
   */
  readonly outputExpirationDays: number;
  /**
   * Uploads (`incoming/`: the reports' JSON) are deleted this many days after they were uploaded (a
   * delete marker; the version itself goes after `inputVersionExpirationDays` more); 0 keeps them.
   *
   * @default 30 - as long as their PDFs
   */
  readonly uploadExpirationDays: number;
  /**
   * Earlier versions of overwritten or deleted inputs are kept this many days.
   *
   * @default 30
   */
  readonly inputVersionExpirationDays: number;
  /**
   * S3 server access logs are kept this many days.
   *
   * @default 90
   */
  readonly accessLogExpirationDays: number;
  /**
   * CloudWatch Logs retention of the functions and the API access log, days (one of CloudWatch's
   * retention periods).
   *
   * @default 30
   */
  readonly logRetentionDays: number;
  /**
   * Origins (`https://host[:port]`) allowed by CORS on the API and on presigned downloads.
   *
   * @default [] - no CORS at all
   */
  readonly corsAllowedOrigins: string[];
  /**
   * The issuer URL (`https://…`) of a JWT authorizer instead of IAM auth; set with `jwtAudience`.
   *
   * @default - none: IAM (SigV4) auth
   */
  readonly jwtIssuer?: string;
  /**
   * The audiences (client ids) the JWT authorizer accepts; set with `jwtIssuer`.
   *
   * @default - none: IAM (SigV4) auth
   */
  readonly jwtAudience?: string[];
  /**
   * API steady-state requests per second.
   *
   * @default 10
   */
  readonly throttlingRateLimit: number;
  /**
   * API burst; at least `throttlingRateLimit`.
   *
   * @default 20
   */
  readonly throttlingBurstLimit: number;
  /**
   * An e-mail address subscribed to the alarm topic.
   *
   * @default - none: subscribe to the topic (output AlarmTopicArn) yourself
   */
  readonly alarmEmail?: string;
  /**
   * Log level of the functions (`ENV.logLevel`).
   *
   * @default "info" - the functions' own default
   */
  readonly logLevel: DeployedLogLevel;
  /**
   * `options.pdf.sign`: a KMS key (RSA_2048, SIGN_VERIFY) that the two functions may only sign with
   * and read the public key of (infra/constructs/signing.ts). Signed renders are refused (422) until
   * `signingCertificate` is set too.
   *
   * @default false
   */
  readonly signing: boolean;
  /**
   * The input and output buckets encrypted with a customer-managed KMS key of the stack's (rotated
   * yearly, retained), which the functions may use only through S3, instead of S3-managed keys. The
   * access-log bucket keeps S3-managed keys (S3 server access logging writes to no other).
   *
   * @default false
   */
  readonly bucketKmsKey: boolean;
  /**
   * With `signing`: a PEM file, read at synth time, holding the certificate issued for the key (first)
   * and its chain; bundled with the functions (`SIGN_CERTIFICATE_FILE`).
   *
   * @default - none: signed renders are refused, saying what to configure
   */
  readonly signingCertificate?: string;
  /**
   * Hosts (`host[:port]`) that job callbacks may be sent to (`CALLBACK_ALLOWED_HOSTS`); a callback to
   * any other host is refused when the job is submitted.
   *
   * @default [] - no callbacks
   */
  readonly callbackAllowedHosts: string[];
  /**
   * Sign-in on the web page: a Cognito user pool (or the OpenID provider of `jwtIssuer`) whose tokens
   * the API's JWT authorizer takes instead of IAM auth; the page and its assets need no token.
   *
   * @default false
   */
  readonly webSignIn: boolean;
  /**
   * With `webSignIn` and no `jwtIssuer`: the prefix of the user pool's domain
   * (`<prefix>.auth.<region>.amazoncognito.com`), unique in the region.
   *
   * @default - the stack's name and the first part of its stack id, e.g. `reportrender-1a2b3c4d`
   */
  readonly webSignInDomainPrefix?: string;
  /**
   * With `webSignIn` and `jwtIssuer`: the page's client id at that provider (one of `jwtAudience`),
   * a public client (no secret) allowed the authorization code grant with PKCE and the page's URL.
   *
   * @default - the only entry of `jwtAudience`
   */
  readonly webSignInClientId?: string;
  /**
   * With `webSignIn` and `jwtIssuer`: the provider's authorization endpoint (https).
   *
   * @default - none: required with jwtIssuer
   */
  readonly webSignInAuthorizeUrl?: string;
  /**
   * With `webSignIn` and `jwtIssuer`: the provider's token endpoint (https).
   *
   * @default - none: required with jwtIssuer
   */
  readonly webSignInTokenUrl?: string;
  /**
   * With `webSignIn`: the scopes the page asks for; `openid` among them. With the user pool, a subset
   * of `openid`, `email`, `profile` and the publish scope (`report-render/templates.publish`): no
   * admin scope, handing a template over takes IAM credentials.
   *
   * @default - openid, email
   */
  readonly webSignInScopes?: string[];
}

/** A reserved concurrency, or `"none"`: the account's unreserved pool. */
export type ReservedConcurrency = number | "none";

/** The functions' log levels a deployment may choose ("silent" is for tests). */
export type DeployedLogLevel = Exclude<LogLevel, "silent">;

/** Every setting's default. */
export const DEFAULT_SETTINGS: ReportRenderSettings = {
  memorySizeMb: 2048,
  httpTimeoutSeconds: 30,
  uploadTimeoutSeconds: 180,
  ephemeralStorageMb: 1024,
  httpReservedConcurrency: "none",
  uploadReservedConcurrency: "none",
  accountConcurrencyLimit: 1000,
  uploadMaxConcurrency: 10,
  batchLineMaxConcurrency: 50,
  maxReceiveCount: DEFAULTS.maxReceiveCount,
  outputExpirationDays: 30,
  uploadExpirationDays: 30,
  inputVersionExpirationDays: 30,
  accessLogExpirationDays: 90,
  logRetentionDays: 30,
  corsAllowedOrigins: [],
  throttlingRateLimit: 10,
  throttlingBurstLimit: 20,
  logLevel: "info",
  signing: false,
  bucketKmsKey: false,
  callbackAllowedHosts: [],
  webSignIn: false,
};

/** Lambda keeps this much of an account's concurrency unreserved, whatever functions reserve. */
const MIN_UNRESERVED_CONCURRENCY = 100;

/** API Gateway HTTP APIs end every integration at 30 s. */
const API_GATEWAY_TIMEOUT_SECONDS = 30;

type NumberKey = {
  [K in keyof ReportRenderSettings]-?: NonNullable<ReportRenderSettings[K]> extends number ? K : never;
}[keyof ReportRenderSettings];

/** Inclusive bounds of each number: Lambda's, SQS's and S3's own limits. */
const BOUNDS: Record<NumberKey, [number, number]> = {
  memorySizeMb: [1024, 10240],
  httpTimeoutSeconds: [10, API_GATEWAY_TIMEOUT_SECONDS],
  uploadTimeoutSeconds: [60, 900],
  ephemeralStorageMb: [512, 10240],
  accountConcurrencyLimit: [10, 1000000],
  uploadMaxConcurrency: [2, 1000],
  batchLineMaxConcurrency: [2, 1000],
  maxReceiveCount: [1, 1000],
  outputExpirationDays: [0, 36500],
  uploadExpirationDays: [0, 36500],
  inputVersionExpirationDays: [1, 36500],
  accessLogExpirationDays: [1, 36500],
  logRetentionDays: [1, 3653],
  throttlingRateLimit: [1, 100000],
  throttlingBurstLimit: [1, 100000],
};

const LOG_LEVELS: readonly DeployedLogLevel[] = ["debug", "info", "warn", "error"];

/** The settings that take a whole number or `"none"`. */
const RESERVED_CONCURRENCY_KEYS = ["httpReservedConcurrency", "uploadReservedConcurrency"] as const;

/** The settings that are lists (comma-separated, or JSON arrays). */
const LIST_KEYS = ["corsAllowedOrigins", "jwtAudience", "callbackAllowedHosts", "webSignInScopes"];

/** The context keys this app reads (each a key of ReportRenderSettings). */
const SETTING_KEYS = [
  ...Object.keys(BOUNDS),
  "corsAllowedOrigins",
  "jwtIssuer",
  "jwtAudience",
  "alarmEmail",
  "logLevel",
  "signing",
  "bucketKmsKey",
  "signingCertificate",
  ...RESERVED_CONCURRENCY_KEYS,
  "callbackAllowedHosts",
  "webSignIn",
  "webSignInDomainPrefix",
  "webSignInClientId",
  "webSignInAuthorizeUrl",
  "webSignInTokenUrl",
  "webSignInScopes",
];

/** Anything that answers `tryGetContext` (a construct's node). */
export interface ContextSource {
  /** The context value of `key`, or undefined when it has none. */
  tryGetContext(key: string): unknown;
}

/**
 * Settings from CDK context over the defaults. `-c key=value` gives strings, cdk.json gives JSON
 * values: numbers may be either, lists are JSON arrays or comma-separated strings.
 */
export function settingsFromContext(
  context: ContextSource,
  overrides: Partial<ReportRenderSettings> = {},
): ReportRenderSettings {
  const fromContext: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const raw = context.tryGetContext(key);
    if (raw === undefined || raw === null || raw === "") continue;
    fromContext[key] = parseValue(key, raw);
  }
  return resolveSettings({ ...(fromContext as Partial<ReportRenderSettings>), ...overrides });
}

/** Defaults filled in and every value checked; throws with the setting's name when one is wrong. */
export function resolveSettings(partial: Partial<ReportRenderSettings> = {}): ReportRenderSettings {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const settings: ReportRenderSettings = { ...DEFAULT_SETTINGS, ...defined };
  for (const [key, [min, max]] of Object.entries(BOUNDS) as [NumberKey, [number, number]][]) {
    const value = settings[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`setting ${key} must be a whole number from ${min} to ${max}, not ${String(value)}`);
    }
  }
  if (!Object.values(RetentionDays).includes(settings.logRetentionDays)) {
    const allowed = Object.values(RetentionDays).filter((d) => typeof d === "number" && d > 0);
    throw new Error(`setting logRetentionDays must be one of CloudWatch's retention periods (${allowed.join(", ")})`);
  }
  if (!LOG_LEVELS.includes(settings.logLevel)) {
    throw new Error(`setting logLevel must be one of ${LOG_LEVELS.join(", ")}, not ${String(settings.logLevel)}`);
  }
  if (settings.throttlingBurstLimit < settings.throttlingRateLimit) {
    throw new Error("setting throttlingBurstLimit must be at least throttlingRateLimit");
  }
  checkReservedConcurrency(settings);
  if (settings.signingCertificate !== undefined && !settings.signing) {
    throw new Error("setting signingCertificate needs signing=true");
  }
  for (const origin of settings.corsAllowedOrigins) {
    // An exact origin: scheme://host[:port], nothing after it. "*" would let any site call the API.
    if (!/^https?:\/\/[^/\s*]+$/.test(origin)) {
      throw new Error(`setting corsAllowedOrigins: "${origin}" is not an origin like https://portal.example.org`);
    }
  }
  const hasIssuer = settings.jwtIssuer !== undefined;
  const hasAudience = (settings.jwtAudience?.length ?? 0) > 0;
  if (hasIssuer !== hasAudience) throw new Error("settings jwtIssuer and jwtAudience go together: set both or neither");
  if (hasIssuer && !/^https:\/\/\S+$/.test(settings.jwtIssuer ?? "")) {
    throw new Error(`setting jwtIssuer must be an https:// URL, not "${settings.jwtIssuer}"`);
  }
  if (settings.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(settings.alarmEmail)) {
    throw new Error(`setting alarmEmail is not an e-mail address: "${settings.alarmEmail}"`);
  }
  for (const host of settings.callbackAllowedHosts) checkCallbackHost(host);
  checkWebSignIn(settings);
  return settings;
}

/**
 * Each reserved concurrency a whole number (never 0: that stops the function), the upload function's
 * enough for both of its queues, the HTTP function's enough for the API's burst, and the two together
 * leaving Lambda's minimum of the account unreserved.
 */
function checkReservedConcurrency(settings: ReportRenderSettings): void {
  const available = settings.accountConcurrencyLimit - MIN_UNRESERVED_CONCURRENCY;
  for (const key of RESERVED_CONCURRENCY_KEYS) {
    const value = settings[key];
    if (value === "none") continue;
    if (!Number.isInteger(value) || value < 1 || value > available) {
      throw new Error(
        `setting ${key} must be "none" or a whole number from 1 to ${available} ` +
          `(accountConcurrencyLimit ${settings.accountConcurrencyLimit} less the ${MIN_UNRESERVED_CONCURRENCY} Lambda keeps unreserved), not ${String(value)}`,
      );
    }
  }
  const { httpReservedConcurrency: http, uploadReservedConcurrency: upload } = settings;
  if (upload !== "none" && settings.uploadMaxConcurrency > upload) {
    throw new Error(
      "setting uploadMaxConcurrency must not exceed uploadReservedConcurrency (the queue would be throttled)",
    );
  }
  if (upload !== "none" && settings.uploadMaxConcurrency + settings.batchLineMaxConcurrency > upload) {
    throw new Error(
      "settings uploadMaxConcurrency + batchLineMaxConcurrency must not exceed uploadReservedConcurrency " +
        "(both queues invoke the upload function; past its reserved concurrency they would be throttled)",
    );
  }
  if (http !== "none" && http < settings.throttlingBurstLimit) {
    throw new Error(
      `setting httpReservedConcurrency (${http}) must be at least throttlingBurstLimit (${settings.throttlingBurstLimit}): ` +
        "requests the API lets through would be throttled by Lambda and answered 5xx",
    );
  }
  if (http !== "none" && upload !== "none" && http + upload > available) {
    throw new Error(
      `settings httpReservedConcurrency + uploadReservedConcurrency (${http + upload}) must leave ` +
        `${MIN_UNRESERVED_CONCURRENCY} of accountConcurrencyLimit (${settings.accountConcurrencyLimit}) unreserved`,
    );
  }
}

/** A DNS name (LDH labels) or an IPv4 address, then an optional port. */
const CALLBACK_HOST =
  /^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?::(\d{1,5}))?$/i;

function checkCallbackHost(host: string): void {
  const match = CALLBACK_HOST.exec(host);
  const port = match?.[1] === undefined ? undefined : Number(match[1]);
  const name = host.replace(/:\d+$/, "");
  if (!match || name.length > 253 || (port !== undefined && (port < 1 || port > 65535))) {
    throw new Error(
      `setting callbackAllowedHosts: "${host}" is not a host[:port] like hooks.example.org or hooks.example.org:8443`,
    );
  }
}

/** The OAuth scope-token of RFC 6749 §3.3. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** A Cognito domain prefix: lower-case letters, digits and hyphens, not these words. */
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const RESERVED_IN_DOMAIN_PREFIX = ["aws", "amazon", "cognito"];

/** The web sign-in settings: each only where it applies, each URL https. */
function checkWebSignIn(settings: ReportRenderSettings): void {
  const ownProvider = settings.jwtIssuer !== undefined;
  const given = (key: keyof ReportRenderSettings) => settings[key] !== undefined;
  const poolOnly = ["webSignInDomainPrefix"] as const;
  const providerOnly = ["webSignInClientId", "webSignInAuthorizeUrl", "webSignInTokenUrl"] as const;
  for (const key of [...poolOnly, ...providerOnly, "webSignInScopes"] as const) {
    if (given(key) && !settings.webSignIn) throw new Error(`setting ${key} needs webSignIn=true`);
  }
  if (!settings.webSignIn) return;
  for (const key of poolOnly) {
    if (given(key) && ownProvider) throw new Error(`setting ${key} is for the Cognito user pool: not with jwtIssuer`);
  }
  for (const key of providerOnly) {
    if (given(key) && !ownProvider)
      throw new Error(`setting ${key} is for the provider of jwtIssuer: set jwtIssuer too`);
  }
  const prefix = settings.webSignInDomainPrefix;
  if (
    prefix !== undefined &&
    (!DOMAIN_PREFIX.test(prefix) || RESERVED_IN_DOMAIN_PREFIX.some((word) => prefix.includes(word)))
  ) {
    throw new Error(
      `setting webSignInDomainPrefix must be 1–63 lower-case letters, digits and inner hyphens without ` +
        `${RESERVED_IN_DOMAIN_PREFIX.join(", ")}, not "${prefix}"`,
    );
  }
  const scopes = settings.webSignInScopes;
  if (scopes !== undefined) {
    const bad = scopes.find((scope) => !SCOPE.test(scope));
    if (bad !== undefined) throw new Error(`setting webSignInScopes: ${JSON.stringify(bad)} is not an OAuth scope`);
    if (!scopes.includes("openid")) throw new Error("setting webSignInScopes must include openid");
    const other = scopes.find((scope) => !WEB_SIGN_IN_POOL_SCOPE_CHOICES.includes(scope));
    if (!ownProvider && other !== undefined) {
      throw new Error(
        `setting webSignInScopes: the user pool gives ${WEB_SIGN_IN_POOL_SCOPE_CHOICES.join(", ")}, not "${other}"`,
      );
    }
  }
  if (!ownProvider) return;
  for (const key of ["webSignInAuthorizeUrl", "webSignInTokenUrl"] as const) {
    const url = settings[key];
    if (url === undefined) throw new Error(`setting ${key} is required with webSignIn and jwtIssuer`);
    if (!/^https:\/\/[^\s/?#]+[^\s#]*$/.test(url))
      throw new Error(`setting ${key} must be an https:// URL, not "${url}"`);
  }
  const audience = settings.jwtAudience ?? [];
  const clientId = settings.webSignInClientId;
  if (clientId === undefined && audience.length !== 1) {
    throw new Error("setting webSignInClientId is required when jwtAudience has more than one entry");
  }
  if (clientId !== undefined && !audience.includes(clientId)) {
    throw new Error(`setting webSignInClientId must be one of jwtAudience (the API takes no other), not "${clientId}"`);
  }
}

function parseValue(key: string, raw: unknown): unknown {
  // Scopes as OAuth writes them (space-separated) or as a list.
  if (key === "webSignInScopes") return list(key, raw).flatMap((scope) => scope.split(/\s+/));
  if (LIST_KEYS.includes(key)) return list(key, raw);
  if (key === "webSignIn" || key === "signing" || key === "bucketKmsKey") return flag(key, raw);
  if ((RESERVED_CONCURRENCY_KEYS as readonly string[]).includes(key)) {
    return typeof raw === "string" && raw.trim() === "none" ? "none" : number(key, raw);
  }
  if (key in BOUNDS) return number(key, raw);
  if (typeof raw !== "string") throw new Error(`setting ${key} must be a string, not ${JSON.stringify(raw)}`);
  return raw.trim();
}

function json(key: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`setting ${key} starts with "[" but is not a JSON list of strings: ${JSON.stringify(text)}`);
  }
}

function number(key: string, raw: unknown): number {
  const value = typeof raw === "string" ? Number(raw.trim()) : raw;
  if (typeof value !== "number" || Number.isNaN(value))
    throw new Error(`setting ${key} must be a number, not ${JSON.stringify(raw)}`);
  return value;
}

function flag(key: string, raw: unknown): boolean {
  if (typeof raw === "boolean") return raw;
  const text = String(raw).trim().toLowerCase();
  if (text === "true" || text === "false") return text === "true";
  throw new Error(`setting ${key} must be true or false, not ${JSON.stringify(raw)}`);
}

function list(key: string, raw: unknown): string[] {
  if (Array.isArray(raw) && raw.every((item) => typeof item === "string"))
    return raw.map((s) => s.trim()).filter(Boolean);
  if (typeof raw === "string") {
    const text = raw.trim();
    if (text.startsWith("[")) return list(key, json(key, text));
    return text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }
  throw new Error(`setting ${key} must be a list of strings, not ${JSON.stringify(raw)}`);
}
