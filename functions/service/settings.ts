import { readFileSync } from "node:fs";
import { availableParallelism, freemem, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CallbackSettings, callbackSettings } from "./callbacks/callback-settings.ts";
import { parseSubject } from "./signing/subject.ts";

/**
 * The service's settings, read once from the environment with a default for each, so a handler
 * never reads process.env itself. `npm start` and the tests build one with overrides instead.
 */
export interface ServiceConfig {
  /** Uploads (`incoming/…`) and job requests (`jobs/…`) land here. */
  inputBucket: string;
  /** PDFs, result/error/summary files and job state go here. */
  outputBucket: string;
  s3: S3Config;
  /** How long a presigned download URL stays valid (default 15 min). */
  presignTtlSeconds: number;
  /** A request body, an uploaded JSON file or one JSONL line larger than this is refused (default 5 MB). */
  maxBodyBytes: number;
  /** An uploaded JSONL batch larger than this is refused as a whole (default 50 MB). */
  maxUploadBytes: number;
  /** Lines of a JSONL batch rendered at most; later lines are reported as refused (default 1000). */
  maxBatchLines: number;
  /** Pages per report (default 500). */
  maxPages: number;
  /** Arrays and objects nested deeper than this in one envelope are refused (default 64). */
  maxJsonDepth: number;
  /** Values (strings, numbers, arrays, objects…) in one envelope at most (default 100,000). */
  maxJsonValues: number;
  /** Renders printing at once in one process; later ones wait their turn (default 4). */
  renderConcurrency: number;
  /**
   * Chromium processes in one process's pool (default: from the machine, see defaultBrowsers); the
   * renders in flight at once are spread over them, and the second starts only when needed.
   */
  renderBrowsers: number;
  /** Chromium time per report (default 50 s). */
  renderTimeoutMs: number;
  /**
   * Chromium time for a synchronous `POST /v1/render` (default 28 s): an API Gateway HTTP API gives up
   * on its integration after 30 s, so a longer report must go through `POST /v1/jobs` instead.
   */
  syncRenderTimeoutMs: number;
  /**
   * The largest response the HTTP handler returns inline (default 6 MB: Lambda's buffered payload
   * limit). A PDF is sent base64-encoded, so it fits when its base64 form plus headroom does.
   */
  maxResponseBytes: number;
  /**
   * SQS delivery attempts before a message goes to the dead-letter queue (default 3, as the stack
   * sets it). On the last attempt an unexpected failure is written as the error file or job state,
   * so no upload or job stays unanswered.
   */
  maxReceiveCount: number;
  /**
   * The SQS queue a batch's lines are sent to, one message a line, so that many invocations render
   * them at once (the stack names it; the upload function consumes it). Unset where no batch is
   * split through SQS: `npm start` sends them to its in-process queue instead.
   */
  batchLineQueueName?: string;
  logLevel: LogLevel;
  /** How log lines are written: `json` (one object a line) or `pretty`; absent: pretty on a terminal, else JSON. */
  logFormat?: LogFormat;
  /** The `service` of every log line, metric and trace (default "report-render"). */
  serviceName: string;
  /** The CloudWatch namespace of the EMF metrics (default "ReportRender"). */
  metricsNamespace: string;
  /** Whether EMF metric lines are written (default true; they go to the log output). */
  metricsEnabled: boolean;
  /** Whether X-Ray traces are recorded (default true; only ever on Lambda, never locally or in tests). */
  traceEnabled: boolean;
  /** The web page's sign-in (an OpenID provider, the page's public client); absent: the page signs nobody in. */
  webSignIn?: WebSignInSettings;
  /** Job callbacks (functions/service/callbacks/): the hosts they may go to, the key that signs them. */
  callback: CallbackSettings;
  /** The folder holding templates/, the web page and the font and pdf.js packages (default: the source tree). */
  runtimeRoot: string;
  /** Who signs `options.pdf.sign` renders (functions/service/signing/). */
  signing: SigningSettings;
  /** `npm start` only: where it listens and keeps its S3 data. */
  local: LocalSettings;
  /**
   * The variables Chromium inherits from the process (PATH, TMPDIR, LD_LIBRARY_PATH, TZ): what it
   * needs to start, and none of the service's settings or credentials.
   */
  browserEnvironment: Record<string, string>;
  /**
   * Whether this is Amazon Linux 2023 (Lambda's nodejs20.x–24.x runtimes, CodeBuild's images), which
   * lacks libraries Chromium needs: it then gets the ones its pack carries (LD_LIBRARY_PATH first).
   */
  amazonLinux: boolean;
}

