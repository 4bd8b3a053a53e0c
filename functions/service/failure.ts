import { InputError, LimitError, MAX_LISTED_ISSUES } from "../core/errors.ts";
import type { Issue } from "../core/types.ts";
import { MAX_MESSAGE, MAX_QUOTED, shorten } from "../packages/problems.ts";
import { TemplateConflict, TemplateRefused } from "./template-store.ts";

/**
 * Why a report was refused, in the one vocabulary every door uses: the HTTP status and body of the
 * endpoint, and the content of `<path>.error.json`, a failed job and a batch summary line.
 */
export interface Failure {
  status: number;
  body: FailureBody;
}

export interface FailureBody {
  error: FailureCode;
  message: string;
  /** For a template package, `path` is the file and `line`/`column` where in it (1-based). */
  errors: (Issue & { line?: number; column?: number })[];
  /** How many more errors there were than `errors` lists (it stops at the first 100). */
  truncated?: number;
  /** With `unknown_template`: the templates there are. */
  templates?: string[];
  /** In an HTTP answer: the request's id, as its `x-request-id` header and its log lines have it. */
  requestId?: string;
}

export type FailureCode =
  | InputError["code"]
  | "body_too_large"
  | "too_complex"
  | "page_limit"
  | "render_timeout"
  | "invalid_template"
  | "template_conflict"
  | "internal";

const inputStatus: Record<InputError["code"], number> = {
  invalid_json: 400,
  invalid_envelope: 400,
  unknown_template: 404,
  invalid_data: 422,
  invalid_options: 422,
};

const limitFailure: Record<LimitError["limit"], [FailureCode, number]> = {
  bodySize: ["body_too_large", 413],
  batchLines: ["body_too_large", 413],
  jsonDepth: ["too_complex", 422],
  jsonValues: ["too_complex", 422],
  templateWork: ["too_complex", 422],
  pages: ["page_limit", 422],
  renderTime: ["render_timeout", 422],
};

/** The failure for a refused input or a limit; undefined for anything else (a fault of ours). */
export function describeFailure(e: unknown): Failure | undefined {
  const failure = describeRefusal(e);
  return failure && { status: failure.status, body: boundedBody(failure.body) };
}

function describeRefusal(e: unknown): Failure | undefined {
  if (e instanceof InputError) {
    const body: FailureBody = { error: e.code, message: summary(e, e.issues), errors: e.issues };
    if (e.truncated > 0) body.truncated = e.truncated;
    // The core names the templates it knows as what it expected.
    const known = e.issues[0]?.expected;
    if (e.code === "unknown_template" && Array.isArray(known)) body.templates = known.map(String);
    return { status: inputStatus[e.code], body };
  }
  if (e instanceof LimitError) {
    const [error, status] = limitFailure[e.limit];
    return {
      status,
      body: { error, message: e.message, errors: [{ rule: `limit.${e.limit}`, path: e.path, message: e.message }] },
    };
  }
  if (e instanceof TemplateRefused) return templateRefusal(e);
  if (e instanceof TemplateConflict) {
    return { status: 409, body: { error: "template_conflict", message: e.message, errors: [] } };
  }
  return undefined;
}

/** A template package's problems (functions/packages/): 413 for a zip too large to read, 422 otherwise. */
function templateRefusal(e: TemplateRefused): Failure {
  const tooLarge = e.problems.find((p) => p.rule === "zip-too-large");
  if (tooLarge) {
    return { status: 413, body: { error: "body_too_large", message: tooLarge.message, errors: [] } };
  }
  const errors = e.problems.slice(0, MAX_LISTED_ISSUES).map((p) => ({
    rule: p.rule,
    path: p.file,
    ...(p.line === undefined ? {} : { line: p.line }),
    ...(p.column === undefined ? {} : { column: p.column }),
    message: p.message,
  }));
  const first = errors[0];
  const where = first ? `${first.path}${first.line === undefined ? "" : `:${first.line}`}: ${first.message}` : "";
  const body: FailureBody = {
    error: "invalid_template",
    message: `the template package has ${e.problems.length} ${e.problems.length === 1 ? "problem" : "problems"}${where ? `: ${where}` : ""}`,
    errors,
  };
  if (e.problems.length > errors.length) body.truncated = e.problems.length - errors.length;
  return { status: 422, body };
}

/**
 * The most bytes a refusal's body has as JSON: refusals stay under 64 KB, with room for the
 * request's id and what a job state or a batch summary adds around them.
 */
export const MAX_FAILURE_BYTES = 56 * 1024;

/**
 * `body` within MAX_FAILURE_BYTES whatever the input: what it quotes (paths, names, values) is
 * shortened, a value too large to quote is left out, and errors past what fits are counted in
 * `truncated` (the first ones are what a person fixes first).
 */
export function boundedBody(body: FailureBody): FailureBody {
  const errors = (Array.isArray(body.errors) ? body.errors : []).map(boundedIssue);
  const bounded: FailureBody = { ...body, message: clip(body.message, MAX_MESSAGE), errors: [] };
  const room = MAX_FAILURE_BYTES - jsonBytes({ ...bounded, truncated: Number.MAX_SAFE_INTEGER });
  let used = 0;
  let kept = 0;
  for (const error of errors) {
    used += jsonBytes(error) + 1; // and its comma
    if (used > room) break;
    kept++;
  }
  bounded.errors = errors.slice(0, kept);
  const left = (body.truncated ?? 0) + errors.length - kept;
  if (left > 0) bounded.truncated = left;
  return bounded;
}

type ListedIssue = FailureBody["errors"][number];

function boundedIssue(issue: ListedIssue): ListedIssue {
  const { expected, actual, ...rest } = issue;
  const bounded: ListedIssue = {
    ...rest,
    path: clip(issue.path, MAX_QUOTED),
    message: clip(issue.message, MAX_MESSAGE),
  };
  const shownExpected = quotable(expected);
  if (shownExpected !== undefined) bounded.expected = shownExpected;
  const shownActual = quotable(actual);
  if (shownActual !== undefined) bounded.actual = shownActual;
  return bounded;
}

/** A text shortened to `max` characters; anything else (a body not of ours) as it is. */
function clip<T>(value: T, max: number): T {
  return (typeof value === "string" ? shorten(value, max) : value) as T;
}

/** A value as an error quotes it: a text shortened, anything else whole if it is small, else not at all. */
function quotable(value: unknown): unknown {
  if (typeof value === "string") return shorten(value, MAX_QUOTED);
  return value === undefined || jsonBytes(value) > MAX_QUOTED * 4 ? undefined : value;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}

/** What is said when the service itself failed: no stack, no internals, the id to look it up by. */
export function internalFailure(requestId: string): Failure {
  const message = `the report could not be rendered because of an error in the service (request ${requestId}); try again later`;
  return { status: 500, body: { error: "internal", message, errors: [] } };
}

export function bodyTooLarge(bytes: number, limit: number): LimitError {
  return new LimitError("bodySize", `the input is ${bytes} bytes; the limit is ${limit} bytes`);
}

function summary(e: InputError, issues: Issue[]): string {
  const first = issues[0];
  const count = issues.length + e.truncated;
  const lead = {
    invalid_json: "the body is not JSON",
    invalid_envelope: "the body is not a { template, data, options } envelope",
    unknown_template: "no such template",
    invalid_data: `the data does not fit the template (${count} ${count === 1 ? "error" : "errors"})`,
    invalid_options: "the options cannot be honoured",
  }[e.code];
  if (!first) return lead;
  return `${lead}: ${first.path ? `${first.path} ` : ""}${first.message}`;
}
