import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { DEFAULTS, type LogLevel } from "../functions/service/settings.ts";

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
   * Reserved concurrency of the HTTP function.
   *
   * @default - none: the account's unreserved pool
   */
  readonly httpReservedConcurrency?: number;
  /**
   * Reserved concurrency of the upload function; at least `uploadMaxConcurrency` +
   * `batchLineMaxConcurrency`.
   *
   * @default - none: the account's unreserved pool
   */
  readonly uploadReservedConcurrency?: number;
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
}

/** The functions' log levels a deployment may choose ("silent" is for tests). */
export type DeployedLogLevel = Exclude<LogLevel, "silent">;

/** Every setting's default. */
export const DEFAULT_SETTINGS: ReportRenderSettings = {
  memorySizeMb: 2048,
  httpTimeoutSeconds: 30,
  uploadTimeoutSeconds: 180,
  ephemeralStorageMb: 1024,
  uploadMaxConcurrency: 10,
  batchLineMaxConcurrency: 50,
  maxReceiveCount: DEFAULTS.maxReceiveCount,
  outputExpirationDays: 30,
  inputVersionExpirationDays: 30,
  accessLogExpirationDays: 90,
  logRetentionDays: 30,
  corsAllowedOrigins: [],
  throttlingRateLimit: 10,
  throttlingBurstLimit: 20,
  logLevel: "info",
};

/** API Gateway HTTP APIs end every integration at 30 s. */
export const API_GATEWAY_TIMEOUT_SECONDS = 30;

type NumberKey = {
  [K in keyof ReportRenderSettings]-?: NonNullable<ReportRenderSettings[K]> extends number ? K : never;
}[keyof ReportRenderSettings];

/** Inclusive bounds of each number: Lambda's, SQS's and S3's own limits. */
const BOUNDS: Record<NumberKey, [number, number]> = {
  memorySizeMb: [1024, 10240],
  httpTimeoutSeconds: [10, API_GATEWAY_TIMEOUT_SECONDS],
  uploadTimeoutSeconds: [60, 900],
  ephemeralStorageMb: [512, 10240],
  httpReservedConcurrency: [1, 10000],
  uploadReservedConcurrency: [1, 10000],
  uploadMaxConcurrency: [2, 1000],
  batchLineMaxConcurrency: [2, 1000],
  maxReceiveCount: [1, 1000],
  outputExpirationDays: [0, 36500],
  inputVersionExpirationDays: [1, 36500],
  accessLogExpirationDays: [1, 36500],
  logRetentionDays: [1, 3653],
  throttlingRateLimit: [1, 100000],
  throttlingBurstLimit: [1, 100000],
};

const LOG_LEVELS: readonly DeployedLogLevel[] = ["debug", "info", "warn", "error"];

/** The context keys this app reads (each a key of ReportRenderSettings). */
export const SETTING_KEYS = [
  ...Object.keys(BOUNDS),
  "corsAllowedOrigins",
  "jwtIssuer",
  "jwtAudience",
  "alarmEmail",
  "logLevel",
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
  if (
    settings.uploadReservedConcurrency !== undefined &&
    settings.uploadMaxConcurrency > settings.uploadReservedConcurrency
  ) {
    throw new Error(
      "setting uploadMaxConcurrency must not exceed uploadReservedConcurrency (the queue would be throttled)",
    );
  }
  if (
    settings.uploadReservedConcurrency !== undefined &&
    settings.uploadMaxConcurrency + settings.batchLineMaxConcurrency > settings.uploadReservedConcurrency
  ) {
    throw new Error(
      "settings uploadMaxConcurrency + batchLineMaxConcurrency must not exceed uploadReservedConcurrency " +
        "(both queues invoke the upload function; past its reserved concurrency they would be throttled)",
    );
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
  return settings;
}

function parseValue(key: string, raw: unknown): unknown {
  if (key === "corsAllowedOrigins" || key === "jwtAudience") return list(key, raw);
  if (key in BOUNDS) {
    const value = typeof raw === "string" ? Number(raw.trim()) : raw;
    if (typeof value !== "number" || Number.isNaN(value))
      throw new Error(`setting ${key} must be a number, not ${JSON.stringify(raw)}`);
    return value;
  }
  if (typeof raw !== "string") throw new Error(`setting ${key} must be a string, not ${JSON.stringify(raw)}`);
  return raw.trim();
}

function list(key: string, raw: unknown): string[] {
  if (Array.isArray(raw) && raw.every((item) => typeof item === "string"))
    return raw.map((s) => s.trim()).filter(Boolean);
  if (typeof raw === "string") {
    const text = raw.trim();
    if (text.startsWith("[")) return list(key, JSON.parse(text) as unknown);
    return text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }
  throw new Error(`setting ${key} must be a list of strings, not ${JSON.stringify(raw)}`);
}