/** What the web page needs to sign its user in: authorization code flow with PKCE, from the browser. */
export interface WebSignInSettings {
  /** The provider's issuer URL, exactly as its ID tokens name it (`iss`). */
  issuer: string;
  /** The page's client id (a public client: no secret). */
  clientId: string;
  authorizeUrl: string;
  tokenUrl: string;
  /** The scopes the page asks for; `openid` among them. */
  scopes: string[];
}

export interface SigningSettings {
  /** The KMS key that signs (the stack's, with `signing` on); absent: no KMS signing. */
  kmsKeyId?: string;
  /** Its certificate chain, PEM, the signer's certificate first (bundled with the function). */
  certificateFile?: string;
  /** The subject of the self-signed certificate `npm start` makes, RFC 4514 ("CN=…,O=…,C=CN"). */
  subject: string;
  /** The CLI's `--sign-p12` file's password (never on the command line, where `ps` shows it to everyone). */
  p12Password?: string;
}

export interface LocalSettings {
  /** HTTP port on 127.0.0.1 (default 3000; 0 picks a free one). */
  port: number;
  /** S3 port on 127.0.0.1 (default 4569; 0 picks a free one). */
  s3Port: number;
  /** The embedded S3 server's folder (default ./.data). */
  dataDir: string;
}

export interface S3Config {
  region: string;
  /** Set for s3rver or another S3-compatible server; absent on AWS. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Absent on AWS: the SDK's default chain (the function's role) provides credentials. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export type LogFormat = "json" | "pretty";

const MB = 1024 * 1024;

/**
 * The repository this module is in: where templates/ and node_modules are when run from source or
 * from the CLI's bundle (dist/cli.mjs). Found by looking upward from this module for the package.json
 * named "report-render", so it does not depend on how deep the module sits; only asked when
 * REPORT_RENDER_ROOT is not set.
 */
let foundSourceRoot: string | undefined;

function sourceRoot(): string {
  foundSourceRoot ??= findSourceRoot();
  return foundSourceRoot;
}

function findSourceRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (packageName(join(dir, "package.json")) === "report-render") return dir;
    if (dirname(dir) === dir) return join(here, "..", "..");
  }
}

function packageName(file: string): unknown {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}

/**
 * Every environment variable the functions read, by setting. The stack (infra/) sets the functions'
 * environment with these same names, so a rename cannot leave the two out of step.
 */
export const ENV = {
  inputBucket: "INPUT_BUCKET",
  outputBucket: "OUTPUT_BUCKET",
  s3Endpoint: "S3_ENDPOINT",
  s3ForcePathStyle: "S3_FORCE_PATH_STYLE",
  s3AccessKeyId: "S3_ACCESS_KEY_ID",
  s3SecretAccessKey: "S3_SECRET_ACCESS_KEY",
  presignTtlSeconds: "PRESIGN_TTL_SECONDS",
  maxBodyBytes: "MAX_BODY_BYTES",
  maxUploadBytes: "MAX_UPLOAD_BYTES",
  maxBatchLines: "MAX_BATCH_LINES",
  maxPages: "MAX_PAGES",
  maxJsonDepth: "MAX_JSON_DEPTH",
  maxJsonValues: "MAX_JSON_VALUES",
  renderConcurrency: "RENDER_CONCURRENCY",
  renderBrowsers: "RENDER_BROWSERS",
  renderTimeoutMs: "RENDER_TIMEOUT_MS",
  syncRenderTimeoutMs: "SYNC_RENDER_TIMEOUT_MS",
  maxResponseBytes: "MAX_RESPONSE_BYTES",
  maxReceiveCount: "MAX_RECEIVE_COUNT",
  batchLineQueueName: "BATCH_LINE_QUEUE_NAME",
  logLevel: "LOG_LEVEL",
  logFormat: "LOG_FORMAT",
  /** Powertools for AWS Lambda's own names (its logger, metrics and tracer read them too). */
  serviceName: "POWERTOOLS_SERVICE_NAME",
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
  metricsDisabled: "POWERTOOLS_METRICS_DISABLED",
  traceEnabled: "POWERTOOLS_TRACE_ENABLED",
  /** The web page's sign-in: all five, or none (the stack sets them with webSignIn=true). */
  webSignInIssuer: "WEB_SIGN_IN_ISSUER",
  webSignInClientId: "WEB_SIGN_IN_CLIENT_ID",
  webSignInAuthorizeUrl: "WEB_SIGN_IN_AUTHORIZE_URL",
  webSignInTokenUrl: "WEB_SIGN_IN_TOKEN_URL",
  webSignInScopes: "WEB_SIGN_IN_SCOPES",
  /** Job callbacks: `host[:port]` list; the signing key (local) or its Secrets Manager secret (AWS). */
  callbackAllowedHosts: "CALLBACK_ALLOWED_HOSTS",
  callbackSecret: "CALLBACK_SECRET",
  callbackSecretArn: "CALLBACK_SECRET_ARN",
  /** Signing: the KMS key and its certificate chain (PEM file), `npm start`'s subject, the CLI's PKCS#12 password. */
  signKmsKeyId: "SIGN_KMS_KEY_ID",
  signCertificateFile: "SIGN_CERTIFICATE_FILE",
  signSubject: "SIGN_SUBJECT",
  signP12Password: "SIGN_P12_PASSWORD",
  /** Where templates/ and the fonts are (a Lambda bundle sets it); default: the source tree. */
  runtimeRoot: "REPORT_RENDER_ROOT",
  /** `npm start` only: the HTTP port, the S3 port, the S3 data folder. */
  port: "PORT",
  s3Port: "S3_PORT",
  dataDir: "DATA_DIR",
} as const;

