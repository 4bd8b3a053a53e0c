import { createHash } from "node:crypto";
import { parseEnvelope } from "./input/index.ts";
import { InputError, LimitError, MAX_LISTED_ISSUES } from "./errors.ts";
import { safeFileName } from "./input/index.ts";
import { defaultLimits, type RenderLimits } from "./input/index.ts";
import { pageBoxIssues } from "./html/index.ts";
import { pdfOptionIssues } from "./input/index.ts";
import { encryptPdf } from "./secure/index.ts";
import { encryptOptionIssues } from "./secure/index.ts";
import type { PdfSigner } from "./secure/index.ts";
import { finalizePdf } from "./archival/index.ts";
import { canonicalJson, sourceJson, withoutPasswords } from "./archival/index.ts";
import {
  type BundledFonts,
  buildDocument,
  bundledFonts,
  type DocumentParts,
  headingTexts,
  toHtml,
} from "./html/index.ts";
import { countPages } from "./pdf/index.ts";
import { fillPageNumbers, pageRefTargets } from "./page-refs/index.ts";
import { numberPageRefs, PAGE_REF_DIGITS, pageRefIds, reservePageRefs } from "./page-refs/index.ts";
import { packStructure } from "./pdf/index.ts";
import { RawPdf } from "./pdf/index.ts";
import { type BrowserPool, type ChromiumLocator, createBrowserPool, printPdf } from "./browser/index.ts";
import {
  createTemplateRegistry,
  load,
  type LoadedTemplate,
  type TemplateRegistry,
  type TemplateResolver,
  type TemplateSource,
} from "./template/index.ts";
import type { Envelope, Issue, RenderResult } from "./types.ts";
import { checkSchema } from "./input/index.ts";

export { defaultLimits, type RenderLimits } from "./input/index.ts";
export type { ChromiumLocator } from "./browser/index.ts";
export type { PdfSigner } from "./secure/index.ts";

/** How one render is run. */
export interface RenderRun {
  /** What it may cost (default: defaultLimits). */
  limits?: RenderLimits;
  /** Aborts it (the caller has gone): the work stops and frees its page. */
  signal?: AbortSignal;
  /**
   * Render with this template, whatever the envelope names (e.g. a template package being checked
   * before it is published); it is loaded for this render only.
   */
  template?: TemplateSource;
}

export interface RendererOptions {
  /** The templates it renders: built-in ones and published packages alike. */
  templates: readonly TemplateSource[];
  /** A folder whose node_modules holds the bundled font packages. */
  packagesRoot: string;
  /** Written into every PDF as /Producer and /Creator, e.g. "report-render 1.2.0". */
  producer: string;
  /** Renders printing at once in this process (default 4), across all its browsers; later ones wait their turn. */
  concurrency?: number;
  /**
   * Chromium processes at most (default 1), each with one renderer thread: renders in flight at once
   * are spread over them. The second and later start only when that many renders are in flight at once.
   */
  browsers?: number;
  /**
   * Variables Chromium inherits (e.g. PATH, TMPDIR, LD_LIBRARY_PATH, TZ); nothing else of the
   * process environment reaches it. Default: none.
   */
  browserEnvironment?: Readonly<Record<string, string>>;
  /**
   * Where Chromium is: asked before each browser launches, it gives the binary (unpacking it first if
   * need be) and the variables it needs. Default: @sparticuz/chromium's own, inflated into the temp folder.
   */
  chromium?: ChromiumLocator;
  /**
   * Where templates not in `templates` are found (published template packages, e.g. from S3): asked
   * for the envelope's `template` when no template handed in has that id. Default: none.
   */
  resolveTemplate?: TemplateResolver;
  /** Who signs when a render asks for `options.pdf.sign`. Default: none (such renders are refused, 422). */
  signer?: PdfSigner;
}

/**
 * The render core, as every door uses it (CLI, HTTP, upload, local server): JSON in, PDF out.
 * It knows nothing of HTTP, S3, the environment or which templates exist: all of that is handed in.
 */
