import { withDocument } from "./browser.ts";
import type { DocumentParts } from "./html.ts";

/**
 * The document → PDF bytes (in a warm page unless the template needs page JavaScript). Page size and margins come from the document's own
 * @page rules (page-css.ts), so one source drives both layout and paper. `outline` (which implies
 * `tagged`) makes Chromium write bookmarks for the h1–h6 headings. page.pdf waits for web fonts.
 */
export async function printPdf(
  doc: DocumentParts,
  timeoutMs: number,
  javascript = false,
): Promise<{ pdf: Uint8Array; refused: string[] }> {
  const { result, refused } = await withDocument(
    doc,
    (page) =>
      page.pdf({
        preferCSSPageSize: true,
        printBackground: true,
        displayHeaderFooter: false,
        outline: true,
        tagged: true,
        timeout: timeoutMs,
      }),
    { javascript },
  );
  return { pdf: result, refused };
}