/** The process environment Chromium may see. */
const BROWSER_INHERITS = ["PATH", "TMPDIR", "LD_LIBRARY_PATH", "TZ"];

/** The default of each numeric setting (the stack derives its limits from the same numbers). */
export const DEFAULTS = {
  presignTtlSeconds: 900,
  maxBodyBytes: 5 * MB,
  maxUploadBytes: 50 * MB,
  maxBatchLines: 1000,
  maxPages: 500,
  maxJsonDepth: 64,
  maxJsonValues: 100_000,
  renderConcurrency: 4,
  renderTimeoutMs: 50_000,
  syncRenderTimeoutMs: 28_000,
  maxResponseBytes: 6 * MB,
  maxReceiveCount: 3,
} as const;

/**
 * The settings from `env`, each checked: a value that is not what its setting takes (e.g.
 * RENDER_CONCURRENCY=abc) throws at start-up with the variable's name, rather than lifting a limit
 * or hanging renders later.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const accessKeyId = env[ENV.s3AccessKeyId];
  const secretAccessKey = env[ENV.s3SecretAccessKey];
  const endpoint = env[ENV.s3Endpoint] || undefined;
  const count = (key: keyof typeof DEFAULTS) => atMost(key, whole(env, ENV[key], DEFAULTS[key]));
  const amount = (key: keyof typeof DEFAULTS) => atMost(key, positive(env, ENV[key], DEFAULTS[key]));
  return {
    inputBucket: env[ENV.inputBucket] || "report-render-input",
    outputBucket: env[ENV.outputBucket] || "report-render-output",
    s3: {
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
      endpoint,
      // S3-compatible servers on an IP address or localhost cannot serve bucket subdomains.
      forcePathStyle: flag(env, ENV.s3ForcePathStyle, endpoint !== undefined),
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    },
    presignTtlSeconds: count("presignTtlSeconds"),
    maxBodyBytes: count("maxBodyBytes"),
    maxUploadBytes: count("maxUploadBytes"),
    maxBatchLines: count("maxBatchLines"),
    maxPages: count("maxPages"),
    maxJsonDepth: count("maxJsonDepth"),
    maxJsonValues: count("maxJsonValues"),
    renderConcurrency: count("renderConcurrency"),
    renderBrowsers: whole(env, ENV.renderBrowsers, defaultBrowsers()),
    renderTimeoutMs: amount("renderTimeoutMs"),
    syncRenderTimeoutMs: amount("syncRenderTimeoutMs"),
    maxResponseBytes: count("maxResponseBytes"),
    maxReceiveCount: count("maxReceiveCount"),
    batchLineQueueName: env[ENV.batchLineQueueName] || undefined,
    logLevel: logLevel(env[ENV.logLevel]),
    logFormat: logFormat(env[ENV.logFormat]),
    serviceName: env[ENV.serviceName] || "report-render",
    metricsNamespace: env[ENV.metricsNamespace] || "ReportRender",
    metricsEnabled: !flag(env, ENV.metricsDisabled, false),
    traceEnabled: flag(env, ENV.traceEnabled, true),
    webSignIn: webSignIn(env),
    callback: callbackSettings(env, {
      allowedHosts: ENV.callbackAllowedHosts,
      secret: ENV.callbackSecret,
      secretArn: ENV.callbackSecretArn,
    }),
    signing: signing(env),
    runtimeRoot: env[ENV.runtimeRoot] || sourceRoot(),
    local: {
      port: tcpPort(env, ENV.port, 3000),
      s3Port: tcpPort(env, ENV.s3Port, 4569),
      dataDir: env[ENV.dataDir] || ".data",
    },
    browserEnvironment: Object.fromEntries(
      BROWSER_INHERITS.flatMap((name) => (env[name] ? [[name, env[name] as string]] : [])),
    ),
    amazonLinux: onAmazonLinux2023(env),
  };
}

/** @sparticuz/chromium's test (isRunningInAmazonLinux2023) on the same AWS variables, e.g. AWS_Lambda_nodejs22.x. */
function onAmazonLinux2023(env: NodeJS.ProcessEnv): boolean {
  const runtime = `${env.AWS_EXECUTION_ENV ?? ""} ${env.AWS_LAMBDA_JS_RUNTIME ?? ""}`;
  return /(20|22|24)\.x/.test(runtime) || /nodejs(20|22|24)/.test(env.CODEBUILD_BUILD_IMAGE ?? "");
}

