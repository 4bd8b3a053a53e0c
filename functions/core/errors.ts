import type { Issue } from "./types.ts";

/**
 * Why a request was refused. Entry points map the code to their own vocabulary
 * (HTTP 400/404/415/422, CLI exit 2); none of these is a server fault.
 */
export type InputErrorCode =
  | "invalid_json"
  | "invalid_envelope"
  | "unknown_template"
  | "invalid_data"
  /** `options` is well-formed but cannot be honoured (e.g. margins that leave no room for content). */
  | "invalid_options";

/**
 * An error list is cut to this many entries wherever it is stored or sent (answers, error files,
 * job states, batch summaries), with the number left out in `truncated`: one careless input must not
 * make a 100 MB answer, and the first errors are what a person fixes first.
 */
export const MAX_LISTED_ISSUES = 100;

export class InputError extends Error {
  readonly code: InputErrorCode;
  /** The first MAX_LISTED_ISSUES issues, in the order found. */
  readonly issues: Issue[];
  /** How many more issues there were (0: the list is complete). */
  readonly truncated: number;

  constructor(code: InputErrorCode, issues: Issue[], message?: string) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES);
    super(
      message ??
        listed
          .slice(0, 10)
          .map((i) => `${i.path || "/"}: ${i.message}`)
          .join("; "),
    );
    this.name = "InputError";
    this.code = code;
    this.issues = listed;
    this.truncated = issues.length - listed.length;
  }
}

/**
 * A render that hit one of the service's limits. Pages and time: the input itself may be fine.
 * The rest: the input is too large or too complex to be worth starting on.
 */
type LimitKind =
  | "pages"
  | "renderTime"
  | "bodySize"
  | "batchLines"
  | "jsonDepth"
  | "jsonValues"
  /** A published template's blocks run too many times, or make too much HTML, for its data. */
  | "templateWork";

export class LimitError extends Error {
  readonly limit: LimitKind;
  /** Where in the input the limit was passed (a JSON Pointer), when one place is to blame. */
  readonly path: string;
  constructor(limit: LimitKind, message: string, path = "") {
    super(message);
    this.name = "LimitError";
    this.limit = limit;
    this.path = path;
  }
}
