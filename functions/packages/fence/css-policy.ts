import { tokenize, tokenTypes as T } from "css-tree/tokenizer";
import { ident, string } from "css-tree/utils";
import type { CssFinding } from "../css-check.ts";
import { shorten } from "../problems.ts";

/**
 * What in CSS, as a browser tokenizes it (CSS Syntax Level 3, through css-tree), could fetch or show
 * what the package did not bring: a url() that is not one of its assets (inlined as data: URLs, each
 * compared whole) or a reference inside the document (#id), @import, and the functions that take a
 * URL or an image by name. Run on the CSS Chromium is given (a package's style.css; <style> text and
 * style attributes of each rendered document), so escapes, comments, case and line endings are read
 * as the browser reads them.
 */

/** Functions that fetch or draw something named by a URL or an element. */
const FETCHING_FUNCTIONS = new Set([
  "src",
  "image",
  "image-set",
  "-webkit-image-set",
  "element",
  "-moz-element",
  "cross-fade",
  "-webkit-cross-fade",
]);

/** `isAsset(url)`: whether a URL is one of the package's assets, as inlined. */
export function cssFindings(css: string, isAsset: (url: string) => boolean): CssFinding[] {
  const findings: CssFinding[] = [];
  const find = (offset: number, rule: string, message: string) => findings.push({ offset, rule, message });
  const allowed = (url: string) => url.trim().startsWith("#") || isAsset(url.trim());
  /** A url( function whose argument (a string token) is next. */
  let urlFunctionAt: number | undefined;
  /** Open attr( functions: the depth of parentheses each was opened at. */
  const attrs: number[] = [];
  let depth = 0;
  tokenize(css, (type, start, end) => {
    const text = css.slice(start, end);
    if (type === T.WhiteSpace || type === T.Comment) return;
    if (urlFunctionAt !== undefined) {
      const argument = type === T.String ? string.decode(text) : undefined;
      if (argument === undefined || !allowed(argument)) {
        find(urlFunctionAt, "fetch", `url(${shorten(argument ?? text, 60)}): only the package's assets and #id`);
      }
      urlFunctionAt = undefined;
    }
    if (type === T.Url) {
      const argument = urlArgument(text);
      if (!allowed(argument)) find(start, "fetch", `url(${shorten(argument, 60)}): only the package's assets and #id`);
    } else if (type === T.BadUrl) {
      find(start, "fetch", "a url() that CSS cannot read");
    } else if (type === T.Function) {
      depth++;
      const name = asciiLower(ident.decode(text.slice(0, -1)));
      if (name === "url") urlFunctionAt = start;
      else if (name === "attr") attrs.push(depth);
      else if (FETCHING_FUNCTIONS.has(name)) find(start, "fetch", `${name}() can fetch`);
      else if (attrs.length > 0 && name === "type") find(start, "fetch", "attr() with a type can make a URL");
    } else if (type === T.LeftParenthesis) {
      depth++;
    } else if (type === T.RightParenthesis) {
      if (attrs.at(-1) === depth) attrs.pop();
      depth = Math.max(0, depth - 1);
    } else if (type === T.AtKeyword && asciiLower(ident.decode(text.slice(1))) === "import") {
      find(start, "fetch", "@import would fetch a stylesheet");
    } else if (type === T.Ident && attrs.length > 0 && asciiLower(ident.decode(text)) === "url") {
      find(start, "fetch", "attr() as a url can make a URL");
    }
  });
  if (urlFunctionAt !== undefined) find(urlFunctionAt, "fetch", "a url() without its end");
  return findings;
}

/** The argument of a url-token as written (`url(` possibly spelt with escapes), its escapes decoded. */
function urlArgument(token: string): string {
  let i = 0;
  while (i < token.length && token[i] !== "(") i += token[i] === "\\" ? 2 : 1;
  const inner = token.slice(i + 1, token.endsWith(")") ? -1 : undefined);
  // A font inlined as a data: URL is megabytes of base64 without a single escape.
  return inner.includes("\\") ? ident.decode(inner.trim()) : inner.trim();
}

/** CSS names are case-insensitive in ASCII only (a Turkish İ folds into nothing here). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
