import { readFileSync } from "node:fs";
import { availableParallelism, freemem, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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
  /** The folder holding templates/, the web page and the font and pdf.js packages (default: the source tree). */
  runtimeRoot: string;
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

const LEVELS: LogLevel[] = ["debug", "info", "warn", "error", "silent"];

function logLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === "") return "info";
  const level = LEVELS.find((l) => l === raw.toLowerCase());
  if (!level) throw new Error(`${ENV.logLevel} must be one of ${LEVELS.join(", ")}, not "${raw}"`);
  return level;
}
