/**
 * The sRGB colour profile of every PDF/A output intent (pdfa.ts): "sRGB-v4.icc" (480 bytes) from
 * Clinton Ingram's Compact ICC Profiles (github.com/saucecontrol/Compact-ICC-Profiles, commit
 * bdd8466, profiles/sRGB-v4.icc), released to the public domain under CC0 1.0 Universal.
 *
 * An ICC v4.2 display ("mntr") profile: RGB data, XYZ connection space, the sRGB primaries and D65
 * white adapted to D50 (chad), and the sRGB tone curve as one parametric curve; its MD5 profile ID is
 * set. ISO 19005-2/-3 (6.2.3) take monitor or printer profiles of any ICC version below 5.
 * Kept as bytes in a module so that every bundle (Lambda, CLI) carries it without a file to copy.
 */
export const SRGB_PROFILE: Uint8Array = new Uint8Array(
  Buffer.from(
    "AAAB4GxjbXMEIAAAbW50clJHQiBYWVogB+IAAwAUAAkADgAdYWNzcE1TRlQAAAAAc2F3c2N0cmwAAAAAAAAAAAAAAAAAAPbW" +
      "AAEAAAAA0y1oYW5keem/Vlo+AbaDI4VVRvdPqgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKZGVzYwAAAPwAAAAk" +
      "Y3BydAAAASAAAAAid3RwdAAAAUQAAAAUY2hhZAAAAVgAAAAsclhZWgAAAYQAAAAUZ1hZWgAAAZgAAAAUYlhZWgAAAawAAAAU" +
      "clRSQwAAAcAAAAAgZ1RSQwAAAcAAAAAgYlRSQwAAAcAAAAAgbWx1YwAAAAAAAAABAAAADGVuVVMAAAAIAAAAHABzAFIARwBC" +
      "bWx1YwAAAAAAAAABAAAADGVuVVMAAAAGAAAAHABDAEMAMAAAWFlaIAAAAAAAAPbWAAEAAAAA0y1zZjMyAAAAAAABDD8AAAXd" +
      "///zJgAAB5AAAP2S///7of///aIAAAPcAADAcVhZWiAAAAAAAABvoAAAOPIAAAOPWFlaIAAAAAAAAGKWAAC3iQAAGNpYWVog" +
      "AAAAAAAAJKAAAA+FAAC2xHBhcmEAAAAAAAMAAAACZmkAAPKnAAANWQAAE9AAAApb",
    "base64",
  ),
);

/** Named in the output intent: the condition the profile describes. */
export const SRGB_CONDITION = "sRGB IEC61966-2.1";