export interface Renderer {
  readonly templates: TemplateRegistry;
  /** Envelope → PDF (see renderReport). */
  render(input: unknown, run?: RenderRun): Promise<RenderResult>;
  /** Everything render checks before it renders (see validateReport). */
  validate(input: unknown, limits?: RenderLimits): Promise<Validated>;
  /**
   * Do now what a first render would otherwise wait for (e.g. in Lambda's init phase): start Chromium
   * with a warm page, load the templates handed in and compile their schemas, and print once.
   */
  warmUp(): Promise<void>;
  /** Its own Chromium processes (tests and benches look at them; nothing else shares them). */
  readonly browsers: BrowserPool;
  /** Closes its browsers (and no other renderer's); a render after this launches new ones. */
  close(): Promise<void>;
}

/**
 * A renderer and everything it holds: its templates, its fonts, its browsers. Two renderers in one
 * process share nothing (each its own settings and Chromium processes); closing one closes its own.
 */
export function createRenderer(options: RendererOptions): Renderer {
  const templates = createTemplateRegistry(options.templates, options.resolveTemplate);
  const fonts = bundledFonts(options.packagesRoot);
  const browsers = createBrowserPool({
    concurrency: options.concurrency ?? 4,
    browsers: options.browsers,
    environment: options.browserEnvironment,
    chromium: options.chromium,
    fonts,
  });
  const parts: RendererParts = { templates, fonts, browsers, producer: options.producer, signer: options.signer };
  return {
    templates,
    browsers,
    close: () => browsers.close(),
    render: (input, run = {}) => renderReport(parts, input, run),
    validate: async (input, limits = defaultLimits) => {
      const { signal, dispose } = deadlineSignal(limits.renderTimeoutMs, undefined);
      try {
        return await validateReport(templates, input, limits, options.signer, signal);
      } finally {
        dispose();
      }
    },
    warmUp: () => warmUpRenderer(parts),
  };
}

/**
 * A first render pays for Chromium's launch and warm page, its template's loading and schema
 * compilation (~0.15 s), and Chromium's first print (~0.25 s): all of it done here instead.
 */
async function warmUpRenderer({ templates, browsers }: RendererParts): Promise<void> {
  await browsers.warmUp();
  for (const id of templates.ids()) checkSchema(templates.get(id).schema, null);
  const doc = {
    lang: "zh-CN",
    title: "warm-up",
    css: "",
    body: "<p style=\"font-family: 'Noto Serif SC'\">第 1 页</p>",
  };
  await printPdf(browsers, doc, { signal: AbortSignal.timeout(30_000), maxPages: 1 });
}

export interface Validated {
  envelope: Envelope;
  template: LoadedTemplate;
  /** What rendering would carry as warnings: rule failures options.validation = "warn" lets through, text repairs. */
  warnings: Issue[];
}

/**
 * Everything renderReport checks before it renders, and nothing more: the input's size and depth,
 * the envelope, the options, the template and the data. Throws the same errors renderReport would;
 * returns the warnings that rendering would carry (rule failures that options.validation = "warn"
 * lets through, text repairs). POST /v1/jobs refuses bad input with it at once.
 */
async function validateReport(
  templates: TemplateRegistry,
  input: unknown,
  limits: RenderLimits,
  signer: PdfSigner | undefined,
  signal: AbortSignal,
  only?: TemplateSource,
): Promise<Validated> {
  const { envelope, warnings: repairs } = parseEnvelope(input, limits);
  const template = only ? load(only) : await templates.resolve(envelope.template);
  const optionIssues = [
    ...pageBoxIssues(template.definition.page, envelope.options.page),
    ...pdfOptionIssues(envelope.options, signer),
    ...encryptOptionIssues(envelope.options),
  ];
  if (optionIssues.length > 0) throw new InputError("invalid_options", optionIssues);
  // Structural (schema) failures always refuse: the template cannot lay out data of the wrong shape.
  // The template's own rules (e.g. I1–I5) honour options.validation = "warn".
  const schemaIssues = await template.validate(envelope.data, signal);
  const ruleIssues = template.definition.rules?.(envelope.data, schemaIssues.length === 0) ?? [];
  const guards = new Set(template.definition.limitRules ?? []);
  const waived = envelope.options.validation === "warn" && !ruleIssues.some((i) => guards.has(i.rule));
  if (schemaIssues.length > 0 || (ruleIssues.length > 0 && !waived)) {
    throw new InputError("invalid_data", [...schemaIssues, ...ruleIssues]);
  }
  return { envelope, template, warnings: [...repairs, ...ruleIssues].slice(0, MAX_LISTED_ISSUES) };
}

