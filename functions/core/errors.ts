import type { Issue } from "./types.ts";

/**
 * Why a request was refused. Entry points map the code to their own vocabulary
 * (HTTP 400/404/422, CLI exit 2); none of these is a server fault.
 */
export type InputErrorCode =
  | "invalid_json"
  | "invalid_envelope"
  | "unknown_template"
  | "invalid_data";

export class InputError extends Error {
  readonly code: InputErrorCode;
  readonly issues: Issue[];

  constructor(code: InputErrorCode, issues: Issue[], message?: string) {
    super(message ?? issues.map((i) => `${i.path || "/"}: ${i.message}`).join("; "));
    this.name = "InputError";
    this.code = code;
    this.issues = issues;
  }
}

/** A render that hit one of the service's limits (pages, time); the input itself may be fine. */
export class LimitError extends Error {
  readonly limit: "pages" | "renderTime" | "bodySize";
  constructor(limit: LimitError["limit"], message: string) {
    super(message);
    this.name = "LimitError";
    this.limit = limit;
  }
}
