/**
 * SASLprep (RFC 4013, the stringprep profile ISO 32000-2 7.6.4.3.3 asks of AES-256 passwords): what
 * a reader does to the password typed before it hashes it, so the file must be made with the same
 * text. Mapping (non-ASCII spaces → space, "commonly mapped to nothing" → nothing), NFKC, then the
 * prohibited characters and the bidirectional rule checked. Node's Unicode tables are newer than
 * stringprep's Unicode 3.2: characters unassigned in 3.2 are let through, as a query string's are.
 */

/** Stringprep C.1.2: non-ASCII spaces, mapped to U+0020. */
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/gu;

/** Stringprep B.1: mapped to nothing (soft hyphen, joiners, variation selectors, …). */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each is removed on its own, joined to nothing
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;

/**
 * Stringprep C.1.2 and C.2.1–C.9: non-ASCII spaces, controls, private use, non-characters,
 * surrogates (unpaired), characters inappropriate for plain text or canonical representation,
 * directional formatting, tags.
 */
const PROHIBITED = new RegExp(
  [
    "[\\u00A0\\u1680\\u2000-\\u200B\\u202F\\u205F\\u3000]", // C.1.2
    "[\\u0000-\\u001F\\u007F]", // C.2.1
    "[\\u0080-\\u009F\\u06DD\\u070F\\u180E\\u200C\\u200D\\u2028\\u2029\\u2060-\\u2063\\u206A-\\u206F\\uFEFF\\uFFF9-\\uFFFC\\u{1D173}-\\u{1D17A}]", // C.2.2
    "[\\uE000-\\uF8FF\\u{F0000}-\\u{FFFFD}\\u{100000}-\\u{10FFFD}]", // C.3
    "[\\uFDD0-\\uFDEF\\uFFFE\\uFFFF\\u{1FFFE}\\u{1FFFF}\\u{2FFFE}\\u{2FFFF}\\u{3FFFE}\\u{3FFFF}\\u{4FFFE}\\u{4FFFF}\\u{5FFFE}\\u{5FFFF}\\u{6FFFE}\\u{6FFFF}\\u{7FFFE}\\u{7FFFF}\\u{8FFFE}\\u{8FFFF}\\u{9FFFE}\\u{9FFFF}\\u{AFFFE}\\u{AFFFF}\\u{BFFFE}\\u{BFFFF}\\u{CFFFE}\\u{CFFFF}\\u{DFFFE}\\u{DFFFF}\\u{EFFFE}\\u{EFFFF}\\u{FFFFE}\\u{FFFFF}\\u{10FFFE}\\u{10FFFF}]", // C.4
    "[\\uD800-\\uDFFF]", // C.5 (with the u flag only unpaired halves match)
    "[\\uFFF9-\\uFFFD]", // C.6
    "[\\u2FF0-\\u2FFB]", // C.7
    "[\\u0340\\u0341\\u200E\\u200F\\u202A-\\u202E\\u206A-\\u206F]", // C.8
    "[\\u{E0001}\\u{E0020}-\\u{E007F}]", // C.9
  ].join("|"),
  "u",
);

/**
 * Stringprep D.1: characters with bidirectional property R or AL. D.2 (property L) is a long table;
 * it is taken here as every letter outside the right-to-left scripts D.1 covers (Hebrew, Arabic,
 * Syriac, Thaana, N'Ko): Latin, Greek, Cyrillic, Han, Kana, Hangul, … all are.
 */
const RAND_AL =
  /[\u05BE\u05C0\u05C3\u05D0-\u05EA\u05F0-\u05F4\u061B\u061F\u0621-\u063A\u0640-\u064A\u066D-\u066F\u0671-\u06D5\u06DD\u06E5\u06E6\u06FA-\u06FE\u0700-\u070D\u0710\u0712-\u072C\u0780-\u07A5\u07B1\u200F\uFB1D\uFB1F-\uFB28\uFB2A-\uFB36\uFB38-\uFB3C\uFB3E\uFB40\uFB41\uFB43\uFB44\uFB46-\uFBB1\uFBD3-\uFD3D\uFD50-\uFD8F\uFD92-\uFDC7\uFDF0-\uFDFC\uFE70-\uFE74\uFE76-\uFEFC]/u;
const L_CAT = /(?![\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}])\p{L}/u;

/** Why a password cannot be prepared: its text breaks a SASLprep rule (the message names which). */
export class PasswordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PasswordError";
  }
}

/** The password as a reader hashes it: SASLprep'd, as UTF-8, cut to its first 127 bytes. */
export function passwordBytes(password: string): Buffer {
  return Buffer.from(saslprep(password), "utf8").subarray(0, 127);
}

/**
 * RFC 4013 with stored-string rules except for unassigned code points. Throws PasswordError for a
 * prohibited character or mixed directions; its message never contains the password.
 */
function saslprep(password: string): string {
  const mapped = password.replace(MAPPED_TO_NOTHING, "").replace(NON_ASCII_SPACE, " ").normalize("NFKC");
  const bad = PROHIBITED.exec(mapped);
  if (bad) {
    const code = bad[0].codePointAt(0) ?? 0;
    throw new PasswordError(`contains U+${code.toString(16).toUpperCase().padStart(4, "0")}, which SASLprep prohibits`);
  }
  if (RAND_AL.test(mapped)) {
    const chars = [...mapped];
    if (L_CAT.test(mapped)) throw new PasswordError("mixes right-to-left and left-to-right letters");
    if (!RAND_AL.test(chars[0] ?? "") || !RAND_AL.test(chars.at(-1) ?? "")) {
      throw new PasswordError("has right-to-left letters but does not begin and end with one");
    }
  }
  return mapped;
}
