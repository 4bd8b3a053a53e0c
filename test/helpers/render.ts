import { defaultLimits, type RenderLimits, type RenderRun } from "../../functions/core/render.ts";
import { builtInRenderer } from "../../functions/service/service.ts";
import { loadConfig } from "../../functions/service/settings.ts";

/** The render core as the doors build it: the built-in templates, fonts from the repository. */
export const renderer = builtInRenderer(loadConfig());

export function renderReport(input: unknown, limits: RenderLimits = defaultLimits, run: RenderRun = {}) {
  return renderer.render(input, { ...run, limits });
}

export function validateReport(input: unknown, limits: RenderLimits = defaultLimits) {
  return renderer.validate(input, limits);
}

/** Closes the shared renderer's browsers (a test file that used it leaves the process as it found it). */
export function closeRenderer(): Promise<void> {
  return renderer.close();
}
