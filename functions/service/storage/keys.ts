import { createHash } from "node:crypto";

/**
 * Every S3 key the service reads or writes is named here, and nowhere else.
 *
 * Input bucket:
 *   incoming/<path>.json      one envelope        → output <path>.pdf, <path>.result.json | <path>.error.json
 *   incoming/<batch>.jsonl    one envelope a line → output batches/<batch>/<n>.pdf (n = line number, from 1),
 *                                                   <batch>.summary.json
 *   jobs/<id>.json            a POST /v1/jobs request → output jobs/<id>/status.json, jobs/<id>/<filename>
 * Output bucket, besides the above:
 *   renders/<sha256>/<filename>   PDFs of POST /v1/render that are handed out by presigned URL
 *   batch-runs/<h>/run.json       a batch's current run: its id, the input version, each line's byte range
 *   batch-runs/<h>/<run>/<n>.json line n's outcome in that run (h: sha256 of <batch>; never read by clients)
 *
 * No two inputs share an output key:
 * - `jobs/`, `renders/`, `batches/` and `batch-runs/` in the output bucket belong to the service, so an
 *   upload whose outputs would land there (incoming/jobs/…, incoming/renders/…, incoming/batches/…,
 *   incoming/batch-runs/…) is ignored rather than allowed to overwrite them. A batch's line PDFs are under `batches/` for that reason:
 *   `incoming/a.jsonl` and `incoming/a/1.json` would otherwise both write `a/1.pdf`.
 * - A single upload's outputs end in `.pdf`, `.result.json` or `.error.json`, and a batch summary in
 *   `.summary.json`: stripping the suffix gives back the one input path they came from, so a summary
 *   can stay beside the batch's name (`<batch>.summary.json`) without a single upload ever reaching it.
 * - A key that S3 would take literally but people, tools or file systems would not (`.` or `..`
 *   segments, empty segments, control characters), or whose outputs would pass S3's 1024-byte key
 *   limit, is ignored with its reason: it is never turned into an output key.
 */

export const INCOMING_PREFIX = "incoming/";
export const JOBS_PREFIX = "jobs/";
export const RENDERS_PREFIX = "renders/";
const BATCHES_PREFIX = "batches/";
const BATCH_RUNS_PREFIX = "batch-runs/";
/** Published template packages, in the input bucket (functions/service/template-store.ts). */
export const TEMPLATES_PREFIX = "templates/";
const RESERVED_OUTPUT_PREFIXES = [JOBS_PREFIX, RENDERS_PREFIX, BATCHES_PREFIX, BATCH_RUNS_PREFIX];

/** S3's longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

export type InputObject = ReportUpload | BatchUpload | JobRequest | IgnoredObject;

export interface ReportUpload {
  kind: "report";
  inputKey: string;
  pdfKey: string;
  resultKey: string;
  errorKey: string;
}

export interface BatchUpload {
  kind: "batch";
  inputKey: string;
  /** `<batch>`: the line PDFs go into batches/<batch>/. */
  batch: string;
  summaryKey: string;
}

export interface JobRequest {
  kind: "job";
  inputKey: string;
  jobId: string;
}

export interface IgnoredObject {
  kind: "ignored";
  inputKey: string;
  reason: string;
}

/** What an object in the input bucket is, and where its outputs go. The one place output keys are decided. */
export function classifyInputKey(key: string): InputObject {
  const unsafe = unsafeKeyReason(key);
  if (unsafe) return { kind: "ignored", inputKey: key, reason: unsafe };
  if (key.startsWith(JOBS_PREFIX)) {
    const jobId = key.slice(JOBS_PREFIX.length).replace(/\.json$/, "");
    if (key.endsWith(".json") && isJobId(jobId)) return { kind: "job", inputKey: key, jobId };
    return { kind: "ignored", inputKey: key, reason: "not a job request (jobs/<uuid>.json)" };
  }
  if (!key.startsWith(INCOMING_PREFIX)) {
    return { kind: "ignored", inputKey: key, reason: `outside ${INCOMING_PREFIX} and ${JOBS_PREFIX}` };
  }
  const rest = key.slice(INCOMING_PREFIX.length);
  // <path> must name a file: "incoming/.json" and "incoming/dir/.json" name none.
  const match = /^(.*[^/])\.(json|jsonl)$/.exec(rest);
  const path = match?.[1];
  if (!match || !path) {
    return { kind: "ignored", inputKey: key, reason: "not a .json or .jsonl file" };
  }
  // "incoming/a/..json" has no dot segment, but its outputs would ("a/..pdf").
  const unsafePath = unsafeKeyReason(path);
  if (unsafePath) return { kind: "ignored", inputKey: key, reason: unsafePath };
  if (RESERVED_OUTPUT_PREFIXES.some((prefix) => path.startsWith(prefix))) {
    return {
      kind: "ignored",
      inputKey: key,
      reason: `its outputs would be under the service's own ${path.split("/")[0]}/`,
    };
  }
  const target: ReportUpload | BatchUpload =
    match[2] === "jsonl"
      ? { kind: "batch", inputKey: key, batch: path, summaryKey: `${path}.summary.json` }
      : {
          kind: "report",
          inputKey: key,
          pdfKey: `${path}.pdf`,
          resultKey: `${path}.result.json`,
          errorKey: `${path}.error.json`,
        };
  const longest = Math.max(...outputKeysOf(target).map((k) => Buffer.byteLength(k, "utf8")));
  if (longest > MAX_KEY_BYTES) {
    return {
      kind: "ignored",
      inputKey: key,
      reason: `its outputs' keys would be up to ${longest} bytes long; S3 allows ${MAX_KEY_BYTES}`,
    };
  }
  return target;
}

