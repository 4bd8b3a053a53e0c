import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as asn1js from "asn1js";
import { ContentInfo, SignedData } from "pkijs";
import { hasTool, runTool } from "./pdf-tools.ts";
import { tempDir } from "./temp-dir.ts";

/**
 * Reading a signed PDF back with code other than ours: the /ByteRange and /Contents found in the raw
 * bytes, the CMS parsed and verified by pkijs, the signing identities made by the openssl command,
 * and poppler's pdfsig and qpdf where they are installed (apt-get install poppler-utils qpdf).
 */

export interface ReadSignature {
  byteRange: [number, number, number, number];
  /** The bytes the signature covers: the two ranges, joined. */
  signed: Buffer;
  /** The CMS from /Contents (its DER, the zero padding cut off). */
  cms: Uint8Array;
  signedData: SignedData;
  /** Signed attributes by OID: their first value's DER. */
  attributes: Map<string, asn1js.AsnType>;
  /** pkijs: the message digest matches the signed bytes and the signature verifies with the certificate. */
  verified: boolean;
}

export async function readSignature(pdf: Uint8Array): Promise<ReadSignature> {
  const text = Buffer.from(pdf).toString("latin1");
  const ranges = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  if (ranges.length !== 1) throw new Error(`${ranges.length} /ByteRange entries`);
  const byteRange = (ranges[0] as RegExpMatchArray).slice(1, 5).map(Number) as ReadSignature["byteRange"];
  const [a, b, c, d] = byteRange;
  if (text[b] !== "<" || text[c - 1] !== ">") throw new Error("the byte range's gap is not a hex string");
  const hex = text.slice(b + 1, c - 1);
  const all = Buffer.from(hex, "hex");
  const parsed = asn1js.fromBER(all);
  const cms = new Uint8Array(all.subarray(0, parsed.offset));
  const signed = Buffer.concat([Buffer.from(pdf.subarray(a, a + b)), Buffer.from(pdf.subarray(c, c + d))]);
  const signedData = new SignedData({ schema: ContentInfo.fromBER(cms).content });
  const attributes = new Map<string, asn1js.AsnType>();
  for (const attr of signedData.signerInfos[0]?.signedAttrs?.attributes ?? []) {
    attributes.set(attr.type, attr.values[0] as asn1js.AsnType);
  }
  // pkijs throws for a digest that does not match, returns false for a signature that does not verify.
  const data = new Uint8Array(signed).buffer;
  const verified = await signedData.verify({ signer: 0, data, checkChain: false }).catch(() => false);
  return { byteRange, signed, cms, signedData, attributes, verified };
}

export function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

export const hasPdfsig = hasTool("pdfsig");
export const hasQpdf = hasTool("qpdf");

/** pdfsig's report of the file (its text), or undefined without poppler. */
export function pdfsig(pdf: Uint8Array): string {
  return runTool("pdfsig", [], pdf).stdout;
}

/** qpdf --check: its exit code and output (0: no errors). */
export function qpdfCheck(pdf: Uint8Array, password?: string): { code: number | null; out: string } {
  const { out, status } = runTool(
    "qpdf",
    [...(password === undefined ? [] : [`--password=${password}`]), "--check"],
    pdf,
  );
  return { code: status, out };
}

export interface Identity {
  dir: string;
  keyPem: string;
  certPem: string;
  /** Its DER. */
  cert: Uint8Array;
}

/** A key and self-signed certificate made by openssl: `rsa` (2048 bits) or `ec` (P-256). */
export function opensslIdentity(kind: "rsa" | "ec", subject = "/CN=Test Signer/O=Example/C=CN"): Identity {
  const dir = tempDir("report-render-identity-");
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  const newkey = kind === "rsa" ? "rsa:2048" : "ec";
  const curve = kind === "ec" ? ["-pkeyopt", "ec_paramgen_curve:P-256"] : [];
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      newkey,
      ...curve,
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      subject,
      "-days",
      "30",
    ],
    { stdio: "ignore" },
  );
  const certPem = readFileSync(cert, "utf8");
  const der = execFileSync("openssl", ["x509", "-in", cert, "-outform", "DER"]);
  return { dir, keyPem: readFileSync(key, "utf8"), certPem, cert: new Uint8Array(der) };
}

/** The identity as a PKCS#12 file with `password`, as OpenSSL 3 writes it by default. */
export function opensslP12(identity: Identity, password: string, extra: string[] = []): string {
  const out = join(identity.dir, `id-${Math.random().toString(36).slice(2)}.p12`);
  execFileSync(
    "openssl",
    [
      "pkcs12",
      "-export",
      "-inkey",
      join(identity.dir, "key.pem"),
      "-in",
      join(identity.dir, "cert.pem"),
      "-out",
      out,
      "-passout",
      `pass:${password}`,
      ...extra,
    ],
    { stdio: "ignore" },
  );
  return out;
}
