import { type LogItem, type LogLevelThreshold, Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { ConstructorOptions } from "@aws-lambda-powertools/logger/types";
import type { Context } from "aws-lambda";
import type { LogFormat, LogLevel, ServiceConfig } from "./settings.ts";

/**
 * Structured logs through Powertools for AWS Lambda's Logger: one JSON object a line (`level`,
 * `message`, `timestamp`, `service`, and on Lambda the invocation's `function_request_id`,
 * `cold_start`, `function_name`…), which CloudWatch Logs Insights queries field by field. Every line
 * of one request or upload carries the same correlation fields (requestId, templateId…), added once
 * with `child()`. On a terminal the same lines can be written for people instead (`pretty`).
 */
export type LogFields = Record<string, unknown>;

/** Where finished lines go, one at a time, without their newline. */
export type LogWrite = (line: string) => void;

export interface LogOutput {
  format: LogFormat;
  write: LogWrite;
  /** LOG_LEVEL=silent: nothing is written, metric lines neither. */
  silent: boolean;
}

export class Logger extends PowertoolsLogger {
  // Unset while Powertools' constructor runs (it may print a warning of its own then).
  private output?: LogOutput;

  constructor(options: ConstructorOptions, output: LogOutput) {
    super(options);
    this.output = output;
  }

  /** A logger whose every line also carries `fields`. */
  child(fields: LogFields): Logger {
    return this.createChild({ persistentKeys: fields }) as Logger;
  }

  /**
   * The invocation's Lambda context on every line from now on (and on children made from now on).
   * A child is handed its parent's context with the cold start already decided: it keeps it, where a
   * new instance would claim a cold start of its own.
   */
  override addContext(context: Context | LambdaContextCopy): void {
    if ("coldStart" in context && typeof context.coldStart === "boolean") this.coldStart = context.coldStart;
    super.addContext(context);
  }

  /** An EMF metrics object (metrics.ts), written beside the log lines as CloudWatch expects it. */
  writeMetrics(emf: Record<string, unknown>): void {
    if (!this.output || this.output.silent) return;
    this.output.write(this.output.format === "pretty" ? prettyMetrics(emf) : JSON.stringify(emf));
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new Logger(options ?? {}, this.output ?? defaultOutput("json", false));
  }

  protected override printLog(level: number, log: LogItem): void {
    if (!this.output) {
      super.printLog(level, log);
      return;
    }
    log.prepareForPrint();
    const attributes = log.getAttributes();
    this.output.write(
      this.output.format === "pretty"
        ? prettyLine(attributes, (value) => JSON.stringify(value, this.getJsonReplacer()))
        : JSON.stringify(attributes, this.getJsonReplacer()),
    );
  }
}

/** What a child is handed: the parent's Lambda context as Powertools keeps it. */
interface LambdaContextCopy {
  functionName: string;
  memoryLimitInMB: string;
  functionVersion: string;
  invokedFunctionArn: string;
  awsRequestId: string;
  coldStart: boolean;
}

const LEVEL: Record<LogLevel, keyof typeof LogLevelThreshold> = {
  debug: "DEBUG",
  info: "INFO",
  warn: "WARN",
  error: "ERROR",
  silent: "SILENT",
};

/**
 * A logger at `level`. Lines go to `write` (tests collect them) or to stdout; as JSON, or `pretty`
 * when `format` says so (default: pretty when stdout is a terminal and nothing else is given).
 */
export function createLogger(
  level: LogLevel = "info",
  write?: LogWrite,
  options: { format?: LogFormat; serviceName?: string } = {},
): Logger {
  const format = options.format ?? (write === undefined && process.stdout.isTTY ? "pretty" : "json");
  const output: LogOutput = { ...defaultOutput(format, level === "silent"), ...(write ? { write } : {}) };
  return new Logger({ logLevel: LEVEL[level], serviceName: options.serviceName ?? "report-render" }, output);
}

/** The service's logger, as its settings say (LOG_LEVEL, LOG_FORMAT, POWERTOOLS_SERVICE_NAME). */
export function serviceLogger(config: Pick<ServiceConfig, "logLevel" | "logFormat" | "serviceName">): Logger {
  return createLogger(config.logLevel, undefined, { format: config.logFormat, serviceName: config.serviceName });
}

function defaultOutput(format: LogFormat, silent: boolean): LogOutput {
  // One stream, so lines keep their order; Lambda sends stdout and stderr to the same log alike.
  return { format, silent, write: (line) => process.stdout.write(`${line}\n`) };
}

/** Keys a person at a terminal does not need on every line. */
const QUIET = new Set(["level", "message", "timestamp", "service", "sampling_rate", "xray_trace_id"]);

/** `12:04:05.123 INFO  http.request method=POST status=200 durations={"totalMs":480}`, a stack below. */
function prettyLine(attributes: LogFields, json: (value: unknown) => string): string {
  const time = typeof attributes.timestamp === "string" ? attributes.timestamp.slice(11, 23) : "";
  const level = String(attributes.level ?? "").padEnd(5);
  const stacks: string[] = [];
  const fields = Object.entries(attributes)
    .filter(([key, value]) => !QUIET.has(key) && value !== undefined)
    .map(([key, value]) => {
      if (value instanceof Error) {
        stacks.push(value.stack ?? `${value.name}: ${value.message}`);
        return `${key}=${json(`${value.name}: ${value.message}`)}`;
      }
      return `${key}=${typeof value === "string" && /^[^\s"=]+$/.test(value) ? value : json(value)}`;
    });
  const line = [time, level, String(attributes.message ?? ""), ...fields].join(" ");
  return stacks.length === 0 ? line : [line, ...stacks.map((s) => s.replace(/^/gm, "    "))].join("\n");
}

/** `12:04:05.123 METRIC RenderDuration=480 Milliseconds Pages=7 Count step=validate`. */
function prettyMetrics(emf: Record<string, unknown>): string {
  const aws = emf._aws as {
    Timestamp: number;
    CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  const [directive] = aws.CloudWatchMetrics;
  const metrics = (directive?.Metrics ?? []).map((m) => `${m.Name}=${String(emf[m.Name])} ${m.Unit}`);
  const dimensions = (directive?.Dimensions[0] ?? [])
    .filter((d) => d !== "service")
    .map((d) => `${d}=${String(emf[d])}`);
  return [new Date(aws.Timestamp).toISOString().slice(11, 23), "METRIC", ...metrics, ...dimensions].join(" ");
}

/** Milliseconds since `start` (a performance.now() value), to one decimal. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}
