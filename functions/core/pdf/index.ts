/**
 * The PDF byte library (README.md beside it): reading Chromium's (Skia's) PDF through its xref,
 * editing it by splicing byte ranges, streams deflated off the main thread, object streams,
 * incremental updates, the page tree and the outline. No full parse, no PDF library: it relies on
 * the layout Skia writes and refuses loudly (PdfLayoutError) any other.
 */
export { textShows, UnreadableContent, type ShownString } from "./content-stream.ts";
export { appendUpdate, type UpdatedObject } from "./incremental-update.ts";
export { packStructure } from "./object-streams.ts";
export { countPages, outlineTitleEdits, pageTree } from "./outline.ts";
export {
  arrayItems,
  deflated,
  dictEdits,
  dictEntries,
  hexBytes,
  isWhite,
  literalString,
  PdfLayoutError,
  pdfDate,
  pdfTextString,
  RawPdf,
  readNameTree,
  ref,
  refValue,
  skipSpace,
  skipValue,
  streamAt,
  streamObject,
  stringBytes,
  textString,
  type DictEntry,
  type Edit,
  type NameTreeNode,
  type StreamAt,
} from "./pdf-bytes.ts";
