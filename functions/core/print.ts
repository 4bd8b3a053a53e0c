import { withDocument } from "./browser.ts";
import type { DocumentParts } from "./html.ts";

/**
 * The document → PDF bytes, in a warm page. Page size and margins come from the document's own
 * @page rules (page-css.ts), so one source drives both layout and paper. `outline` (which implies
 * `tagged`) makes Chromium write bookmarks for the h1–h6 headings. page.pdf waits for web fonts.
 */
export async function printPdf(
  doc: DocumentParts,
  timeoutMs: number,
): Promise<{ pdf: Uint8Array; refused: string[] }> {
  const { result, refused } = await withDocument(doc, (page) =>
    page.pdf({
      preferCSSPageSize: true,
      printBackground: true,
      displayHeaderFooter: false,
      outline: true,
      tagged: true,
      timeout: timeoutMs,
    }),
  );
  return { pdf: result, refused };
}
