/**
 * Who signs PDFs (`options.pdf.sign`). The core builds the signature (CMS, PAdES) around what a
 * signer gives; where the private key lives is the door's business: AWS KMS on Lambda, a key made on
 * first use under `npm start`'s data folder, a PKCS#12 file for the CLI. The key never reaches the core.
 */
export interface PdfSigner {
  /** The signer's X.509 certificate first, then its chain (if any), each DER-encoded. */
  certificates(): Promise<Uint8Array[]>;
  /**
   * The key's kind: "RSA" signs RSASSA-PKCS1-v1_5 with SHA-256; "EC" signs ECDSA P-256 with SHA-256
   * (a DER-encoded Ecdsa-Sig-Value).
   */
  readonly keyType: "RSA" | "EC";
  /** Signs `data` (the DER-encoded CMS signed attributes, a few hundred bytes) with SHA-256. */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Why this signer cannot sign yet (e.g. its key has no certificate): renders asking for a
   * signature are then refused with this message before any work (422), and jobs at submission.
   */
  readonly unavailable?: string;
}
