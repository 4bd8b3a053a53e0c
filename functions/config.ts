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
  logLevel: LogLevel;
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

const MB = 1024 * 1024;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const accessKeyId = env.S3_ACCESS_KEY_ID;
  const secretAccessKey = env.S3_SECRET_ACCESS_KEY;
  const endpoint = env.S3_ENDPOINT || undefined;
  return {
    inputBucket: env.INPUT_BUCKET || "report-render-input",
    outputBucket: env.OUTPUT_BUCKET || "report-render-output",
    s3: {
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
      endpoint,
      // S3-compatible servers on an IP address or localhost cannot serve bucket subdomains.
      forcePathStyle: flag(env, "S3_FORCE_PATH_STYLE", endpoint !== undefined),
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    },
    presignTtlSeconds: positive(env, "PRESIGN_TTL_SECONDS", 900),
    maxBodyBytes: positive(env, "MAX_BODY_BYTES", 5 * MB),
    maxUploadBytes: positive(env, "MAX_UPLOAD_BYTES", 50 * MB),
    maxBatchLines: whole(env, "MAX_BATCH_LINES", 1000),
    maxPages: whole(env, "MAX_PAGES", 500),
    maxJsonDepth: whole(env, "MAX_JSON_DEPTH", 64),
    maxJsonValues: whole(env, "MAX_JSON_VALUES", 100_000),
    renderConcurrency: whole(env, "RENDER_CONCURRENCY", 4),
    renderTimeoutMs: positive(env, "RENDER_TIMEOUT_MS", 50_000),
    syncRenderTimeoutMs: positive(env, "SYNC_RENDER_TIMEOUT_MS", 28_000),
    maxResponseBytes: positive(env, "MAX_RESPONSE_BYTES", 6 * MB),
    maxReceiveCount: whole(env, "MAX_RECEIVE_COUNT", 3),
    logLevel: logLevel(env.LOG_LEVEL),
  };
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

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error", "silent"];

function logLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === "") return "info";
  const level = LEVELS.find((l) => l === raw.toLowerCase());
  if (!level) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(", ")}, not "${raw}"`);
  return level;
}