/** The signing settings; a subject that is no distinguished name stops the service at start-up. */
function signing(env: NodeJS.ProcessEnv): SigningSettings {
  const subject = env[ENV.signSubject] || "CN=report-render (npm start),O=report-render";
  try {
    parseSubject(subject);
  } catch (e) {
    throw new Error(`${ENV.signSubject}: ${(e as Error).message}`);
  }
  return {
    kmsKeyId: env[ENV.signKmsKeyId] || undefined,
    certificateFile: env[ENV.signCertificateFile] || undefined,
    subject,
    p12Password: env[ENV.signP12Password],
  };
}

/** Memory one Chromium of the pool is budgeted: the browser, its warm pages and a large render. */
const BROWSER_BUDGET = 700 * MB;

/**
 * RENDER_BROWSERS' default: a browser per core, as many as the memory free now holds at
 * BROWSER_BUDGET each, at least 1: max(1, min(cores, ⌊memory / 700 MB⌋)), where cores is
 * os.availableParallelism() and memory is os.freemem() (Linux's MemAvailable) capped by the
 * process's cgroup limit when it has one (process.constrainedMemory()). On Lambda the memory setting
 * decides both: 2048 MB gives 2 vCPUs and about 1.9 GB free at start-up, so 2 (1 below 1400 MB
 * free); 1769 MB or less gives 1 vCPU, so 1.
 */
export function defaultBrowsers(machine: { cores: number; freeBytes: number } = currentMachine()): number {
  return Math.max(1, Math.min(machine.cores, Math.floor(machine.freeBytes / BROWSER_BUDGET)));
}

function currentMachine(): { cores: number; freeBytes: number } {
  const limit = process.constrainedMemory?.() ?? 0;
  const freeBytes = limit > 0 && limit < totalmem() ? Math.min(freemem(), limit) : freemem();
  return { cores: availableParallelism(), freeBytes };
}

/** A config with some settings replaced (`s3` merged), for the local server and tests. */
export function withOverrides(base: ServiceConfig, overrides: ConfigOverrides = {}): ServiceConfig {
  return { ...base, ...overrides, s3: { ...base.s3, ...overrides.s3 } };
}

export type ConfigOverrides = Partial<Omit<ServiceConfig, "s3">> & { s3?: Partial<S3Config> };

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  // A typo in a limit must stop the service at start-up, not silently lift the limit.
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

function tcpPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new Error(`${name} must be a port (0–65535), not "${raw}"`);
  return value;
}

/**
 * Upper bounds where a larger value would not lift a limit but break the service: Node's timers fire
 * at once past 2³¹−1 ms, S3 presigns for 7 days at most, and recursive validation needs a floor.
 */
const MAXIMA: Partial<Record<keyof typeof DEFAULTS, number>> = {
  renderTimeoutMs: 2_147_483_647,
  syncRenderTimeoutMs: 2_147_483_647,
  presignTtlSeconds: 604_800,
  maxJsonDepth: 256,
};

