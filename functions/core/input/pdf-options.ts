import type { PdfSigner } from "../secure/index.ts";
import type { Issue, RenderOptions } from "../types.ts";

/**
 * `options.pdf` combinations that cannot be honoured together, refused before any work
 * (InputError "invalid_options", HTTP 422):
 * - encryption with a PDF/A standard (PDF/A forbids encryption: ISO 19005-2, 6.1.3);
 * - `attachSource` with PDF/A-2b (PDF/A-2 embeds only PDF/A files; PDF/A-3b may embed JSON);
 * - a signature when the renderer has no signer (the door configures one, or signing is off), or
 *   one that cannot sign yet (`signer.unavailable` says why).
 */
export function pdfOptionIssues(options: RenderOptions, signer: PdfSigner | undefined): Issue[] {
  const pdf = options.pdf;
  if (!pdf) return [];
  const issues: Issue[] = [];
  if (pdf.encrypt && pdf.standard) {
    issues.push({
      rule: "pdf-options",
      path: "/options/pdf/encrypt",
      message: `${pdf.standard} forbids encryption: ask for one or the other`,
    });
  }
  if (pdf.attachSource && pdf.standard === "PDF/A-2b") {
    issues.push({
      rule: "pdf-options",
      path: "/options/pdf/attachSource",
      message: "PDF/A-2b may embed only PDF/A files: use PDF/A-3b to attach the source JSON",
      expected: "PDF/A-3b",
      actual: pdf.standard,
    });
  }
  if (pdf.sign && (!signer || signer.unavailable)) {
    issues.push({
      rule: "pdf-options",
      path: "/options/pdf/sign",
      message: signer?.unavailable ?? "signing is not configured on this service",
    });
  }
  return issues;
}