/**
 * Envelope `{ template, data, options }` → PDF.
 *
 * JSON → validate → template → HTML → Chromium → PDF (+ metadata) → result
 *
 * One deadline (`limits.renderTimeoutMs`) covers all of it, waiting for a page included; past it,
 * or when `run.signal` aborts, the render stops where it is and frees its page.
 */
async function renderReport(renderer: RendererParts, input: unknown, run: RenderRun): Promise<RenderResult> {
  const limits = run.limits ?? defaultLimits;
  const { signal, dispose } = deadlineSignal(limits.renderTimeoutMs, run.signal);
  try {
    return await renderUntil(renderer, input, limits, signal, run.template);
  } finally {
    dispose();
  }
}

/** What every render of one renderer shares. */
interface RendererParts {
  templates: TemplateRegistry;
  fonts: BundledFonts;
  browsers: BrowserPool;
  producer: string;
  signer?: PdfSigner;
}

async function renderUntil(
  { templates, fonts, browsers, producer, signer }: RendererParts,
  input: unknown,
  limits: RenderLimits,
  deadline: AbortSignal,
  only: TemplateSource | undefined,
): Promise<RenderResult> {
  const started = performance.now();
  const { envelope, template, warnings } = await validateReport(templates, input, limits, signer, deadline, only);
  const { data, options } = envelope;
  const definition = template.definition;
  const validated = performance.now();
  checkDeadline(deadline);

  const meta = definition.metadata(data);
  const title = options.metadata?.title ?? meta.title;
  const head = { title, lang: meta.lang };
  const view = await definition.view(data, options);
  checkDeadline(deadline);
  const body = await template.render(view, deadline);
  const doc = buildDocument({ css: template.css, page: definition.page }, body, options, head, fonts);
  const refs = pageRefIds(doc.body);
  const templated = performance.now();
  checkDeadline(deadline);

  // Chromium prints one page past the limit at most: enough to know the report is too long.
  const print = (d: DocumentParts) =>
    untilAborted(
      printPdf(browsers, d, {
        signal: deadline,
        maxPages: limits.maxPages + 1,
        javascript: definition.javascript === true,
      }),
      deadline,
    );
  const printed =
    refs.length === 0 ? { doc, ...(await print(doc)), prints: 1 } : await printNumbered(doc, refs, print, limits);
  const chromiumDone = performance.now();

  // Canonical: the attached source renders again into the same bytes. The passwords stay out: a
  // published hash of an input with a short password in it could betray the password.
  const documentId = sha256(canonicalJson(withoutPasswords(envelope)));
  let { pdf, pages } = await finalizePdf(
    printed.pdf,
    { ...meta, ...options.metadata, title, producer, documentId },
    body.found?.headings ?? headingTexts(printed.doc.body),
    {
      standard: options.pdf?.standard,
      source: options.pdf?.attachSource ? sourceJson(envelope) : undefined,
    },
  );
  if (pages > limits.maxPages) {
    throw new LimitError("pages", `the report has more than ${limits.maxPages} pages; the limit is ${limits.maxPages}`);
  }
  // The structure tree in object streams: a tagged 2,000-row table is 1.9× its size untagged, not 8.9×.
  pdf = await packStructure(pdf);
  // Encrypted before it is signed (the signature's strings then go through encrypted.encryptString).
  // Random salts and IVs: an encrypted file is not byte-identical between runs.
  const encrypted = options.pdf?.encrypt ? encryptPdf(pdf, options.pdf.encrypt) : undefined;
  if (encrypted) pdf = encrypted.pdf;
  if (options.pdf?.sign && signer) {
    // Last, over the finished file (encrypted, if it is): an incremental update at the render's time.
    // Loaded when first asked for: its CMS library would add ~50 ms to every cold start.
    const { signPdf } = await import("./secure/sign.ts");
    const context = { time: new Date(), encryptString: encrypted?.encryptString };
    pdf = await untilAborted(signPdf(pdf, signer, options.pdf.sign, context), deadline);
  }
  const finished = performance.now();

  return {
    pdf,
    pages,
    bytes: pdf.byteLength,
    sha256: sha256(pdf),
    warnings,
    // Made when asked for (the CLI's --html): building it costs every render half a millisecond.
    get html() {
      return toHtml(printed.doc, fonts);
    },
    refusedRequests: printed.refused,
    prints: printed.prints,
    filename: safeFileName(options.filename ?? definition.filename(data)),
    template: definition.id,
    timings: {
      validateMs: round(validated - started),
      templateMs: round(templated - validated),
      chromiumMs: round(chromiumDone - templated),
      finalizeMs: round(finished - chromiumDone),
      totalMs: round(finished - started),
    },
  };
}

