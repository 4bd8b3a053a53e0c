/**
 * Every S3 key the service reads or writes is named here, and nowhere else.
 *
 * Input bucket:
 *   incoming/<path>.json      one envelope        → output <path>.pdf, <path>.result.json | <path>.error.json
 *   incoming/<batch>.jsonl    one envelope a line → output <batch>/<n>.pdf (n = line number, from 1),
 *                                                   <batch>.summary.json
 *   jobs/<id>.json            a POST /v1/jobs request → output jobs/<id>/status.json, jobs/<id>/<filename>
 * Output bucket, besides the above:
 *   renders/<sha256>/<filename>   PDFs of POST /v1/render that are handed out by presigned URL
 *
 * `jobs/` and `renders/` in the output bucket belong to the service, so an upload whose outputs would
 * land there (incoming/jobs/…, incoming/renders/…) is ignored rather than allowed to overwrite them.
 */

export const INCOMING_PREFIX = "incoming/";
export const JOBS_PREFIX = "jobs/";
export const RENDERS_PREFIX = "renders/";
const RESERVED_OUTPUT_PREFIXES = [JOBS_PREFIX, RENDERS_PREFIX];

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
  /** `<batch>`: the folder the line PDFs go into. */
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

/** What an object in the input bucket is, and where its outputs go. */
export function classifyInputKey(key: string): InputObject {
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
  if (RESERVED_OUTPUT_PREFIXES.some((prefix) => `${path}/`.startsWith(prefix))) {
    return { kind: "ignored", inputKey: key, reason: `its outputs would be under the service's own ${path.split("/")[0]}/` };
  }
  if (match[2] === "jsonl") {
    return { kind: "batch", inputKey: key, batch: path, summaryKey: `${path}.summary.json` };
  }
  return {
    kind: "report",
    inputKey: key,
    pdfKey: `${path}.pdf`,
    resultKey: `${path}.result.json`,
    errorKey: `${path}.error.json`,
  };
}

/** Line `line` (from 1) of a batch. */
export function batchLinePdfKey(batch: string, line: number): string {
  return `${batch}/${line}.pdf`;
}

/** The line number if `key` is one of `batch`'s line PDFs. */
export function batchLineOf(batch: string, key: string): number | undefined {
  const match = /^(\d+)\.pdf$/.exec(key.startsWith(`${batch}/`) ? key.slice(batch.length + 1) : "");
  return match?.[1] ? Number(match[1]) : undefined;
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

/** S3 event notifications carry keys URL-encoded with spaces as `+`. */
export function decodeEventKey(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, " "));
}

/** The inverse, for the local server's event adapter: what S3 would put in a notification. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+");
}
