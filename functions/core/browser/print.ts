import type { BrowserPool } from "./browser.ts";
import type { DocumentParts } from "../html/index.ts";

/**
 * The document → PDF bytes (in a warm page unless the template needs page JavaScript). Page size
 * and margins come from the document's own @page rules (page-css.ts), so one source drives both
 * layout and paper. `outline` (which implies `tagged`) makes Chromium write bookmarks for the h1–h6
 * headings. page.pdf waits for web fonts.
 *
 * Only the first `maxPages` pages are printed (Chromium caps the range at the document's length):
 * a runaway document costs its layout, not thousands of printed pages. `signal` ends the print.
 */
export async function printPdf(
  browsers: BrowserPool,
  doc: DocumentParts,
  options: { signal: AbortSignal; maxPages: number; javascript?: boolean },
): Promise<{ pdf: Uint8Array; refused: string[] }> {
  const { result, refused } = await browsers.withDocument(
    doc,
    (page) =>
      page.pdf({
        preferCSSPageSize: true,
        printBackground: true,
        displayHeaderFooter: false,
        outline: true,
        tagged: true,
        pageRanges: `1-${options.maxPages}`,
        // The render's deadline (the signal) limits it; puppeteer's own 30 s default must not.
        timeout: 0,
      }),
    { javascript: options.javascript, signal: options.signal },
  );
  return { pdf: result, refused };
}
