import { fixedString, toDecimal } from "./decimal.ts";

/**
 * 人民币大写: an amount in yuan as written on Chinese bills and payment vouchers, after the People's
 * Bank of China's rules for filling in bills (《正确填写票据和结算凭证的基本规定》):
 *
 * - digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿, then 元角分; 拾 always has its digit (10 → 壹拾);
 * - an amount that ends at 元 ends with 整 (10.00 → 壹拾元整, 0 → 零元整); after 角 or 分 nothing;
 * - zeros between digits are written as one 零 (1005.07 → 壹仟零伍元零柒分, 6007.14 → 陆仟零柒元壹角肆分);
 *   a 万 or 亿 group that starts with zeros after a larger one also takes one 零 (100010000 → 壹亿零壹万元整);
 * - 角 is 0 but 分 is not: 零 after 元 (325.04 → 叁佰贰拾伍元零肆分); 元位 is 0 but 角 is not: the rules
 *   allow 零 after 元 or none, and 零 is written, as in their first example (1680.32 → 壹仟陆佰捌拾元零叁角贰分);
 * - less than one yuan starts at 角 or 分 (0.05 → 伍分); a negative amount starts with 负.
 *
 * The amount is rounded to the fen (分), halves away from zero, from the decimal it is written as
 * (1.005 → 壹元零壹分), at every magnitude ("90071992547409.93" → …玖角叁分, which a double would make
 * 玖角肆分). Amounts of 10^16 yuan or more are refused.
 */
export function cnyUpper(amount: unknown): string {
  const decimal = toDecimal(amount);
  if (!decimal) throw new Error(`cnyUpper: ${JSON.stringify(amount) ?? String(amount)} is not an amount`);
  // Rounded in decimal, then counted in whole fen: "-12.345" → "-12.35" → -1235n.
  let fen = BigInt(fixedString(decimal, 2).replace(".", ""));
  const negative = fen < 0n;
  if (negative) fen = -fen;
  if (fen >= 10n ** 18n) throw new Error(`cnyUpper: ${String(amount)} is too large (at most 16 digits of yuan)`);
  if (fen === 0n) return "零元整";
  const yuan = fen / 100n;
  const jiao = Number((fen / 10n) % 10n);
  const cents = Number(fen % 10n);
  let out = yuan > 0n ? `${integerWords(yuan)}元` : "";
  if (jiao === 0 && cents === 0) {
    out += "整";
  } else {
    if (yuan > 0n && (jiao === 0 || yuan % 10n === 0n)) out += "零";
    if (jiao > 0) out += `${DIGITS[jiao]}角`;
    if (cents > 0) out += `${DIGITS[cents]}分`;
  }
  return negative ? `负${out}` : out;
}

const DIGITS = "零壹贰叁肆伍陆柒捌玖";
const PLACES = ["仟", "佰", "拾", ""];

/** 1 ≤ n: 亿 groups, each of 万 groups, each of four digits. */
function integerWords(n: bigint): string {
  if (n >= 100_000_000n) return `${integerWords(n / 100_000_000n)}亿${rest(n % 100_000_000n, 10_000_000n, belowYi)}`;
  return belowYi(n);
}

/** 1 ≤ n < 10^8. */
function belowYi(n: bigint): string {
  if (n >= 10_000n) return `${group(n / 10_000n)}万${rest(n % 10_000n, 1_000n, group)}`;
  return group(n);
}

/** The lower part after a 亿 or 万: nothing when 0, and one 零 first when it starts with a zero. */
function rest(n: bigint, lowestFull: bigint, words: (n: bigint) => string): string {
  if (n === 0n) return "";
  return `${n < lowestFull ? "零" : ""}${words(n)}`;
}

/** 1 ≤ n < 10^4: zeros inside are one 零, trailing zeros nothing. */
function group(n: bigint): string {
  const digits = n.toString().padStart(4, "0");
  let out = "";
  let zero = false;
  for (const [i, ch] of [...digits].entries()) {
    const d = Number(ch);
    if (d === 0) {
      zero = out !== "";
      continue;
    }
    if (zero) out += "零";
    zero = false;
    out += `${DIGITS[d]}${PLACES[i]}`;
  }
  return out;
}
