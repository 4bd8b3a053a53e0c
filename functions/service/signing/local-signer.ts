import { createPrivateKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Certificate } from "pkijs";
import type { PdfSigner } from "../../core/secure/index.ts";
import { writeWhole } from "../write-whole.ts";
import { keySigner } from "./key-signer.ts";
import { pemBlocks, toPem } from "./pem.ts";
import { subjectName } from "./subject-name.ts";
import { selfSignedCertificate } from "./self-signed.ts";

/** The file, in `npm start`'s data folder, holding its signing key and certificate. */
export const LOCAL_SIGNING_FILE = "signing.pem";

/**
 * `npm start`'s signer: an EC P-256 key and a self-signed certificate for `subject` (SIGN_SUBJECT),
 * made on the first signed render and kept in `folder`/signing.pem (readable by its owner only), so
 * every later run signs with the same key. When the subject setting changes, the key gets a new
 * certificate. (The file sits beside s3rver's bucket folders; s3rver takes only folders for buckets.)
 */
export function localSigner(folder: string, subject: string): PdfSigner {
  let loading: Promise<PdfSigner> | undefined;
  const ready = () => {
    loading ??= loadOrCreate(folder, subject).catch((e: unknown) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
  return {
    keyType: "EC",
    certificates: async () => (await ready()).certificates(),
    sign: async (data) => (await ready()).sign(data),
  };
}

async function loadOrCreate(folder: string, subject: string): Promise<PdfSigner> {
  const file = join(folder, LOCAL_SIGNING_FILE);
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  const wanted = Buffer.from(subjectName(subject).toSchema().toBER());
  let key = text === undefined ? undefined : pemBlocks(text, "PRIVATE KEY")[0];
  let cert = text === undefined ? undefined : pemBlocks(text, "CERTIFICATE")[0];
  if (text !== undefined && (!key || !cert)) {
    throw new Error(`${file} is not a key and a certificate: remove it, and a new one is made`);
  }
  const keyObject = key
    ? createPrivateKey({ key: Buffer.from(key), format: "der", type: "pkcs8" })
    : generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  if (keyObject.asymmetricKeyType !== "ec")
    throw new Error(`${file} holds no EC key: remove it, and a new one is made`);
  const current = cert ? new X509Certificate(Buffer.from(cert)) : undefined;
  const sameSubject =
    cert && Buffer.from(Certificate.fromBER(new Uint8Array(cert)).subject.valueBeforeDecode).equals(wanted);
  if (!current || !sameSubject || new Date(current.validTo) < new Date()) {
    key = new Uint8Array(keyObject.export({ type: "pkcs8", format: "der" }));
    cert = selfSignedCertificate(keyObject, subject);
    await mkdir(folder, { recursive: true });
    await writeWhole(file, toPem(key, "PRIVATE KEY") + toPem(cert, "CERTIFICATE"), 0o600);
  }
  return keySigner(keyObject, [cert as Uint8Array]);
}
