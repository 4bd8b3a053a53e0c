/**
 * Page numbers of elements (a table of contents): `<page-ref for="ID">` placeholders in the HTML,
 * printed with their room reserved, then the page each element begins on written into the PDF's
 * content streams (page-numbers.ts), or printed again as text when that cannot be done exactly.
 */
export { fillPageNumbers, pageRefTargets } from "./page-numbers.ts";
export { numberPageRefs, PAGE_REF_CSS, PAGE_REF_DIGITS, pageRefIds, reservePageRefs } from "./page-refs.ts";
