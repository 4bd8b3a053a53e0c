/**
 * Finishing Chromium's PDF in one pass over its bytes: metadata from the input and a fixed /ID (the
 * same input, the same bytes), bookmark titles mended, artifacts marked, and for archival renders the
 * PDF/A identification, XMP, output intent and the attached source (attachment.ts).
 */
export { canonicalJson, sourceJson, withoutPasswords } from "./attachment.ts";
export { finalizePdf } from "./finalize.ts";
