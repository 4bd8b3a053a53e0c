import type { Format, FormatDefinition } from "ajv/dist/2020.js";
import type { FormatName } from "ajv-formats";
import { RE2JS } from "re2js";
import { translateEcmaPattern } from "./ecma-pattern.ts";

/**
 * ajv-formats checks formats with backtracking regular expressions. Most take time in proportion to
 * the text (5 MB in a second at most), but four do not, and a string may be several MB long:
 * - `url` backtracks over every ":" and "@" of its user-info part: 20,000 ":" took 0.6 s, and the
 *   time grows with the square of the length (hours for 5 MB);
 * - `byte` overflows V8's stack (RangeError, the validation throws) on 5 MB of base64 and one "!";
 * - `date-time`, `iso-date-time` split the text at every "t" and space: 5 MB of them, 1.5 s and
 *   5 million strings.
 * These give the same answers in linear time. Each is tested against ajv-formats' own.
 */
export function linearFormats(builtIn: (name: FormatName) => Format): Record<string, Format> {
  return {
    url: (text: string) => URL_RE2.test(text),
    byte,
    "date-time": dateTime("date-time", validator(builtIn("time")), builtIn),
    "iso-date-time": dateTime("iso-date-time", validator(builtIn("iso-time")), builtIn),
  };
}

// ajv-formats' `url` (dperini's), with its lookaheads, which only keep private IPv4 addresses (10/8,
// 127/8, 169.254/16, 192.168/16, 172.16/12) out, written as the public addresses they leave.
const OCTET = "(?:1?\\d{1,2}|2[0-4]\\d|25[0-5])";
const LAST_OCTET = "(?:[1-9]\\d?|1\\d\\d|2[0-4]\\d|25[0-4])";
const FIRST_OCTET_NOT_PRIVATE =
  "(?:[1-9]|1[1-9]|[2-9]\\d|1(?:[013-58]\\d|2[0-689]|6[0-8]|7[013-9]|9[013-9])|2[01]\\d|22[0-3])";
const PUBLIC_IPV4 = `(?:${FIRST_OCTET_NOT_PRIVATE}\\.${OCTET}|169\\.(?:1?\\d{1,2}|2[0-4]\\d|25[0-35])|192\\.(?:\\d{1,2}|1(?:[0-57-9]\\d|6[0-79])|2[0-4]\\d|25[0-5])|172\\.(?:\\d|[04-9]\\d|1[0-5]|3[2-9]|1\\d\\d|2[0-4]\\d|25[0-5]))\\.${OCTET}\\.${LAST_OCTET}`;
const LABEL = "(?:[a-z0-9\\u{00a1}-\\u{ffff}]+-)*[a-z0-9\\u{00a1}-\\u{ffff}]+";
const HOST_NAME = `(?:${LABEL})(?:\\.${LABEL})*(?:\\.(?:[a-z\\u{00a1}-\\u{ffff}]{2,}))`;
/** The ECMAScript source (flags `iu`), exported for the test that compares it with ajv-formats'. */
const URL_PATTERN = `^(?:https?|ftp):\\/\\/(?:\\S+(?::\\S*)?@)?(?:${PUBLIC_IPV4}|${HOST_NAME})(?::\\d{2,5})?(?:\\/[^\\s]*)?$`;
const URL_RE2 = RE2JS.compile(re2Source(URL_PATTERN), RE2JS.CASE_INSENSITIVE);

function re2Source(pattern: string): string {
  const translated = translateEcmaPattern(pattern);
  if ("refused" in translated) throw new Error(`cannot translate ${pattern}: ${translated.refused.reason}`);
  return translated.re2;
}

// ajv-formats' `byte`: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/gm, whose
// `m` makes any one line enough (an empty line included). Such a line is base64 characters then at
// most two "=", a multiple of 4 long in all.
function byte(text: string): boolean {
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || isLineTerminator(text.charCodeAt(i))) {
      if (isBase64Line(text, start, i)) return true;
      start = i + 1;
    }
  }
  return false;
}

function isLineTerminator(code: number): boolean {
  return code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029;
}

function isBase64Line(text: string, start: number, end: number): boolean {
  if ((end - start) % 4 !== 0) return false;
  let body = end;
  while (body > start && end - body < 2 && text.charCodeAt(body - 1) === 0x3d) body--; // "="
  for (let i = start; i < body; i++) if (!isBase64Char(text.charCodeAt(i))) return false;
  return true;
}

function isBase64Char(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2b ||
    code === 0x2f
  );
}

/**
 * ajv-formats' `date-time`: the text split at /t|\s/i must give two parts, a date and a time. The
 * same, found with two searches instead of a split.
 */
function dateTime(name: FormatName, time: (text: string) => boolean, builtIn: (name: FormatName) => Format): Format {
  const date = validator(builtIn("date"));
  const separator = /t|\s/gi;
  const validate = (text: string): boolean => {
    separator.lastIndex = 0;
    const first = separator.exec(text);
    if (!first || separator.exec(text)) return false;
    return date(text.slice(0, first.index)) && time(text.slice(first.index + 1));
  };
  return { ...(builtIn(name) as FormatDefinition<string>), validate };
}

function validator(format: Format): (text: string) => boolean {
  const check = typeof format === "object" && !(format instanceof RegExp) ? format.validate : format;
  if (check instanceof RegExp) return (text) => check.test(text);
  if (typeof check === "function") return check as (text: string) => boolean;
  throw new Error("a format that is not a function or a regular expression");
}
