import { shorten } from "./problems.ts";

/**
 * What in CSS could make the page fetch: url() (fonts, backgrounds, cursors, list markers, masks…),
 * @import, and the functions that take a URL as a string (src(), image-set(), image(), element()).
 * CSS escapes are decoded first (`\75 rl(` is url(), `@\69mport` is @import); comments are not
 * skipped (a url() in a comment is refused too: cheaper than being wrong about where comments end).
 * Only `url(assets/<file>)` of a file in the package and `url(#id)` (a reference inside the
 * document) are allowed; the former is inlined as a data: URL when the package is loaded.
 */

export interface CssFinding {
  /** Offset in the scanned text. */
  offset: number;
  rule: string;
  message: string;
}

/** A `url(assets/<file>)` to inline: the span of its argument (quotes included) in the scanned text. */
export interface AssetRef {
  start: number;
  end: number;
  asset: string;
}

export interface CssScan {
  findings: CssFinding[];
  refs: AssetRef[];
}

const FETCHING_FUNCTIONS =
  /(?<![\w-])(url|src|image-set|-webkit-image-set|image|element)\(|@import\b|(?<![\w-])attr\([^)]*(?:url|type\()/gi;

/** `assets` are the package's asset file names; `null` when no asset may be referenced (inside an SVG asset). */
export function scanCss(css: string, assets: ReadonlySet<string> | null): CssScan {
  const { text, at } = decodeEscapes(css);
  // ASCII only, as CSS folds case: a full toLowerCase changes lengths (İ becomes two code units),
  // and offsets found in `lower` must be offsets in `text`.
  const lower = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const findings: CssFinding[] = [];
  const refs: AssetRef[] = [];
  if (lower.includes("</style")) {
    const i = lower.indexOf("</style");
    findings.push({ offset: at(i), rule: "css-style-end", message: "</style> inside CSS is not allowed" });
  }
  for (const match of lower.matchAll(FETCHING_FUNCTIONS)) {
    const index = match.index ?? 0;
    const what = match[0];
    if (what.startsWith("@import")) {
      findings.push({
        offset: at(index),
        rule: "fetch",
        message: "@import would fetch a stylesheet: put the rules in style.css",
      });
      continue;
    }
    if (match[1] !== "url") {
      const name = match[1] ?? "attr";
      findings.push({
        offset: at(index),
        rule: "fetch",
        message: `${name}() can fetch: use url(assets/<file>) for a file of the package`,
      });
      continue;
    }
    const arg = urlArgument(text, index + what.length);
    const value = arg.value.trim();
    if (value.startsWith("#")) continue;
    const asset = /^assets\/([^/]+)$/.exec(value)?.[1];
    if (asset !== undefined && assets?.has(asset)) {
      refs.push({ start: at(arg.start), end: at(arg.end - 1) + 1, asset });
    } else if (asset !== undefined && assets) {
      findings.push({
        offset: at(arg.start),
        rule: "unknown-asset",
        message: `url(${value}): the package has no file assets/${asset}`,
      });
    } else {
      const allowed = assets
        ? "assets/<file> of the package or #id"
        : "#id (an SVG asset may refer to nothing outside itself)";
      findings.push({
        offset: at(arg.start),
        rule: "fetch",
        message: `url(${shorten(value, 80)}) would fetch: only ${allowed} may be referenced`,
      });
    }
  }
  return { findings, refs };
}

/** The argument of url(…) starting at `from`: quoted or bare, and its span (quotes included). */
function urlArgument(text: string, from: number): { value: string; start: number; end: number } {
  let i = from;
  while (/\s/.test(text[i] ?? "")) i++;
  const start = i;
  const quote = text[i];
  if (quote === '"' || quote === "'") {
    const close = text.indexOf(quote, i + 1);
    const end = close < 0 ? text.length : close + 1;
    return { value: text.slice(i + 1, close < 0 ? text.length : close), start, end };
  }
  while (i < text.length && text[i] !== ")" && !/\s/.test(text[i] as string)) i++;
  return { value: text.slice(start, i), start, end: i };
}

/**
 * The CSS with its escapes decoded, and the offset in the original of each decoded character
 * (`at(i)`), so that findings point into the file as written.
 */
function decodeEscapes(css: string): { text: string; at: (i: number) => number } {
  if (!css.includes("\\")) return { text: css, at: (i) => Math.min(i, css.length) };
  let text = "";
  const offsets: number[] = [];
  for (let i = 0; i < css.length; ) {
    if (css[i] !== "\\") {
      offsets.push(i);
      text += css[i];
      i++;
      continue;
    }
    const hex = /^[0-9a-fA-F]{1,6}[ \t\n\r\f]?/.exec(css.slice(i + 1, i + 8));
    if (hex) {
      const code = Number.parseInt(hex[0].trim(), 16);
      const ch =
        code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? "\ufffd" : String.fromCodePoint(code);
      for (const unit of ch) {
        for (let k = 0; k < unit.length; k++) offsets.push(i);
        text += unit;
      }
      i += 1 + hex[0].length;
    } else if (css[i + 1] === "\n") {
      i += 2; // a line continuation inside a string
    } else if (i + 1 < css.length) {
      offsets.push(i);
      text += css[i + 1];
      i += 2;
    } else {
      i++;
    }
  }
  return { text, at: (i) => offsets[i] ?? css.length };
}
