/**
 * Exact decimal arithmetic for the helpers that handle money. Binary floating point cannot add
 * 0.1 and 0.2, nor round 1.005 to 1.01; a number is taken here as the decimal it is written as
 * (its shortest representation, or a numeric string as given) and computed on with BigInt.
 */
export interface Decimal {
  /** The digits, as an integer: the value is units × 10^-scale. */
  units: bigint;
  scale: number;
}

const NUMERIC = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-]?)\.(\d+)(?:[eE]([+-]?\d+))?$/;
/** Digits beyond which a number is refused (nothing that prints on a page needs more). */
const MAX_DIGITS = 60;

/** A number or a numeric string ("12345.60") as a Decimal; anything else (NaN, "12,3", null) is undefined. */
export function toDecimal(value: unknown): Decimal | undefined {
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
  const sign = m[1] ?? m[5] ?? "";
  const whole = m[2] ?? "0";
  const fraction = m[3] ?? m[6] ?? "";
  const exponent = Number(m[4] ?? m[7] ?? "0");
  if (whole.length + fraction.length > MAX_DIGITS || Math.abs(exponent) > MAX_DIGITS) return undefined;
  let units = BigInt(`${whole}${fraction}`);
  let scale = fraction.length - exponent;
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: sign === "-" ? -units : units, scale };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return { units: x + y, scale };
}

export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return { units: x - y, scale };
}

export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/** Rounded to `places` decimals, halves away from zero (1.005 → 1.01, -2.5 → -3). */
export function roundDecimal(d: Decimal, places: number): Decimal {
  if (d.scale <= places) return d;
  const divisor = 10n ** BigInt(d.scale - places);
  const negative = d.units < 0n;
  const magnitude = negative ? -d.units : d.units;
  let units = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) units += 1n;
  return { units: negative ? -units : units, scale: places };
}

/** Plain notation, no exponent: "-1234.50" keeps its scale. */
export function decimalString(d: Decimal): string {
  const negative = d.units < 0n;
  const digits = (negative ? -d.units : d.units).toString().padStart(d.scale + 1, "0");
  const whole = digits.slice(0, digits.length - d.scale);
  const fraction = digits.slice(digits.length - d.scale);
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** The nearest number (what other helpers and comparisons then take). */
export function decimalToNumber(d: Decimal): number {
  return Number(decimalString(d));
}
