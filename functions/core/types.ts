/** The request every entry point hands to the render core (see docs/contracts). */
export interface Envelope {
  template: string;
  data: unknown;
  options: RenderOptions;
}

export type PageSize = "A4" | "A3" | "A5" | "Letter" | "Legal";

export interface MarginBox {
  top?: string;
  right?: string;
  bottom?: string;
  left?: string;
}

export interface RenderOptions {
  page?: {
    size?: PageSize;
    orientation?: "portrait" | "landscape";
    margin?: string | MarginBox;
  };
  metadata?: PdfMetadata;
  validation?: "strict" | "warn";
  filename?: string;
}

export interface PdfMetadata {
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string[] | string;
}

/** One validation failure: which rule, where in the input (JSON Pointer), and why. */
export interface Issue {
  rule: string;
  path: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
}

export interface StepTimings {
  validateMs: number;
  templateMs: number;
  chromiumMs: number;
  finalizeMs: number;
  totalMs: number;
}

export interface RenderResult {
  pdf: Uint8Array;
  pages: number;
  bytes: number;
  sha256: string;
  warnings: Issue[];
  /** The HTML that Chromium printed (for `--html` and debugging). */
  html: string;
  /** Requests the document made and the renderer refused (it fetches nothing from outside). */
  refusedRequests: string[];
  /** The file name for download and storage: options.filename or one derived from the template. */
  filename: string;
  /** The template it was rendered with, exactly: a published one with its version (`id@version`). */
  template: string;
  /**
   * Chromium prints it took: 1, or more when page numbers (page-refs.ts) could not be written into
   * the first print and were printed as text instead.
   */
  prints: number;
  timings: StepTimings;
}
