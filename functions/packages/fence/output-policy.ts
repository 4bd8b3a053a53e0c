import {
  type DefaultTreeAdapterMap,
  defaultTreeAdapter,
  html as HTML,
  parseFragment,
  type Token,
  type TreeAdapter,
} from "parse5";
import { asciiLower, CSS_ATTRIBUTES, REFUSED_ELEMENTS, URL_ATTRIBUTES } from "../html-rules.ts";
import { shorten } from "../problems.ts";
import { cssFindings } from "./css-policy.ts";
import type { DataRange } from "./output-marks.ts";

/**
 * The rules for a package's HTML, judged on what Chromium will parse: the document body as a
 * template run made it, parsed by the HTML standard's own algorithm (parse5, as `innerHTML` of the
 * body with scripting off), with the ranges of it that came from data (output-marks.ts). Nothing in
 * how the template was split into files, its line endings, case or character references can hide
 * an element from this: it is the parse.
 *
 * - No element that runs, embeds, fetches or navigates (script, iframe, link, base, meta, video…),
 *   and none that parsers of different ages disagree on (select, noscript, xmp…).
 * - No tag or attribute name, no event handler, no javascript: URL.
 * - URLs: a template's own are its assets (inlined as data: URLs, each compared whole) or #id; data
 *   may complete a link after its literal http(s)://, mailto: or tel:, and be an image's whole src
 *   through dataImage (which holds it to the pixel limits).
 * - CSS (<style>, style attributes, presentation attributes): data only through cssString and
 *   cssValue, or as a number; and no url() but the assets and #id, no @import (css-policy.ts).
 *
 * The tree is not kept whole: elements are judged as the parser makes them, and text is kept only in
 * <style> and h1–h6, which the parse also gives the core (the headings for the PDF's bookmarks, the
 * style sheets for the margin boxes' text), so that it never scans the package's HTML itself.
 */

export interface OutputFinding {
  /** Offset in the HTML. */
  offset: number;
  rule: string;
  message: string;
}

/** What data may follow in a link: after the scheme (and for the web, its //). */
const LINK_SCHEME = /^\s*(?:https?:\/\/|mailto:|tel:)/i;
/** Data that is only a number (what the number helpers write): harmless in CSS. */
const NUMBER_LIKE = /^[\d\s.,%+-]*$/;

type Location = Token.Location;
type Attribute = Token.Attribute;
type Node = DefaultTreeAdapterMap["node"];
type Element = DefaultTreeAdapterMap["element"];
type ParentNode = DefaultTreeAdapterMap["parentNode"];

/** What the parse of a template's HTML gives: the rules broken, and what the core needs of it. */
export interface OutputParse {
  findings: OutputFinding[];
  /** The text of each h1–h6 element in the document (not in a <template>), white space collapsed. */
  headings: string[];
  /** The text of each <style> element. */
  styles: string[];
}

/**
 * `html` (the body a template made) parsed and judged, with `ranges` of it from data and `assets`
 * the data: URLs of the package's own files (the only URLs it may hold but #id).
 */
