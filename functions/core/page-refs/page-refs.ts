/**
 * Page numbers of elements, for any template: `<page-ref for="ID"></page-ref>` in a template's
 * HTML stands for the number of the page on which the element with id ID begins (e.g. the page
 * numbers of a table of contents), printed as a link to it.
 *
 * One print does it: each reference first prints as three digits that say which reference it is,
 * right after the ten digits 0–9 in the same font (in a box of no width, and small enough to stay
 * inside the three digits' room: glyphs outside the page's clip would not be printed); after the
 * print, page-numbers.ts finds those glyphs in the pages' content, writes the real numbers in their
 * place (right-aligned in the room of the three digits) and removes the ten. The room is reserved,
 * so the pages come out exactly as printed. When that cannot be done (a target past page 999, or a
 * content stream laid out otherwise), the render prints again with the numbers as text instead.
 */

import { InputError } from "../errors.ts";

/** Digits of room every reference reserves: pages up to 999 fill in after the one print. */
export const PAGE_REF_DIGITS = 3;

/** The references a template can write; produced by Handlebars, whose escaping keeps data out of it. */
const PAGE_REF = /<page-ref for="([^"<>]*)"><\/page-ref>/g;

/** Element ids a reference may name: they become PDF names and URL fragments as they are. */
const ID = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** Rules every document gets, before the template's own: a reference takes its surroundings' looks. */
export const PAGE_REF_CSS = `.page-ref { color: inherit; text-decoration: none; white-space: nowrap; font-variant-numeric: tabular-nums; }
.page-ref-digits { display: inline-block; width: 0; white-space: nowrap; font-size: 0.2em; }
.page-ref-room { visibility: hidden; }`;

/** The ids the body's references name, in document order (reference i is the i-th). */
export function pageRefIds(body: string): string[] {
  return [...body.matchAll(PAGE_REF)].map((m) => {
    const id = m[1] ?? "";
    if (!ID.test(id)) {
      throw pageRefError(`<page-ref for="${id}">: an id is a letter then up to 99 letters, digits, "_" or "-"`);
    }
    return id;
  });
}

/**
 * A reference that cannot be resolved. The template wrote it, but a template package may build the
 * id from data: the render is refused like data the template cannot lay out, not failed as ours.
 */
export function pageRefError(message: string): InputError {
  return new InputError("invalid_data", [{ rule: "page-ref", path: "", message }]);
}

/** The body with every reference as its placeholder: the ten digits, then its index in three. */
export function reservePageRefs(body: string): string {
  let index = 0;
  return body.replace(PAGE_REF, (_, id: string) => {
    const digits = String(index++).padStart(PAGE_REF_DIGITS, "0");
    return `<a class="page-ref" href="#${id}"><span class="page-ref-digits" aria-hidden="true">0123456789</span>${digits}</a>`;
  });
}

/**
 * The body with every reference as its page number, as text (the second print's way): right-aligned
 * in the same room of three digits (unseen zeros before it), so the pages come out as they did.
 */
export function numberPageRefs(body: string, pages: ReadonlyMap<string, number>): string {
  return body.replace(PAGE_REF, (_, id: string) => {
    const number = String(pages.get(id) ?? "");
    const room = "0".repeat(Math.max(0, PAGE_REF_DIGITS - number.length));
    const pad = room ? `<span class="page-ref-room" aria-hidden="true">${room}</span>` : "";
    return `<a class="page-ref" href="#${id}">${pad}${number}</a>`;
  });
}
