import type { Renderer } from "../core/render.ts";
import type { ServiceMetrics } from "./metrics.ts";
import { tracer } from "./tracing.ts";

/**
 * The render core, its renders measured: every PDF made, by any door, is counted with its steps'
 * durations, pages and bytes (metrics.ts) and traced as a `render` subsegment (tracing.ts).
 */
export function observedRenderer(renderer: Renderer, metrics: ServiceMetrics): Renderer {
  return {
    ...renderer,
    async render(input, run) {
      const span = tracer().render();
      try {
        const result = await renderer.render(input, run);
        metrics.rendered(result);
        span.end(result);
        return result;
      } catch (e) {
        span.end(undefined, e);
        throw e;
      }
    },
  };
}