/**
 * Aborts when the caller's signal does, or after `ms` with a LimitError("renderTime") as its reason.
 * `dispose` clears the timer once the render has ended.
 */
function deadlineSignal(ms: number, caller: AbortSignal | undefined): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new LimitError("renderTime", `rendering took longer than ${ms / 1000} s`)),
    ms,
  );
  timer.unref();
  const signals = caller ? [caller, controller.signal] : [controller.signal];
  const signal = AbortSignal.any(signals);
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  return { signal, dispose: () => clearTimeout(timer) };
}

function checkDeadline(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}

/** The error an aborted render ends with: the deadline's LimitError, or the caller's reason. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error("the render was aborted");
}

/** `work`, or the abort reason as soon as `signal` aborts (the work itself is told by the same signal). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  checkDeadline(signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    work.catch(() => undefined);
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

type Print = (doc: DocumentParts) => Promise<{ pdf: Uint8Array; refused: string[] }>;

/** Prints before giving up on page numbers that settle (when they could not be filled in after one). */
const MAX_PRINTS = 3;

/**
 * The document with its page references (page-refs.ts) as numbers. One print with their room
 * reserved, the numbers written in after (page-numbers.ts); only when that cannot be done, prints
 * with the numbers as text until the pages they state are the pages found.
 */
async function printNumbered(
  doc: DocumentParts,
  refs: string[],
  print: Print,
  limits: RenderLimits,
): Promise<{ doc: DocumentParts; pdf: Uint8Array; refused: string[]; prints: number }> {
  const reserved = { ...doc, body: reservePageRefs(doc.body) };
  const first = await print(reserved);
  // Too long: refused by the caller, whose message must not be about a missing page.
  if (countPages(new RawPdf(first.pdf)) > limits.maxPages) return { doc: reserved, ...first, prints: 1 };
  const numbering = fillPageNumbers(first.pdf, refs, PAGE_REF_DIGITS);
  if (numbering.filled) {
    return {
      doc: { ...doc, body: numberPageRefs(doc.body, numbering.pages) },
      pdf: numbering.pdf,
      refused: first.refused,
      prints: 1,
    };
  }
  let pages = numbering.pages;
  for (let prints = 2; ; prints++) {
    const numbered = { ...doc, body: numberPageRefs(doc.body, pages) };
    const printed = await print(numbered);
    if (countPages(new RawPdf(printed.pdf)) > limits.maxPages) return { doc: numbered, ...printed, prints };
    const found = pageRefTargets(printed.pdf, refs);
    if (refs.every((id) => found.get(id) === pages.get(id))) return { doc: numbered, ...printed, prints };
    if (prints >= MAX_PRINTS) throw new Error(`the page numbers did not settle after ${MAX_PRINTS} prints`);
    pages = found;
  }
}
