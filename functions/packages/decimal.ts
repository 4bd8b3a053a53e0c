import Big from "big.js";

/**
 * Exact decimal arithmetic for the helpers that handle money (big.js). Binary floating point cannot
 * add 0.1 and 0.2, round 1.005 to 1.01, nor hold 90071992547409.93; a value is taken here as the
 * decimal it is written as (a number's shortest representation, or a numeric string as given).
 */

/** A constructor of our own: its settings are not those of anyone else's `Big`. */
const Decimal = Big();
/** Places `divide` keeps (1 ÷ 3 → 0.33333333333333333333): more than a double's 17 digits. */
const DIVISION_PLACES = 20;
Decimal.DP = DIVISION_PLACES;
Decimal.RM = Decimal.roundHalfUp; // halves away from zero, in division and rounding alike
// Plain notation at every magnitude a value can have (MAX_DIGITS): never "1e+21".
Decimal.NE = -1e6;
Decimal.PE = 1e6;
// A JS number handed to the constructor would be a bug here: every value is parsed from its text.
Decimal.strict = true;

export type { Big as Decimal } from "big.js";

export const ZERO = new Decimal("0");

/** Digits beyond which a value is refused (nothing that prints on a page needs more). */
export const MAX_DIGITS = 60;

const NUMERIC = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-]?)\.(\d+)(?:[eE]([+-]?\d+))?$/;

/** A value as written: its decimal, and its places after the point ("1234.50" has 2). */
export interface Written {
  value: Big;
  places: number;
}

/** A number or a numeric string ("12345.60", "1e3") as written; anything else (NaN, "12,3", null) is undefined. */
export function parseDecimal(value: unknown): Written | undefined {
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return undefined;
    text = String(value);
  } else if (typeof value === "string") {
    text = value.trim();
  } else if (typeof value === "bigint") {
    text = value.toString();
  } else {
    return undefined;
  }
  const m = NUMERIC.exec(text);
  if (!m) return undefined;
  const sign = m[1] || m[5] || "";
  const whole = m[2] ?? "0";
  const fraction = m[3] ?? m[6] ?? "";
  const exponent = Number(m[4] ?? m[7] ?? "0");
  // Checked before big.js sees it: "1e999999" would otherwise become a million digits.
  if (whole.length + fraction.length > MAX_DIGITS || Math.abs(exponent) > MAX_DIGITS) return undefined;
  const digits = `${sign === "-" ? "-" : ""}${whole}.${fraction || "0"}e${exponent}`;
  return { value: new Decimal(digits), places: Math.max(0, fraction.length - exponent) };
}

export function toDecimal(value: unknown): Big | undefined {
  return parseDecimal(value)?.value;
}

export function isZero(d: Big): boolean {
  return d.c[0] === 0;
}

/** Plain notation, no exponent, no "-0": "-1234.5", "0.0000001", "1000000000000000000000". */
function plainString(d: Big): string {
  return isZero(d) ? "0" : d.toFixed();
}

/** The digits of `d` as plainString writes them (what MAX_DIGITS bounds). */
export function digitCount(d: Big): number {
  return plainString(d).replace(/[-.]/g, "").length;
}

/**
 * `d` rounded to `places` (halves away from zero: 1.005 → "1.01", -2.5 → "-3"), in plain notation
 * with exactly that many places and digits grouped by thousands with `separator`. A value that
 * rounds to zero has no sign: -0.001 → "0.00", as cnyUpper writes 零元整 for it.
 */
export function fixedString(d: Big, places: number, separator = ""): string {
  const rounded = d.round(places);
  const text = (isZero(rounded) ? ZERO : rounded).toFixed(places);
  if (!separator) return text;
  const [whole = "", fraction] = text.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, separator);
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/**
 * A result as the helpers hand it on: the JS number whose shortest form is exactly this decimal when
 * there is one (so `{{#if (eq (add @index 1) 3)}}` holds and `{{#if (sum …)}}` of zero is false), else
 * the decimal as a numeric string ("90071992547409.93", which no double holds; "0.0000001" rather
 * than 1e-7). Either way a helper that reads it back gets the exact decimal, and it prints as such.
 */
export function decimalValue(d: Big): number | string {
  const text = plainString(d);
  const n = Number(text);
  return String(n) === text ? n : text;
}
