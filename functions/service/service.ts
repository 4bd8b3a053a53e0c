import { builtInTemplates } from "../../templates/index.ts";
import { createRenderer, type PdfSigner, type RenderLimits, type Renderer } from "../core/render.ts";
import { chromiumLocator } from "./chromium.ts";
import { type Logger, serviceLogger, since } from "./log.ts";
import { createMetrics, type ServiceMetrics } from "./metrics.ts";
import { observedRenderer } from "./observed-renderer.ts";
import { producer } from "./version.ts";
import { configuredSigner } from "./signing/configured.ts";
import { type ServiceConfig, loadConfig } from "./settings.ts";
import { createStorage, type Storage } from "./storage/s3.ts";
import { createTemplateStore, type TemplateStore } from "./template-store.ts";
import { createTemplateFence, type TemplateFence } from "../packages/index.ts";
import type { TemplateResolver } from "../core/template/index.ts";

/** What every handler is built from: settings, the render core, storage and a logger. Built once per process. */
export interface Service {
  config: ServiceConfig;
  renderer: Renderer;
  storage: Storage;
  /** Published template packages, which the renderer finds by name beside the built-in templates. */
  templates: TemplateStore;
  /** The threads where packages are checked, validated and templated (never this event loop). */
  fence: TemplateFence;
  log: Logger;
  /** EMF metrics, written through `log`; a door flushes them at the end of each request or invocation. */
  metrics: ServiceMetrics;
}

export function createService(
  config: ServiceConfig = loadConfig(),
  log: Logger = serviceLogger(config),
  signer: PdfSigner | undefined = configuredSigner(config),
): Service {
  const metrics = createMetrics(config, log);
  const storage = createStorage(config.s3);
  const builtIn = builtInTemplates(config.runtimeRoot).map((t) => t.definition.id);
  const fence = createTemplateFence();
  const templates = createTemplateStore({ storage, bucket: config.inputBucket, builtIn, checkZip: fence.checkZip });
  return {
    config,
    renderer: observedRenderer(builtInRenderer(config, templates.resolve, log, signer), metrics),
    storage,
    templates,
    fence,
    log,
    metrics,
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

/**
 * The render core with the built-in templates, the fonts, the concurrency and the browsers of
 * `config`, and Chromium from the function's pack or the project's cache (chromium.ts; `log` is told
 * how long unpacking it took); `signer` signs `options.pdf.sign` renders (default: the KMS key of the
 * settings, if any: signing/configured.ts).
 */
export function builtInRenderer(
  config: ServiceConfig = loadConfig(),
  resolveTemplate?: TemplateResolver,
  log?: Logger,
  signer: PdfSigner | undefined = configuredSigner(config),
): Renderer {
  return createRenderer({
    templates: builtInTemplates(config.runtimeRoot),
    resolveTemplate,
    packagesRoot: config.runtimeRoot,
    producer,
    concurrency: config.renderConcurrency,
    browsers: config.renderBrowsers,
    browserEnvironment: config.browserEnvironment,
    chromium: chromiumLocator(config, log),
    signer,
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