/**
 * Why a key must not be turned into output keys, or undefined if it may: S3 takes any key literally,
 * but `a/../b` or `a//b` mean something else to the people, tools and file systems that see it
 * (s3rver stores objects as files; `aws s3 sync` writes them to disk), and a control character in a
 * key breaks logs, listings and Content-Disposition.
 */
function unsafeKeyReason(key: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const control = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.exec(key);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    return `the key contains the control character U+${code}`;
  }
  // Windows tools read a backslash as a folder separator: "a\..\x" is a path out of "a" there.
  const segments = key.split(/[/\\]/);
  if (segments.some((s) => s === "")) return "the key has an empty path segment (// or a leading or trailing /)";
  const dots = segments.find((s) => s === "." || s === "..");
  if (dots) return `the key has a "${dots}" path segment`;
  return undefined;
}

/**
 * Every key an upload may write, the longest a batch line could have included (line numbers stop
 * far below 10^16: a batch is capped at MAX_BATCH_LINES lines, and a file at MAX_UPLOAD_BYTES).
 */
function outputKeysOf(target: ReportUpload | BatchUpload): string[] {
  if (target.kind === "report") return [target.pdfKey, target.resultKey, target.errorKey];
  return [target.summaryKey, batchLinePdfKey(target.batch, Number.MAX_SAFE_INTEGER)];
}

/** The folder of a batch's line PDFs (in the output bucket). */
export function batchLinesPrefix(batch: string): string {
  return `${BATCHES_PREFIX}${batch}/`;
}

/** Line `line` (from 1) of a batch. */
export function batchLinePdfKey(batch: string, line: number): string {
  return `${batchLinesPrefix(batch)}${line}.pdf`;
}

/** The line number if `key` is one of `batch`'s line PDFs (batches/<batch>/<n>.pdf), and nothing else. */
export function batchLineOf(batch: string, key: string): number | undefined {
  const prefix = batchLinesPrefix(batch);
  const match = /^([1-9]\d*)\.pdf$/.exec(key.startsWith(prefix) ? key.slice(prefix.length) : "");
  return match?.[1] ? Number(match[1]) : undefined;
}

/**
 * A batch's run state lives under batch-runs/<sha256 of the batch>/: a fixed-length folder, so no
 * batch's folder is a prefix of another's and the keys stay short however long the batch's name.
 */
export function batchRunsFolder(batch: string): string {
  return `${BATCH_RUNS_PREFIX}${createHash("sha256").update(batch, "utf8").digest("hex")}/`;
}

/** The batch's current run (which one, of which input version, each line's byte range). */
export function batchRunKey(batch: string): string {
  return `${batchRunsFolder(batch)}run.json`;
}

/** The folder of one run's line results. */
export function batchRunResultsPrefix(batch: string, runId: string): string {
  return `${batchRunsFolder(batch)}${runId}/`;
}

/** Line `line`'s outcome in run `runId`. */
export function batchLineResultKey(batch: string, runId: string, line: number): string {
  return `${batchRunResultsPrefix(batch, runId)}${line}.json`;
}

/** The line number if `key` is a line result of that run, and nothing else. */
export function batchLineResultOf(batch: string, runId: string, key: string): number | undefined {
  const prefix = batchRunResultsPrefix(batch, runId);
  const match = /^([1-9]\d*)\.json$/.exec(key.startsWith(prefix) ? key.slice(prefix.length) : "");
  return match?.[1] ? Number(match[1]) : undefined;
}

/** A published template's index (its versions, the latest, a withdrawal). `id` is a checked package id. */
export function templateIndexKey(id: string): string {
  return `${TEMPLATES_PREFIX}${id}/index.json`;
}

/** A published template's package, as published. */
export function templateZipKey(id: string, version: string): string {
  return `${TEMPLATES_PREFIX}${id}/${version}.zip`;
}

export function jobRequestKey(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}.json`;
}

export function jobStatusKey(jobId: string): string {
  return `${JOBS_PREFIX}${jobId}/status.json`;
}

export function jobPdfKey(jobId: string, filename: string): string {
  return `${JOBS_PREFIX}${jobId}/${filename}`;
}

/** Content-addressed: the same report rendered twice is stored once. */
export function renderPdfKey(sha256: string, filename: string): string {
  return `${RENDERS_PREFIX}${sha256}/${filename}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isJobId(id: string): boolean {
  return UUID.test(id);
}

/** A batch run's id: a UUID too, so it is one fixed-length key segment. */
export function isRunId(id: string): boolean {
  return UUID.test(id);
}

/** S3 event notifications carry keys URL-encoded with spaces as `+`. */
export function decodeEventKey(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, " "));
}

/** The inverse, for the local server's event adapter: what S3 would put in a notification. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+");
}
