import Handlebars, { type HelperDelegate, type HelperOptions } from "handlebars";
import { imageSize } from "image-size";
import { cnyUpper } from "./cny-upper.ts";
import {
  type Decimal,
  decimalValue,
  digitCount,
  fixedString,
  isZero,
  MAX_DIGITS,
  parseDecimal,
  toDecimal,
  type Written,
  ZERO,
} from "./decimal.ts";
import { ImageBudget } from "../../templates/report/budgets.ts";
import { InputError } from "../core/errors.ts";
import { chartFor, pointerTo } from "./package-charts.ts";
import { qrSvg } from "./qr-svg.ts";

/**
 * The helpers every template package can use: no package brings code of its own. Each is shown with
 * an example as written in template.hbs. A helper given a value it cannot take (a date that is no
 * date, text where a number belongs, a division by zero) stops the render with a message naming the
 * helper and the value: the input is refused, nothing is printed wrong.
 *
 * Numbers are read as the decimals they are written as ("1234.50", 0.1) and computed on exactly
 * (decimal.ts). sum, add, subtract, multiply and divide give a JS number when one holds the result
 * exactly (so `eq` and `#if` behave as with the data's own numbers), else the result as a numeric
 * text ("90071992547409.93"); every helper takes both.
 */

interface Call {
  args: unknown[];
  hash: Record<string, unknown>;
  /** The data the template renders (`@root`). */
  root: object;
}

/** A helper that takes between `min` and `max` arguments, and is not a block helper. */
function helper(name: string, min: number, max: number, fn: (call: Call) => unknown): HelperDelegate {
  return function (this: unknown, ...all: unknown[]) {
    const options = all.at(-1) as HelperOptions;
    const args = all.slice(0, -1);
    if (typeof options?.fn === "function") throw new Error(`${name} is not a block helper: write {{#if (${name} …)}}`);
    if (args.length < min || args.length > max) {
      const takes = min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
      throw new Error(`${name} takes ${takes} argument${max === 1 ? "" : "s"}; it was given ${args.length}`);
    }
    const root = (options?.data as { root?: unknown } | undefined)?.root;
    return fn({ args, hash: options?.hash ?? {}, root: typeof root === "object" && root !== null ? root : {} });
  };
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value)).slice(0, 60);
}

function writtenArg(name: string, value: unknown): Written {
  const d = parseDecimal(value);
  if (!d) throw new Error(`${name}: ${show(value)} is not a number`);
  return d;
}

function decimalArg(name: string, value: unknown): Decimal {
  return writtenArg(name, value).value;
}

/** What an arithmetic helper returns (see decimalValue): exact, and within what every helper reads. */
function result(name: string, d: Decimal): number | string {
  if (digitCount(d) > MAX_DIGITS) throw new Error(`${name}: the result has more than ${MAX_DIGITS} digits`);
  return decimalValue(d);
}

function decimalsOption(name: string, hash: Record<string, unknown>, fallback: number | undefined): number | undefined {
  const decimals = hash.decimals ?? fallback;
  if (decimals === undefined) return undefined;
  if (typeof decimals !== "number" || !Number.isInteger(decimals) || decimals < 0 || decimals > 10) {
    throw new Error(`${name}: decimals=${show(decimals)} is not a whole number from 0 to 10`);
  }
  return decimals;
}

/**
 * Grouped with commas, rounded half away from zero from the exact decimal (in big.js, not Intl:
 * the same digits on every Node and ICU). Without `decimals`, the places as written, at most 20.
 */
function grouped({ value, places }: Written, decimals: number | undefined, style: "decimal" | "percent"): string {
  if (style === "decimal") return fixedString(value, decimals ?? Math.min(20, places), ",");
  // × 100 by moving the point: exact, as the percentage of a decimal is.
  const percent = value.times("100");
  return `${fixedString(percent, decimals ?? Math.min(20, Math.max(0, places - 2)), ",")}%`;
}

