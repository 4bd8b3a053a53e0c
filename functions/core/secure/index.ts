/**
 * Secure PDFs: AES-256 encryption (ISO 32000-2, revision 6) of a finished file, its options'
 * checks (SASLprep of the passwords), and PAdES signatures made by a signer the door hands in.
 * Signing (sign.ts) pulls in a CMS library: render.ts loads it only when a render asks to sign.
 */
export { encryptOptionIssues } from "./encrypt-options.ts";
export { encryptPdf } from "./encrypt.ts";
export type { PdfSigner } from "./signer.ts";
