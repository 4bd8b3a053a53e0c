import { createHash } from "node:crypto";
import { parseEnvelope } from "./envelope.ts";
import { InputError, LimitError } from "./errors.ts";
import { finalizePdf } from "./finalize.ts";
import { buildDocument, toHtml, type DocumentParts } from "./html.ts";
import { headingTexts, readOutline, type PdfOutline } from "./outline.ts";
import { printPdf } from "./print.ts";
import { getTemplate, type LoadedTemplate } from "./templates.ts";
import type { Envelope, Issue, RenderResult } from "./types.ts";
import { checkSchema } from "./validate.ts";
import { producer } from "./version.ts";

export interface RenderLimits {
  /** Refuse a report longer than this many pages (default 500). */
  maxPages: number;
  /** Give up on Chromium after this long (default 50 s). */
  renderTimeoutMs: number;
}

export const defaultLimits: RenderLimits = {
  maxPages: Number(process.env.MAX_PAGES ?? 500),
  renderTimeoutMs: Number(process.env.RENDER_TIMEOUT_MS ?? 50_000),
};

/** How one render is run: `signal` aborts it (the caller has gone); the work stops and frees its page. */
export interface RenderRun {
  signal?: AbortSignal;
}

/**
 * Everything renderReport checks before it renders, and nothing more: the envelope, the template
 * and the data. Throws the same InputError renderReport would; returns the rule failures that
 * options.validation = "warn" lets through. (POST /v1/jobs refuses bad input with it at once.)
 */
export function validateReport(input: unknown): { envelope: Envelope; template: LoadedTemplate; warnings: Issue[] } {
  const envelope = parseEnvelope(input);
  const template = getTemplate(envelope.template);
  // Structural (schema) failures always refuse: the template cannot lay out data of the wrong shape.
  // The template's own rules (e.g. I1–I5) honour options.validation = "warn".
  const schemaIssues = checkSchema(template.schema, envelope.data);
  const ruleIssues = template.definition.rules?.(envelope.data, schemaIssues.length === 0) ?? [];
  if (schemaIssues.length > 0 || (ruleIssues.length > 0 && envelope.options.validation !== "warn")) {
    throw new InputError("invalid_data", [...schemaIssues, ...ruleIssues]);
  }
  return { envelope, template, warnings: ruleIssues };
}

/**
 * The render core: envelope `{ template, data, options }` → PDF. Every entry point (CLI, HTTP,
 * upload, local server) calls this and nothing below it.
 *
 * JSON → validate → template → HTML → Chromium → PDF (+ metadata) → result
 */
export async function renderReport(
  input: unknown,
  limits: RenderLimits = defaultLimits,
  run: RenderRun = {},
): Promise<RenderResult> {
  const started = performance.now();
  run.signal?.throwIfAborted();
  const { envelope, template, warnings: ruleIssues } = validateReport(input);
  const { data, options } = envelope;
  const definition = template.definition;
  const validated = performance.now();

  const meta = definition.metadata(data);
  const title = options.metadata?.title ?? meta.title;
  const head = { title, lang: meta.lang };
  let doc = buildDocument(template, await definition.view(data, options), options, head);
  const templated = performance.now();

  // One deadline for all of Chromium's work, however many passes it takes.
  const deadline = templated + limits.renderTimeoutMs;
  const print = (d: DocumentParts) => {
    const left = Math.max(1, deadline - performance.now());
    return withTimeout(printPdf(d, left, definition.javascript === true), left, limits.renderTimeoutMs);
  };
  let printed = await print(doc);
  const paginate = definition.paginate;
  if (typeof paginate === "function" ? paginate(data) : paginate === true) {
    // A first print says where each heading landed; the view is built again with those pages
    // (e.g. a table of contents) and printed again, until the pages it states are the pages found.
    let outline = readOutline(printed.pdf);
    for (let pass = 2; ; pass++) {
      if (outline.pages > limits.maxPages) break; // refused below, without another print
      doc = buildDocument(template, await definition.view(data, options, outline.entries), options, head);
      printed = await print(doc);
      const next = readOutline(printed.pdf);
      if (samePages(outline, next)) break;
      if (pass >= MAX_PASSES) {
        throw new Error(`the headings' page numbers did not settle after ${MAX_PASSES} passes`);
      }
      outline = next;
    }
  }
  const chromiumDone = performance.now();

  const documentId = sha256(JSON.stringify(envelope));
  const { pdf, pages } = finalizePdf(
    printed.pdf,
    { ...meta, ...options.metadata, title, producer, documentId },
    headingTexts(doc.body),
  );
  if (pages > limits.maxPages) {
    throw new LimitError("pages", `the report has ${pages} pages; the limit is ${limits.maxPages}`);
  }
  const finished = performance.now();

  return {
    pdf,
    pages,
    bytes: pdf.byteLength,
    sha256: sha256(pdf),
    warnings: ruleIssues,
    html: toHtml(doc),
    refusedRequests: printed.refused,
    filename: options.filename ?? definition.filename(data),
    timings: {
      validateMs: round(validated - started),
      templateMs: round(templated - validated),
      chromiumMs: round(chromiumDone - templated),
      finalizeMs: round(finished - chromiumDone),
      totalMs: round(finished - started),
    },
  };
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Prints of a paginated template (the first included) before giving up on settling page numbers. */
const MAX_PASSES = 3;

function samePages(a: PdfOutline, b: PdfOutline): boolean {
  return (
    a.pages === b.pages &&
    a.entries.length === b.entries.length &&
    a.entries.every((e, i) => e.page === b.entries[i]?.page && e.title === b.entries[i]?.title)
  );
}

async function withTimeout<T>(work: Promise<T>, ms: number, limitMs = ms): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LimitError("renderTime", `rendering took longer than ${limitMs / 1000} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
