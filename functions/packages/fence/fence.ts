import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { declaredFaces, marginBoxText } from "../../core/html/index.ts";
import type { TemplateSource } from "../../core/template/index.ts";
import { defaultPackageLimits } from "../limits.ts";
import type { ReadResult } from "../package-files.ts";
import { type FenceRunner, type PackageCheck, type PackageParts, packageSource } from "../package-source.ts";
import type { FencedParts } from "../package-source.ts";
import {
  type CheckedFiles,
  type ErrorDescription,
  type FenceTask,
  type RenderAnswer,
  rebuildError,
  tooMuchWork,
  type ValidateAnswer,
} from "./protocol.ts";
import { createWorkerPool, TaskCrashed, TaskFailed, TaskTimeout, threadLimits } from "./worker-pool.ts";

/**
 * The fence around template packages. A package is code in all but name: its Handlebars runs loops
 * and partials over the data, its schema runs regular expressions over it, its zip and files are
 * parsed. All of that runs on a few worker threads (worker.ts), each with a heap of its own and a
 * time limit per task; a task that passes either has its thread terminated and is refused as too
 * complex (too_complex), and the service's event loop answers other requests meanwhile.
 *
 *   const fence = createTemplateFence();
 *   const checked = await fence.check(await readPackageDir(dir));   // or fence.checkZip(bytes)
 *   if (checked.ok) createRenderer({ templates: [checked.package.source], … });
 */

export interface TemplateFenceOptions {
  /** Threads at most, each started on first need (default 2). */
  threads?: number;
  /** Heap of each thread, MB (default 256): a package that needs more is refused. */
  heapMb?: number;
  /** Time one task may take, ms (default 10 s): templating that takes longer is refused. */
  timeoutMs?: number;
}

export interface TemplateFence {
  /** A package read from a folder (readPackageDir), checked in a thread. */
  check(read: ReadResult, signal?: AbortSignal): Promise<PackageCheck>;
  /** A zip read (within defaultPackageLimits) and checked in a thread (LimitError "templateWork" when its example is too much work). */
  checkZip(zip: Uint8Array, signal?: AbortSignal): Promise<PackageCheck>;
  /**
   * A package's source without its checks, for tests and tools that check elsewhere: its schema and
   * templating still run in the threads, and the rules for its HTML (fence/output-policy.ts) still
   * judge every render.
   */
  uncheckedSource(parts: UncheckedParts): TemplateSource;
  /** Ends the threads (a closed fence refuses new work). */
  close(): Promise<void>;
}

/** A package's parts as a test writes them: what the check would find is worked out (or left empty). */
export type UncheckedParts = Omit<PackageParts, "uses" | "assetPixels" | "assetUrls" | "cssFound"> &
  Partial<Pick<PackageParts, "uses" | "assetUrls">>;

export function createTemplateFence(options: TemplateFenceOptions = {}): TemplateFence {
  const heapMb = options.heapMb ?? 256;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const resourceLimits = threadLimits(heapMb);
  const pool = createWorkerPool({ size: options.threads ?? 2, start: () => startThread(resourceLimits) });

  async function run<T>(task: FenceTask, signal?: AbortSignal): Promise<T> {
    const transfer = task.kind === "check-zip" ? [task.zip.buffer as ArrayBuffer] : [];
    try {
      return await pool.run<T>(task, { timeoutMs, signal, transfer });
    } catch (e) {
      // What worker.ts answers a failure with: always describeError's.
      if (e instanceof TaskFailed) throw rebuildError(e.error as ErrorDescription);
      if (e instanceof TaskTimeout) throw tooMuchWork(`it ran longer than ${timeoutMs / 1000} s`);
      if (e instanceof TaskCrashed && e.outOfMemory) throw tooMuchWork(`it needed more than ${heapMb} MB`);
      throw e;
    }
  }

  /** Asks again with the package when the thread has not got it (it was started since, or let it go). */
  async function withPackage<T extends object>(
    task: (parts?: FencedParts) => FenceTask,
    parts: FencedParts,
    signal: AbortSignal,
  ): Promise<Exclude<T, { missing: true }>> {
    const first = await run<T>(task(), signal);
    const answer = "missing" in first ? await run<T>(task(parts), signal) : first;
    if ("missing" in answer) throw new Error("the fence thread did not take the package");
    return answer as Exclude<T, { missing: true }>;
  }

  const runner: FenceRunner = {
    async validate(key, parts, data, signal) {
      const answer = await withPackage<ValidateAnswer>(
        (p) => ({ kind: "validate", key, parts: p, data }),
        parts,
        signal,
      );
      return answer.issues;
    },
    async render(key, parts, data, signal) {
      const answer = await withPackage<RenderAnswer>((p) => ({ kind: "render", key, parts: p, data }), parts, signal);
      return answer.body;
    },
  };

  const checked = (result: CheckedFiles): PackageCheck => {
    if (!result.ok) return result;
    const { manifest, parts, digest, zip } = result;
    const source: TemplateSource = packageSource(parts, { key: digest, runner });
    return { ok: true, package: { manifest, source, digest, example: parts.example, zip } };
  };

  return {
    async check(read, signal) {
      const files = [...read.files];
      return checked(await run<CheckedFiles>({ kind: "check-files", files, problems: read.problems }, signal));
    },
    async checkZip(zip, signal) {
      // The bytes move to the thread: a copy, so the caller's buffer stays whole.
      const copy = new Uint8Array(zip);
      const task: FenceTask = { kind: "check-zip", zip: copy, limits: defaultPackageLimits };
      return checked(await run<CheckedFiles>(task, signal));
    },
    uncheckedSource(parts) {
      const text = [parts.template, ...Object.values(parts.partials)].join("");
      const full: PackageParts = {
        uses: { chart: text.includes("chart"), qrcode: text.includes("qrcode") },
        assetUrls: [],
        ...parts,
        assetPixels: 0,
        cssFound: { marginText: marginBoxText(parts.css, ""), faces: declaredFaces(parts.css) },
      };
      return packageSource(full, { key: `unchecked:${randomUUID()}`, runner });
    },
    close: () => pool.close(),
  };
}

/**
 * A thread runs fence-worker.mjs when the code that starts it is a bundle with it beside (dist/ of
 * the CLI, a Lambda function's asset: bin/build-fence-worker.js), and otherwise worker.ts from the
 * source tree, through tsx (npm start, the tests).
 */
function startThread(resourceLimits: ReturnType<typeof threadLimits>): Worker {
  const bundled = new URL("./fence-worker.mjs", import.meta.url);
  if (existsSync(fileURLToPath(bundled))) return new Worker(bundled, { resourceLimits });
  return new Worker(new URL("./worker-from-source.mjs", import.meta.url), { resourceLimits, execArgv: [] });
}
