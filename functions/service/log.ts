import type { LogLevel } from "./settings.ts";

/**
 * Structured logs: one JSON object a line, which CloudWatch Logs Insights queries field by field.
 * Every line of one request or upload carries the same correlation fields (requestId, templateId…),
 * added once with `child()`.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogFields = Record<string, unknown>;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(
  level: LogLevel = "info",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  base: LogFields = {},
): Logger {
  const emit = (at: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) => {
    if (rank[at] < rank[level]) return;
    write(JSON.stringify({ level: at, time: new Date().toISOString(), msg, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

/** Errors serialize as {} by default; log their name, message and stack (logs are for operators). */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** Milliseconds since `start` (a performance.now() value), to one decimal. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}
