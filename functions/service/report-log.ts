import type { RenderResult } from "../core/types.ts";

/** The template id of an input that may not even be an envelope, for logs before validation. */
export function templateIdOf(input: unknown): string | undefined {
  if (typeof input !== "object" || input === null || !("template" in input)) return undefined;
  return typeof input.template === "string" ? input.template.slice(0, 100) : undefined;
}

/** The fields every "rendered" log line carries: size and the duration of each step. */
export function renderedFields(
  result: RenderResult,
  extra: { downloadMs?: number; uploadMs?: number; totalMs?: number } = {},
) {
  const { validateMs, templateMs, chromiumMs, finalizeMs } = result.timings;
  return {
    pages: result.pages,
    bytes: result.bytes,
    sha256: result.sha256,
    warnings: result.warnings.length,
    durations: { ...extra, validateMs, templateMs, chromiumMs, finalizeMs },
  };
}