function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

function compare(name: string, a: unknown, b: unknown): number {
  const x = toDecimal(a);
  const y = toDecimal(b);
  if (x && y) return x.cmp(y);
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  throw new Error(`${name}: cannot compare ${show(a)} with ${show(b)} (two numbers, or two texts)`);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function formatDate(value: unknown, pattern: string): string {
  const m = typeof value === "string" ? DATE.exec(value.trim()) : null;
  const [year, month, day, hour, minute, second] = (m?.slice(1) ?? []).map((v) => (v === undefined ? 0 : Number(v)));
  const valid =
    m !== null &&
    month !== undefined &&
    month >= 1 &&
    month <= 12 &&
    day !== undefined &&
    day >= 1 &&
    day <= new Date(Date.UTC(year ?? 0, month, 0)).getUTCDate() &&
    (hour ?? 0) < 24 &&
    (minute ?? 0) < 60 &&
    (second ?? 0) < 60;
  if (!valid) throw new Error(`formatDate: ${show(value)} is not a date (YYYY-MM-DD, optionally with a time)`);
  const two = (n: number | undefined) => String(n ?? 0).padStart(2, "0");
  const tokens: Record<string, string> = {
    YYYY: String(year),
    YY: two((year ?? 0) % 100),
    MM: two(month),
    M: String(month),
    DD: two(day),
    D: String(day),
    HH: two(hour),
    H: String(hour ?? 0),
    mm: two(minute),
    ss: two(second),
  };
  return pattern.replace(
    /\[([^\]]*)\]|YYYY|YY|MM|M|DD|D|HH|H|mm|ss/g,
    (token, literal) => literal ?? tokens[token] ?? token,
  );
}

