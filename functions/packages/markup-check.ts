import { type AssetRef, scanCss } from "./css-check.ts";
import { shorten } from "./problems.ts";
import { asciiLower, CSS_ATTRIBUTES, REFUSED_ELEMENTS, REFUSED_IN_SVG_ASSETS, URL_ATTRIBUTES } from "./html-rules.ts";
import type { Mustache } from "./hbs-check.ts";

/**
 * What in a template's HTML (or an SVG asset) could fetch or run anything. The scan is deliberately
 * coarser than a browser: every `<name` anywhere in the text is read as a tag (inside comments,
 * attribute values and <style> too), so no trick of parsing context (a comment a <style> does not
 * end, a tag an SVG breaks out of) can hide one from it. Mustaches are first replaced by placeholders
 * of the same length, so offsets stay those of the source, and each placeholder is judged by where it
 * landed: in text, in an attribute's value, in CSS, or (refused) in a tag's name or an attribute's.
 */

export interface MarkupFinding {
  offset: number;
  rule: string;
  message: string;
}

/** A literal `assets/<file>` reference to inline as a data: URL: the span it takes in the source. */
export type MarkupRef = AssetRef;

export interface MarkupScan {
  findings: MarkupFinding[];
  refs: MarkupRef[];
}

export interface MarkupContext {
  /** The package's asset file names; null inside an SVG asset, which may refer to nothing but itself. */
  assets: ReadonlySet<string> | null;
  /** The template's mustaches (none for an SVG asset). */
  mustaches: readonly Mustache[];
}

/** Helpers whose output is safe inside CSS: a quoted, fully escaped string, or numbers and words without parentheses. */
const CSS_SAFE_HELPERS = new Set([
  "cssString",
  "cssValue",
  "formatNumber",
  "percent",
  "add",
  "subtract",
  "multiply",
  "divide",
  "sum",
]);

const PLACEHOLDER = "\ue000";
const FILL = "\ue001";

interface Attribute {
  name: string;
  nameStart: number;
  /** The value as written (quotes excluded), and where. */
  raw: string;
  valueStart: number;
}

