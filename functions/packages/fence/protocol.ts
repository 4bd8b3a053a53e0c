import { InputError, type InputErrorCode, LimitError } from "../../core/errors.ts";
import type { TemplateBody } from "../../core/template/index.ts";
import type { Issue } from "../../core/types.ts";
import type { PackageLimits } from "../limits.ts";
import type { PackageManifest } from "../manifest.ts";
import type { PackageParts } from "../package-source.ts";
import type { PackageProblem } from "../problems.ts";
import type { FencedParts } from "../package-source.ts";

/** What the service asks of a fence thread (worker.ts), and what it answers. */
export type FenceTask =
  | { kind: "check-zip"; zip: Uint8Array; limits: PackageLimits }
  | { kind: "check-files"; files: [string, Uint8Array][]; problems: PackageProblem[] }
  /** `parts` only when the thread said it did not have the package `key` (it keeps the 32 last used). */
  | { kind: "validate"; key: string; parts?: FencedParts; data: unknown }
  | { kind: "render"; key: string; parts?: FencedParts; data: object };

/** A package read and checked: every problem, or what it is made of. */
export type CheckedFiles =
  | { ok: false; problems: PackageProblem[] }
  | { ok: true; manifest: PackageManifest; parts: PackageParts; digest: string; zip: Uint8Array };

export type ValidateAnswer = { issues: Issue[] } | { missing: true };
export type RenderAnswer = { body: TemplateBody } | { missing: true };

/** An error, as it crosses from a thread to the service (classes do not survive the trip). */
export type ErrorDescription =
  | { type: "input"; code: InputErrorCode; issues: Issue[]; truncated: number; message: string }
  | { type: "limit"; limit: LimitError["limit"]; message: string; path: string }
  | { type: "error"; message: string };

/** A package refused for the work it would take (too_complex): `what` says which budget it passed. */
export function tooMuchWork(what: string): LimitError {
  return new LimitError("templateWork", `the template is too much work for this data: ${what}`);
}

export function describeError(e: unknown): ErrorDescription {
  if (e instanceof InputError) {
    return { type: "input", code: e.code, issues: e.issues, truncated: e.truncated, message: e.message };
  }
  if (e instanceof LimitError) return { type: "limit", limit: e.limit, message: e.message, path: e.path };
  return { type: "error", message: e instanceof Error ? e.message : String(e) };
}

export function rebuildError(d: ErrorDescription): Error {
  switch (d.type) {
    case "input": {
      const error = new InputError(d.code, d.issues, d.message);
      // The thread listed the first issues; how many it left out is its count, not this one's.
      Object.defineProperty(error, "truncated", { value: d.truncated });
      return error;
    }
    case "limit":
      return new LimitError(d.limit, d.message, d.path);
    default:
      return new Error(d.message);
  }
}