/** Own properties only, along a dotted path: never a prototype's. */
function field(item: unknown, path: string): unknown {
  let node = item;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A CSS string literal of any text: every character but ASCII letters and digits as a CSS escape. */
function cssString(text: string): string {
  let out = "";
  for (const ch of text.replace(/\s+/g, " ")) {
    out += /^[A-Za-z0-9]$/.test(ch) ? ch : `\\${(ch.codePointAt(0) ?? 0).toString(16).padStart(6, "0")}`;
  }
  return `'${out}'`;
}

const DATA_IMAGE = /^data:image\/(?:png|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

/**
 * The images each render has written so far, by its data (`@root`): the helpers outlive renders, and
 * a render may run its template twice (package-charts.ts), which an image seen before does not count.
 */
const imageBudgets = new WeakMap<object, ImageBudget>();

function countImage(root: object, url: string, pixels: number, spent: number): void {
  let budget = imageBudgets.get(root);
  if (!budget) {
    budget = new ImageBudget(spent);
    imageBudgets.set(root, budget);
  }
  const overBudget = budget.add(url, pixels, () => pointerTo(root, url));
  if (overBudget) throw new InputError("invalid_data", [overBudget]);
}

/** The helpers' names, for the template check (a call to any other helper is refused). */
export const PACKAGE_HELPER_NAMES = [
  "formatNumber",
  "percent",
  "formatDate",
  "cnyUpper",
  "sum",
  "add",
  "subtract",
  "multiply",
  "divide",
  "eq",
  "ne",
  "gt",
  "gte",
  "lt",
  "lte",
  "and",
  "or",
  "not",
  "default",
  "join",
  "qrcode",
  "chart",
  "cssString",
  "cssValue",
  "dataImage",
] as const;

export type PackageHelperName = (typeof PACKAGE_HELPER_NAMES)[number];

/** The helpers, as registered with each package's Handlebars environment (`log` disabled). */
export interface PackageHelperOptions {
  /** Pixels of the package's own images: they count against the same budget as the data's (dataImage). */
  assetPixels?: number;
}

export function packageHelpers(options: PackageHelperOptions = {}): Record<PackageHelperName | "log", HelperDelegate> {
  return {
    /**
     * A number grouped by thousands, with `decimals` places (default: as many as it has).
     * `{{formatNumber 12345.6 decimals=2}}` → `12,345.60`; numeric strings too: `"1234.5"` → `1,234.5`.
     */
    formatNumber: helper("formatNumber", 1, 1, ({ args, hash }) =>
      grouped(writtenArg("formatNumber", args[0]), decimalsOption("formatNumber", hash, undefined), "decimal"),
    ),
    /** A ratio as a percentage, `decimals` places (default 1). `{{percent 0.03}}` → `3.0%`; `{{percent 0.1234 decimals=2}}` → `12.34%`. */
    percent: helper("percent", 1, 1, ({ args, hash }) =>
      grouped(writtenArg("percent", args[0]), decimalsOption("percent", hash, 1), "percent"),
    ),
    /**
     * A date (YYYY-MM-DD, optionally with a time: 2026-11-27T09:30) in a pattern of YYYY, YY, M, MM,
     * D, DD, H, HH, mm, ss; [text] is written as it is. The default pattern is YYYY年M月D日.
     * `{{formatDate "2026-11-27" "YYYY年M月D日"}}` → `2026年11月27日`; `{{formatDate due "DD/MM/YYYY"}}` → `27/11/2026`.
     */
    formatDate: helper("formatDate", 1, 2, ({ args }) => {
      const pattern = args[1] ?? "YYYY年M月D日";
      if (typeof pattern !== "string") throw new Error(`formatDate: the pattern ${show(pattern)} is not text`);
      return formatDate(args[0], pattern);
    }),
    /** 人民币大写 of an amount in yuan, rounded to the fen (see cny-upper.ts). `{{cnyUpper 12345.6}}` → `壹万贰仟叁佰肆拾伍元陆角`. */
    cnyUpper: helper("cnyUpper", 1, 1, ({ args }) => cnyUpper(args[0])),
    /**
     * The sum of a list of numbers, or of one field of each item (a dotted path), computed exactly.
     * `{{sum items "amount"}}` → `1234.5` for amounts 1000 and 234.5; `{{formatNumber (sum items "amount") decimals=2}}`
     * → `90,071,992,547,409.93` for amounts "90071992547409.90" and "0.03".
     */
    sum: helper("sum", 1, 2, ({ args }) => {
      const [list, path] = args;
      if (!Array.isArray(list)) throw new Error(`sum: ${show(list)} is not a list`);
      if (path !== undefined && typeof path !== "string") throw new Error(`sum: the field ${show(path)} is not text`);
      let total = ZERO;
      for (const [i, item] of list.entries()) {
        const value = path === undefined ? item : field(item, path);
        const d = toDecimal(value);
        if (!d) throw new Error(`sum: item ${i}${path ? `'s ${path}` : ""} (${show(value)}) is not a number`);
        total = total.plus(d);
      }
      return result("sum", total);
    }),
    /**
     * `{{add 0.1 0.2}}` → `0.3` (exact); `{{add @index 1}}` numbers rows from 1;
     * `{{add "123456789012345.67" "0.01"}}` → `123456789012345.68` (a text: no JS number holds it).
     */
    add: helper("add", 2, 2, ({ args }) => result("add", decimalArg("add", args[0]).plus(decimalArg("add", args[1])))),
    /** `{{subtract 10 0.3}}` → `9.7` (exact). */
    subtract: helper("subtract", 2, 2, ({ args }) =>
      result("subtract", decimalArg("subtract", args[0]).minus(decimalArg("subtract", args[1]))),
    ),
    /** `{{multiply price quantity}}`: `{{multiply 19.99 3}}` → `59.97` (exact). */
    multiply: helper("multiply", 2, 2, ({ args }) =>
      result("multiply", decimalArg("multiply", args[0]).times(decimalArg("multiply", args[1]))),
    ),
    /**
     * `{{divide 1 4}}` → `0.25`; `{{divide 2 3}}` → `0.66666666666666666667` (DIVISION_PLACES, 20
     * places, halves away from zero); dividing by zero stops the render.
     */
    divide: helper("divide", 2, 2, ({ args }) => {
      const a = decimalArg("divide", args[0]);
      const b = decimalArg("divide", args[1]);
      if (isZero(b)) throw new Error(`divide: division of ${show(args[0])} by zero`);
      // DIVISION_PLACES places, halves away from zero (the settings of decimal.ts's constructor).
      return result("divide", a.div(b));
    }),
    /** Strict equality. `{{#if (eq status "paid")}}已缴{{/if}}`. */
    eq: helper("eq", 2, 2, ({ args }) => args[0] === args[1]),
    /** `{{#if (ne status "paid")}}未缴{{/if}}`. */
    ne: helper("ne", 2, 2, ({ args }) => args[0] !== args[1]),
    /** Two numbers (or numeric texts) by value, two texts in order: `{{#if (gt amount 10000)}}大额{{/if}}`. */
    gt: helper("gt", 2, 2, ({ args }) => compare("gt", args[0], args[1]) > 0),
    /** `{{#if (gte score 60)}}合格{{/if}}`. */
    gte: helper("gte", 2, 2, ({ args }) => compare("gte", args[0], args[1]) >= 0),
    /** `{{#if (lt due "2026-12-01")}}…{{/if}}` (dates as YYYY-MM-DD texts compare in order). */
    lt: helper("lt", 2, 2, ({ args }) => compare("lt", args[0], args[1]) < 0),
    /** `{{#if (lte count 0)}}无{{/if}}`. */
    lte: helper("lte", 2, 2, ({ args }) => compare("lte", args[0], args[1]) <= 0),
    /** All true (an empty list is false, as in #if). `{{#if (and paid receipt)}}…{{/if}}`. */
    and: helper("and", 1, Number.POSITIVE_INFINITY, ({ args }) => args.every(truthy)),
    /** Any true. `{{#if (or phone email)}}…{{/if}}`. */
    or: helper("or", 1, Number.POSITIVE_INFINITY, ({ args }) => args.some(truthy)),
    /** `{{#if (not paid)}}请于到期日前缴款{{/if}}`. */
    not: helper("not", 1, 1, ({ args }) => !truthy(args[0])),
    /** The value, or the fallback when it is missing, null or "". `{{default remark "无"}}`. */
    default: helper("default", 2, 2, ({ args }) =>
      args[0] === undefined || args[0] === null || args[0] === "" ? args[1] : args[0],
    ),
    /** A list's items joined (default separator "、"). `{{join payers "、"}}` → `张三、李四`. */
    join: helper("join", 1, 2, ({ args }) => {
      const [list, separator = "、"] = args;
      if (!Array.isArray(list)) throw new Error(`join: ${show(list)} is not a list`);
      if (typeof separator !== "string") throw new Error(`join: the separator ${show(separator)} is not text`);
      if (!list.every((v) => typeof v === "string" || typeof v === "number")) {
        throw new Error("join: the list's items must be texts or numbers");
      }
      return list.join(separator);
    }),
    /**
     * A QR code of the text, as an inline SVG (no image file, no network). size: a CSS length
     * (default 30mm); margin: quiet zone in modules (default 4); level: L, M (default), Q or H.
     * `{{qrcode paymentUrl size="28mm"}}`.
     */
    qrcode: helper("qrcode", 1, 1, ({ args, hash }) => {
      const [text] = args;
      if (typeof text !== "string" && typeof text !== "number") throw new Error(`qrcode: ${show(text)} is not text`);
      const size = hash.size ?? "30mm";
      const margin = hash.margin ?? 4;
      const level = hash.level ?? "M";
      if (typeof size !== "string" || !/^\d+(?:\.\d+)?(?:mm|cm|in|pt|px)$/.test(size)) {
        throw new Error(`qrcode: size=${show(size)} is not a length such as "30mm"`);
      }
      if (typeof margin !== "number" || !Number.isInteger(margin) || margin < 0 || margin > 10) {
        throw new Error(`qrcode: margin=${show(margin)} is not a whole number from 0 to 10`);
      }
      if (level !== "L" && level !== "M" && level !== "Q" && level !== "H") {
        throw new Error(`qrcode: level=${show(level)} is not L, M, Q or H`);
      }
      return new Handlebars.SafeString(qrSvg(String(text), { size, margin, level }));
    }),
    /**
     * A bar, line or pie chart drawn on the server as SVG, as the report template's chart block:
     * spec is { kind, title?, unit?, stacked?, categories, series: [{ name, data }] }; width and
     * height in px (default 600 × 300). `{{chart revenueChart width=640 height=280}}`.
     */
    chart: helper("chart", 1, 1, ({ args, hash, root }) => {
      const width = hash.width ?? 600;
      const height = hash.height ?? 300;
      for (const [name, v] of [
        ["width", width],
        ["height", height],
      ] as const) {
        if (typeof v !== "number" || !Number.isInteger(v) || v < 100 || v > 2000) {
          throw new Error(`chart: ${name}=${show(v)} is not a whole number of px from 100 to 2000`);
        }
      }
      return new Handlebars.SafeString(chartFor(root, args[0], { width: width as number, height: height as number }));
    }),
    /**
     * Text as a CSS string, for `content:` in a <style> of template.hbs (running headers in @page
     * margin boxes): `@page { @top-right { content: {{cssString noticeNo}}; } }`. Every character but
     * letters and digits is escaped, so no text can end the string or the rule.
     */
    cssString: helper("cssString", 1, 1, ({ args }) => {
      const [text] = args;
      if (typeof text !== "string" && typeof text !== "number") throw new Error(`cssString: ${show(text)} is not text`);
      return new Handlebars.SafeString(cssString(String(text)));
    }),
    /**
     * A number, length, keyword or #colour for CSS: letters, digits, spaces and # . , % + - only (no
     * parentheses, so never a url()). `style="width: {{cssValue ratio}}%"`, `fill="{{cssValue colour}}"`.
     */
    cssValue: helper("cssValue", 1, 1, ({ args }) => {
      const value = String(args[0]);
      if (!/^[#A-Za-z0-9.,%+\- ]{1,100}$/.test(value))
        throw new Error(`cssValue: ${show(args[0])} is not a plain CSS value`);
      return value;
    }),
    /**
     * An image carried in the data as a data: URL (png, jpeg or webp, base64), for <img src>; anything
     * else, or an image over 20,000 px a side or 40 megapixels, stops the render, as do images that
     * come to more than the report template's budget for a whole render (templates/report/budgets.ts).
     * `<img src="{{dataImage signature}}" alt="签章">`.
     */
    dataImage: helper("dataImage", 1, 1, ({ args, root }) => {
      const [url] = args;
      if (typeof url !== "string" || !DATA_IMAGE.test(url)) {
        throw new Error(`dataImage: ${show(url)} is not a data:image/png, jpeg or webp URL in base64`);
      }
      let size: { width?: number; height?: number };
      try {
        size = imageSize(Buffer.from(url.slice(url.indexOf(",") + 1), "base64"));
      } catch {
        throw new Error("dataImage: the image cannot be read");
      }
      const w = size.width ?? 0;
      const h = size.height ?? 0;
      if (w > 20_000 || h > 20_000 || w * h > 40_000_000)
        throw new Error(`dataImage: the image is ${w} × ${h} pixels, too large`);
      countImage(root, url, w * h, options.assetPixels ?? 0);
      return url;
    }),
    /** Not available: it would write the data into the service's log. */
    log: () => "",
  };
}