export function scanMarkup(source: string, context: MarkupContext): MarkupScan {
  // Offsets in `text` are offsets in `source`: each placeholder is as long as its mustache.
  const text = skeleton(source, context.mustaches);
  const byStart = new Map(context.mustaches.map((m) => [m.start, m]));
  const findings: MarkupFinding[] = [];
  const refs: MarkupRef[] = [];
  const svgAsset = context.assets === null;
  const find = (offset: number, rule: string, message: string) => findings.push({ offset, rule, message });

  /** Placeholders in text[from, to) and the mustaches they stand for. */
  const mustachesIn = (from: number, to: number) => {
    const found: Mustache[] = [];
    for (let i = text.indexOf(PLACEHOLDER, from); i >= 0 && i < to; i = text.indexOf(PLACEHOLDER, i + 1)) {
      const m = byStart.get(i);
      if (m) found.push(m);
    }
    return found;
  };
  const css = (from: number, raw: string) => {
    for (const m of mustachesIn(from, from + raw.length)) {
      if (m.kind === "partial") find(m.start, "css-partial", "a partial cannot be used inside CSS");
      if (m.kind === "output" && !CSS_SAFE_HELPERS.has(m.helper ?? "")) {
        find(
          m.start,
          "css-mustache",
          "inside CSS, write data only with {{cssString …}} (text) or {{cssValue …}} (a number, length or colour): other text could add url() or end the rule",
        );
      }
    }
    const decoded = decodeEntities(raw);
    const scan = scanCss(decoded === raw ? raw : decoded, context.assets);
    for (const f of scan.findings) find(decoded === raw ? from + f.offset : from, f.rule, f.message);
    if (decoded === raw) for (const r of scan.refs) refs.push({ ...r, start: from + r.start, end: from + r.end });
  };

  // ASCII only, as HTML folds tag names: offsets in `lower` are offsets in `text`.
  const lower = asciiLower(text);
  for (const match of text.matchAll(/<(\/?)([^\s/>]*)/g)) {
    const start = match.index ?? 0;
    const closing = match[1] === "/";
    const rawName = match[2] ?? "";
    const nameStart = start + 1 + (closing ? 1 : 0);
    if (rawName.startsWith(PLACEHOLDER) || (rawName.includes(PLACEHOLDER) && /^[A-Za-z]/.test(rawName))) {
      find(nameStart, "mustache-in-tag", "a tag's name cannot come from a mustache");
      continue;
    }
    if (!/^[A-Za-z]/.test(rawName) || closing) continue;
    const name = asciiLower(rawName);
    const refused = REFUSED_ELEMENTS[name] ?? (svgAsset ? REFUSED_IN_SVG_ASSETS[name] : undefined);
    if (refused) find(start, refused[0], refused[1]);
    const { attributes, end } = readAttributes(text, nameStart + rawName.length);
    for (const attribute of attributes) checkAttribute(name, attribute);
    if (name === "style") {
      const close = lower.indexOf("</style", end);
      const contentEnd = close < 0 ? text.length : close;
      css(end, text.slice(end, contentEnd));
    }
  }

  function checkAttribute(tag: string, a: Attribute): void {
    if (a.name.includes(PLACEHOLDER)) {
      find(a.nameStart, "mustache-in-tag", "an attribute's name cannot come from a mustache");
      return;
    }
    const decoded = decodeEntities(a.raw);
    if (a.name.startsWith("on")) {
      find(a.nameStart, "script", `event handler attributes (${a.name}) are not allowed: nothing runs in the page`);
    }
    // Browsers skip white space and control characters inside a URL's scheme ("java\tscript:").
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    if (/(?:java|vb)script:/i.test(decoded.replace(/&[A-Za-z]+;?|[\s\u0000-\u001f]/g, ""))) {
      find(a.valueStart, "script", "javascript: URLs are not allowed");
      return;
    }
    const local = a.name.includes(":") ? a.name.slice(a.name.lastIndexOf(":") + 1) : a.name;
    if (URL_ATTRIBUTES.has(local)) checkUrl(tag, local, a, decoded);
    if (CSS_ATTRIBUTES.has(a.name)) css(a.valueStart, a.raw);
    else if (/url\(|image-set|@import|\\/i.test(decoded)) css(a.valueStart, a.raw);
  }

  function checkUrl(tag: string, name: string, a: Attribute, decoded: string): void {
    const value = decoded.trim();
    const inside = mustachesIn(a.valueStart, a.valueStart + a.raw.length);
    const link = tag === "a" && name === "href";
    if (name === "srcset" || name === "imagesrcset") {
      find(a.valueStart, "srcset", `${name} is not allowed: use src="assets/<file>"`);
      return;
    }
    if (inside.length > 0) {
      const image = (tag === "img" || tag === "image") && (name === "src" || name === "href");
      const only = inside[0];
      if (image && inside.length === 1 && only?.helper === "dataImage" && a.raw.trim() === rawOf(only, text)) return;
      if (link && /^(?:https?:\/\/|mailto:|tel:)/i.test(value)) return;
      find(
        a.valueStart,
        "url-not-literal",
        `${name}="…" is made from data: only a literal assets/<file> (or #id) may be referenced, or {{dataImage …}} as an image's src`,
      );
      return;
    }
    if (value === "" || (value.startsWith("#") && name !== "src")) return;
    if (link && /^(?:https?:|mailto:|tel:)/i.test(value)) return;
    const asset = /^assets\/([^/]+)$/.exec(value)?.[1];
    if (svgAsset) {
      if (/^data:image\/(?:png|jpeg|webp);base64,/i.test(value) && (name === "href" || name === "src")) return;
      find(a.valueStart, "fetch", `${name}="${shorten(value, 80)}": an SVG asset may refer only to #id inside itself`);
    } else if (asset !== undefined && context.assets?.has(asset)) {
      refs.push({ start: a.valueStart, end: a.valueStart + a.raw.length, asset });
    } else if (asset !== undefined) {
      find(a.valueStart, "unknown-asset", `${name}="${value}": the package has no file assets/${asset}`);
    } else {
      find(
        a.valueStart,
        "fetch",
        `${name}="${shorten(value, 80)}" would fetch: only assets/<file> of the package (or #id) may be referenced`,
      );
    }
  }

  return { findings, refs };
}

/** The source with every mustache replaced by a placeholder of the same length. */
function skeleton(source: string, mustaches: readonly Mustache[]): string {
  let out = "";
  let at = 0;
  for (const m of [...mustaches].sort((a, b) => a.start - b.start)) {
    out += source.slice(at, m.start) + PLACEHOLDER + FILL.repeat(Math.max(0, m.end - m.start - 1));
    at = m.end;
  }
  return out + source.slice(at);
}

function rawOf(m: Mustache, text: string): string {
  return text.slice(m.start, m.end);
}

/** A tag's attributes from `from` to its `>` (or the end of the text), as the HTML tokenizer reads them. */
function readAttributes(text: string, from: number): { attributes: Attribute[]; end: number } {
  const attributes: Attribute[] = [];
  let i = from;
  for (;;) {
    while (i < text.length && /[\s/]/.test(text[i] as string)) i++;
    if (i >= text.length || text[i] === ">") return { attributes, end: Math.min(text.length, i + 1) };
    const nameStart = i;
    i++; // a name may start with "="
    while (i < text.length && !/[\s/>=]/.test(text[i] as string)) i++;
    const name = asciiLower(text.slice(nameStart, i));
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (text[i] !== "=") {
      attributes.push({ name, nameStart, raw: "", valueStart: i });
      continue;
    }
    i++;
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const close = text.indexOf(quote, i + 1);
      const end = close < 0 ? text.length : close;
      attributes.push({ name, nameStart, raw: text.slice(i + 1, end), valueStart: i + 1 });
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && !/[\s>]/.test(text[i] as string)) i++;
      attributes.push({ name, nameStart, raw: text.slice(start, i), valueStart: start });
    }
  }
}

const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  colon: ":",
  Tab: "\t",
  NewLine: "\n",
  nbsp: "\u00a0",
  lpar: "(",
  rpar: ")",
  sol: "/",
  bsol: "\\",
  period: ".",
  comma: ",",
  num: "#",
  semi: ";",
  excl: "!",
  quest: "?",
  equals: "=",
  plus: "+",
  lowbar: "_",
  commat: "@",
  percnt: "%",
  ast: "*",
};

/**
 * Character references decoded: numeric ones and the named ones that spell URL syntax (enough to see
 * `javascript&colon;` or `&#117;rl(`); any other named reference stays as written, which makes a
 * URL that uses one fail to match an asset, i.e. be refused.
 */
function decodeEntities(value: string): string {
  if (!value.includes("&")) return value;
  return value.replace(/&(?:#[xX]([0-9a-fA-F]+)|#(\d+)|([A-Za-z]+));?/g, (all, hex, dec, named) => {
    if (hex !== undefined || dec !== undefined) {
      const code = Number.parseInt(hex ?? dec, hex !== undefined ? 16 : 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
        ? String.fromCodePoint(code)
        : "\ufffd";
    }
    return NAMED[named as string] ?? all;
  });
}
