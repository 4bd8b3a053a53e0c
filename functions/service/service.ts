import { builtInTemplates } from "../../templates/index.ts";
import { createRenderer, type RenderLimits, type Renderer } from "../core/render.ts";
import { createLogger, type Logger, since } from "./log.ts";
import { producer } from "./version.ts";
import { type ServiceConfig, loadConfig } from "./settings.ts";
import { createStorage, type Storage } from "./storage/s3.ts";

/** What every handler is built from: settings, the render core, storage and a logger. Built once per process. */
export interface Service {
  config: ServiceConfig;
  renderer: Renderer;
  storage: Storage;
  log: Logger;
}

export function createService(config: ServiceConfig = loadConfig(), log?: Logger): Service {
  return {
    config,
    renderer: builtInRenderer(config),
    storage: createStorage(config.s3),
    log: log ?? createLogger(config.logLevel),
  };
}

/**
 * Start what a first render would otherwise wait for (Chromium inflated and launched, a warm page):
 * the Lambda entry points await it during the function's init phase. A failure is logged, not
 * thrown: the first render then tries again, and answers for itself.
 */
export async function warmUp(service: Service): Promise<void> {
  const started = performance.now();
  try {
    await service.renderer.warmUp();
    service.log.info("init.warmed_up", { durations: { warmUpMs: since(started) } });
  } catch (e) {
    service.log.warn("init.warm_up_failed", { error: e, durations: { warmUpMs: since(started) } });
  }
}

/** The render core with the built-in templates, the fonts, the concurrency and the browsers of `config`. */
export function builtInRenderer(config: ServiceConfig = loadConfig()): Renderer {
  return createRenderer({
    templates: builtInTemplates(config.runtimeRoot),
    packagesRoot: config.runtimeRoot,
    producer,
    concurrency: config.renderConcurrency,
    browsers: config.renderBrowsers,
    browserEnvironment: config.browserEnvironment,
  });
}

/** The render core's limits for an upload or a job (they may take the full render time). */
export function backgroundLimits(config: ServiceConfig): RenderLimits {
  const { maxPages, renderTimeoutMs, maxJsonDepth, maxJsonValues } = config;
  return { maxPages, renderTimeoutMs, maxJsonDepth, maxJsonValues };
}

/** The render core's limits for a synchronous request, which must answer before API Gateway gives up. */
export function requestLimits(config: ServiceConfig): RenderLimits {
  return { ...backgroundLimits(config), renderTimeoutMs: Math.min(config.renderTimeoutMs, config.syncRenderTimeoutMs) };
}