function atMost(key: keyof typeof DEFAULTS, value: number): number {
  const max = MAXIMA[key];
  if (max !== undefined && value > max) throw new Error(`${ENV[key]} must be at most ${max}, not ${value}`);
  return value;
}

/** A count: a positive whole number. */
function whole(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = positive(env, name, fallback);
  if (!Number.isInteger(value)) throw new Error(`${name} must be a whole number, not "${env[name]}"`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const lower = raw.toLowerCase();
  if (["1", "true", "yes"].includes(lower)) return true;
  if (["0", "false", "no"].includes(lower)) return false;
  throw new Error(`${name} must be true or false, not "${raw}"`);
}

const WEB_SIGN_IN_NAMES = [
  ENV.webSignInIssuer,
  ENV.webSignInClientId,
  ENV.webSignInAuthorizeUrl,
  ENV.webSignInTokenUrl,
  ENV.webSignInScopes,
];

/**
 * The page's sign-in, all or nothing (half a configuration would offer a sign-in that cannot work).
 * The page sends its user's browser to these URLs and trusts what comes back, so each must be https
 * (plain http only on loopback, for a provider on the same machine) and the scopes RFC 6749 tokens.
 */
function webSignIn(env: NodeJS.ProcessEnv): WebSignInSettings | undefined {
  const missing = WEB_SIGN_IN_NAMES.filter((name) => !env[name]);
  if (missing.length === WEB_SIGN_IN_NAMES.length) return undefined;
  if (missing.length)
    throw new Error(
      `${missing.join(", ")} must be set too: the web page's sign-in needs all of ${WEB_SIGN_IN_NAMES.join(", ")}`,
    );
  const clientId = env[ENV.webSignInClientId] as string;
  if (!/^[\x21-\x7e]{1,256}$/.test(clientId))
    throw new Error(`${ENV.webSignInClientId} must be 1–256 visible ASCII characters, not "${clientId.slice(0, 100)}"`);
  const raw = env[ENV.webSignInScopes] as string;
  const scopes = raw.trim().split(/ +/);
  const bad = scopes.find((scope) => !/^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/.test(scope));
  if (bad !== undefined)
    throw new Error(`${ENV.webSignInScopes} must be scopes separated by spaces, not "${raw.slice(0, 200)}"`);
  if (!scopes.includes("openid"))
    throw new Error(`${ENV.webSignInScopes} must include openid, not "${raw.slice(0, 200)}"`);
  return {
    issuer: signInUrl(env, ENV.webSignInIssuer, false),
    clientId,
    authorizeUrl: signInUrl(env, ENV.webSignInAuthorizeUrl, true),
    tokenUrl: signInUrl(env, ENV.webSignInTokenUrl, true),
    scopes: [...new Set(scopes)],
  };
}

/** An absolute https URL (http on loopback) with no credentials or fragment; an issuer takes no query either. */
function signInUrl(env: NodeJS.ProcessEnv, name: string, query: boolean): string {
  const raw = env[name] as string;
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url?.hostname ?? "");
  const fine =
    url &&
    /^[\x21-\x7e]+$/.test(raw) && // URL parsing would drop tabs and newlines: refused, not mended
    (url.protocol === "https:" || (url.protocol === "http:" && loopback)) &&
    !url.username &&
    !url.password &&
    !url.hash &&
    !raw.includes("#") &&
    (query || !url.search);
  if (!fine)
    throw new Error(
      `${name} must be an https URL${query ? "" : " with no query"} and no credentials or fragment (http only on loopback), not "${raw.slice(0, 200)}"`,
    );
  // The issuer is compared with ID tokens' `iss` as written; the endpoints are used as URLs.
  return query ? url.href : raw;
}

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error", "silent"];

function logLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === "") return "info";
  const level = LEVELS.find((l) => l === raw.toLowerCase());
  if (!level) throw new Error(`${ENV.logLevel} must be one of ${LEVELS.join(", ")}, not "${raw}"`);
  return level;
}

const FORMATS: LogFormat[] = ["json", "pretty"];

function logFormat(raw: string | undefined): LogFormat | undefined {
  if (raw === undefined || raw === "") return undefined;
  const format = FORMATS.find((f) => f === raw.toLowerCase());
  if (!format) throw new Error(`${ENV.logFormat} must be one of ${FORMATS.join(", ")}, not "${raw}"`);
  return format;
}
