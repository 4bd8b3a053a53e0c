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
  pdf?: PdfOutputOptions;
  watermark?: WatermarkOptions;
}

/** Archival and secure outputs (`options.pdf`), the same for every template. */
export interface PdfOutputOptions {
  /** PDF/A conformance: XMP identification, an sRGB output intent, nothing PDF/A forbids. */
  standard?: "PDF/A-2b" | "PDF/A-3b";
  /** Embed the request's envelope (without passwords) as a JSON file; with PDF/A-3b an associated file (/AF, Source). */
  attachSource?: boolean;
  /** AES-256 with these passwords and permissions (refused together with a PDF/A standard). */
  encrypt?: EncryptOptions;
  /** A PAdES (ETSI.CAdES.detached) signature over the whole document by the renderer's signer. */
  sign?: SignOptions;
}

export interface EncryptOptions {
  userPassword?: string;
  ownerPassword?: string;
  /** What a reader who opened it with the user password may do (default: all true). */
  permissions?: { print?: boolean; copy?: boolean; modify?: boolean };
}

export interface SignOptions {
  reason?: string;
  location?: string;
  contactInfo?: string;
}

/** Text across every page, behind the content, in the bundled fonts (`options.watermark`). */
export interface WatermarkOptions {
  text: string;
  /** 0 < opacity ≤ 1 (default 0.15). */
  opacity?: number;
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
