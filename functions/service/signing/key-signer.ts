import { type KeyObject, sign } from "node:crypto";
import type { PdfSigner } from "../../core/secure/index.ts";

/**
 * A signer whose private key is in this process (a PKCS#12 file for the CLI, `npm start`'s own key):
 * RSASSA-PKCS1-v1_5 or ECDSA (DER) with SHA-256, by node:crypto.
 */
export function keySigner(key: KeyObject, certificates: Uint8Array[]): PdfSigner {
  const type = key.asymmetricKeyType;
  if (key.type !== "private" || (type !== "rsa" && type !== "ec")) {
    throw new Error(`a signing key must be an RSA or EC private key, not ${key.type} ${type ?? ""}`.trim());
  }
  return {
    keyType: type === "rsa" ? "RSA" : "EC",
    certificates: async () => certificates,
    sign: async (data) => new Uint8Array(sign("sha256", data, key)),
  };
}