export function parseOutput(html: string, ranges: readonly DataRange[], assets: ReadonlySet<string>): OutputParse {
  const findings: OutputFinding[] = [];
  const find = (offset: number, rule: string, message: string) => findings.push({ offset, rule, message });
  const styles: Element[] = [];
  const headings: Element[] = [];

  /** The index of the first data range that ends after `from`. */
  const firstAfter = (from: number): number => {
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ranges[mid] as DataRange).end <= from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** Data ranges that overlap [from, to). */
  const dataIn = (from: number, to: number): DataRange[] => {
    const found: DataRange[] = [];
    for (let i = firstAfter(from); i < ranges.length && (ranges[i] as DataRange).start < to; i++) {
      found.push(ranges[i] as DataRange);
    }
    return found;
  };
  const anyDataIn = (from: number, to: number): boolean => {
    const i = firstAfter(from);
    return i < ranges.length && (ranges[i] as DataRange).start < to;
  };

  /** Data in the CSS whose source spans [from, to). */
  const judgeCssData = (from: number, to: number) => {
    for (const range of dataIn(from, to)) {
      if (range.kind === "css" || (range.kind === "data" && NUMBER_LIKE.test(html.slice(range.start, range.end)))) {
        continue;
      }
      find(
        range.start,
        "css-data",
        "data reaches CSS here: write it with {{cssString …}} (text) or {{cssValue …}} (a number, length or colour)",
      );
    }
  };
  /** The CSS as parsed (`css`, at `offset`; `exact`: offsets in it are offsets in the HTML). */
  const judgeCssText = (css: string, offset: number, exact: boolean) => {
    for (const f of cssFindings(css, (url) => assets.has(url))) {
      find(exact ? offset + f.offset : offset, f.rule, `${f.message} (in CSS)`);
    }
  };

  const judgeElement = (element: Element, location: Location | null | undefined) => {
    const name = asciiLower(element.tagName);
    const at = location?.startOffset ?? 0;
    if (location && anyDataIn(at + 1, at + 1 + element.tagName.length)) {
      find(at, "data-in-tag", "a tag's name cannot come from data");
    }
    const refused = REFUSED_ELEMENTS[name];
    if (refused) find(at, refused[0], refused[1]);
    for (const attribute of element.attrs) {
      const key = asciiLower(attribute.prefix ? `${attribute.prefix}:${attribute.name}` : attribute.name);
      const span = (location as Token.ElementLocation | null | undefined)?.attrs?.[key];
      judgeAttribute(name, attribute, key, span);
    }
    if (name === "style") styles.push(element);
    if (HEADING.test(name)) headings.push(element);
  };

  const judgeAttribute = (tag: string, attribute: Attribute, key: string, span: Location | undefined) => {
    const offset = span?.startOffset ?? 0;
    const value = valueSpan(html, span, key.length);
    if (span && anyDataIn(span.startOffset, span.startOffset + key.length)) {
      find(offset, "data-in-tag", "an attribute's name cannot come from data");
      return;
    }
    const name = asciiLower(attribute.name);
    if (name.startsWith("on")) {
      find(offset, "script", `event handler attributes (${name}) are not allowed: nothing runs in the page`);
      return;
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: browsers skip them inside a scheme
    if (/(?:java|vb)script:/i.test(attribute.value.replace(/[\s\u0000-\u001f]/g, ""))) {
      find(offset, "script", "javascript: URLs are not allowed");
      return;
    }
    const data = value ? dataIn(value.start, value.end) : [];
    if (URL_ATTRIBUTES.has(name)) judgeUrl(tag, name, attribute.value, value, data, offset);
    else if (CSS_ATTRIBUTES.has(name)) {
      if (value) judgeCssData(value.start, value.end);
      judgeCssText(attribute.value, offset, false);
    }
  };

  const judgeUrl = (
    tag: string,
    name: string,
    url: string,
    value: { start: number; end: number } | undefined,
    data: DataRange[],
    offset: number,
  ) => {
    if (name === "srcset" || name === "imagesrcset") {
      find(offset, "srcset", `${name} is not allowed: use src`);
      return;
    }
    const link = tag === "a" && name === "href";
    const image = ((tag === "img" || tag === "input") && name === "src") || (tag === "image" && name === "href");
    const first = data[0];
    if (value && first) {
      if (
        image &&
        data.length === 1 &&
        first.kind === "image" &&
        first.start === value.start &&
        first.end === value.end
      )
        return;
      // Once a literal scheme is written, nothing after it can change what kind of URL it is.
      if (link && LINK_SCHEME.test(html.slice(value.start, first.start))) return;
      find(
        offset,
        "url-data",
        `${name}="…" is made from data: only a link after its http(s)://, mailto: or tel:, or an image's whole src through {{dataImage …}}`,
      );
      return;
    }
    const literal = url.trim();
    if (literal === "" || (literal.startsWith("#") && name !== "src")) return;
    if (assets.has(literal)) return;
    if (link && /^(?:https?:|mailto:|tel:)/i.test(literal)) return;
    find(offset, "fetch", `${name}="${shorten(literal, 60)}" would fetch: only the package's assets (or #id)`);
  };

  // Where things are is asked only of data: HTML without any is parsed faster without it.
  const located = ranges.length > 0;
  const adapter: TreeAdapter<DefaultTreeAdapterMap> = {
    ...defaultTreeAdapter,
    // Without locations, an element is judged as it is made; with them, as it is placed (below).
    onElementCreated: located ? undefined : (element) => judgeElement(element, undefined),
    setNodeSourceCodeLocation(node, location) {
      if (isElement(node)) judgeElement(node, location as Location | null);
      else if (isText(node) && keepsText(node.parentNode)) node.sourceCodeLocation = location;
    },
    getNodeSourceCodeLocation: (node) => node.sourceCodeLocation,
    adoptAttributes(recipient, attrs) {
      defaultTreeAdapter.adoptAttributes(recipient, attrs);
      judgeElement(recipient, undefined);
    },
    insertText(parent, text) {
      if (keepsText(parent)) defaultTreeAdapter.insertText(parent, text);
      else if (!isText(parent.childNodes.at(-1))) defaultTreeAdapter.insertText(parent, "");
    },
    insertTextBefore(parent, text, reference) {
      if (keepsText(parent)) defaultTreeAdapter.insertTextBefore(parent, text, reference);
      else {
        const before = parent.childNodes[parent.childNodes.indexOf(reference) - 1];
        if (!isText(before)) defaultTreeAdapter.insertTextBefore(parent, "", reference);
      }
    },
  };

  const body = defaultTreeAdapter.createElement("body", HTML.NS.HTML, []);

  const fragment = parseFragment(body, html, {
    treeAdapter: adapter,
    sourceCodeLocationInfo: located,
    scriptingEnabled: false,
  });

  const sheets: string[] = [];
  for (const style of styles) {
    // A <style>'s sheet is its child text content: its own text children, in order.
    const texts = style.childNodes.filter(isText);
    for (const text of texts) {
      const where = text.sourceCodeLocation;
      if (where) judgeCssData(where.startOffset, where.endOffset);
    }
    const sheet = texts.map((t) => t.value).join("");
    const first = texts[0]?.sourceCodeLocation;
    // An HTML <style> holds raw text: the sheet is the HTML as written, offsets and all.
    const exact = texts.length === 1 && style.namespaceURI === HTML.NS.HTML && first !== undefined && first !== null;
    judgeCssText(sheet, first?.startOffset ?? 0, exact);
    sheets.push(sheet);
  }
  // A formatting element the parser reopens is judged again: one finding a place.
  const seen = new Set<string>();
  return {
    findings: findings
      .filter((f) => {
        const key = `${f.offset}:${f.rule}`;
        return !seen.has(key) && seen.add(key) !== undefined;
      })
      .sort((a, b) => a.offset - b.offset),
    headings: headings.filter((h) => rootOf(h) === fragment).map(textOf),
    styles: sheets,
  };
}

const HEADING = /^h[1-6]$/;

/** The node a parsed element hangs from: the fragment, or a <template>'s content. */
function rootOf(element: Element): ParentNode {
  let at: ParentNode = element;
  while (isElement(at) && at.parentNode) at = at.parentNode;
  return at;
}

/** The text of an element as a reader sees it: its text, HTML white space collapsed. */
function textOf(element: Element): string {
  let text = "";
  const walk = (node: Node) => {
    if (isText(node)) text += node.value;
    else if ("childNodes" in node) for (const child of node.childNodes) walk(child);
  };
  walk(element);
  return text.replace(/[ \t\n\f\r]+/g, " ").replace(/^ | $/g, "");
}

function isElement(node: Node | undefined): node is Element {
  return node !== undefined && "tagName" in node;
}

function isText(node: Node | undefined): node is DefaultTreeAdapterMap["textNode"] {
  return node !== undefined && node.nodeName === "#text";
}

/** Text is kept only where it is CSS or a heading's (parse5's nodeName is the lower-case name). */
function keepsText(parent: ParentNode | null): boolean {
  for (let at: ParentNode | null = parent; at !== null && isElement(at); at = at.parentNode) {
    if (at.nodeName === "style" || HEADING.test(at.nodeName)) return true;
  }
  return false;
}

/** Where an attribute's value is in the HTML: after its name, `=` and an opening quote; before the closing one. */
function valueSpan(
  html: string,
  span: Location | undefined,
  nameLength: number,
): { start: number; end: number } | undefined {
  if (!span) return undefined;
  let start = span.startOffset + nameLength;
  let end = span.endOffset;
  while (start < end && /\s/.test(html[start] as string)) start++;
  if (html[start] !== "=") return { start: end, end };
  start++;
  while (start < end && /\s/.test(html[start] as string)) start++;
  const quote = html[start];
  if (quote === '"' || quote === "'") {
    start++;
    if (html[end - 1] === quote && end > start) end--;
  }
  return { start, end };
}
