import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  type AuthenticatedSafe,
  CertBag,
  Certificate,
  PFX,
  PKCS8ShroudedKeyBag,
  PrivateKeyInfo,
  type SafeContents,
} from "pkijs";
import type { PdfSigner } from "../../core/secure/index.ts";
import { keySigner } from "./key-signer.ts";

/** A PKCS#12 file that cannot be used, with what to do about it (the CLI prints the message alone). */
export class Pkcs12Error extends Error {
  constructor(file: string, detail: string) {
    super(`--sign-p12 ${file}: ${detail}`);
    this.name = "Pkcs12Error";
  }
}

/** The CLI's signer (`--sign-p12 FILE`, its password from SIGN_P12_PASSWORD): the key and chain in the file. */
export async function pkcs12Signer(file: string, password: string | undefined): Promise<PdfSigner> {
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new Pkcs12Error(file, e.code === "ENOENT" ? "no such file" : e.message);
  });
  const { key, certificates } = await readPkcs12(new Uint8Array(bytes), password, file);
  return keySigner(key, certificates);
}

/**
 * The private key and the certificates of a PKCS#12 file: its own certificate first, then the
 * chain above it. Password-based integrity (the MAC) and encryption as OpenSSL 3 writes them by
 * default (PBES2: PBKDF2 and AES-256-CBC; HMAC-SHA-256); OpenSSL 1's RC2 and 3DES are refused with
 * how to convert the file. An absent password is tried as the empty one.
 */
export async function readPkcs12(
  bytes: Uint8Array,
  password: string | undefined,
  file = "the PKCS#12 file",
): Promise<{ key: KeyObject; certificates: Uint8Array[] }> {
  const secret = new TextEncoder().encode(password ?? "").buffer as ArrayBuffer;
  let pfx: PFX;
  try {
    pfx = PFX.fromBER(new Uint8Array(bytes));
  } catch {
    throw new Pkcs12Error(file, "not a PKCS#12 (.p12, .pfx) file");
  }
  const keys: Uint8Array[] = [];
  const certs: Uint8Array[] = [];
  try {
    await pfx.parseInternalValues({ password: secret, checkIntegrity: true });
  } catch (e) {
    const wrong = /Integrity|password/i.test((e as Error).message);
    throw new Pkcs12Error(
      file,
      wrong
        ? password === undefined
          ? "it needs a password: set SIGN_P12_PASSWORD"
          : "wrong password (SIGN_P12_PASSWORD), or the file is damaged"
        : `cannot be read: ${(e as Error).message}`,
    );
  }
  try {
    const safe = pfx.parsedValue?.authenticatedSafe as AuthenticatedSafe;
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: secret })) });
    for (const { value } of safe.parsedValue?.safeContents ?? []) await collect(value, secret, keys, certs);
  } catch (e) {
    if (e instanceof Pkcs12Error) throw e;
    const message = (e as Error).message;
    throw new Pkcs12Error(
      file,
      /1\.2\.840\.113549\.1\.12\.1\./.test(message)
        ? "its contents use OpenSSL 1's legacy encryption (RC2/3DES): convert it with `openssl pkcs12 -in old.p12 -legacy -nodes | openssl pkcs12 -export -out new.p12` (OpenSSL 3)"
        : `cannot be read: ${message}`,
    );
  }
  if (keys.length !== 1) {
    throw new Pkcs12Error(file, `holds ${keys.length} private keys; exactly one (the signer's) is needed`);
  }
  const key = createPrivateKey({ key: Buffer.from(keys[0] as Uint8Array), format: "der", type: "pkcs8" });
  return { key, certificates: chainFor(key, certs, file) };
}

interface Decryptable {
  parseInternalValues(parameters: { password: ArrayBuffer }): Promise<void>;
}

async function collect(contents: SafeContents, secret: ArrayBuffer, keys: Uint8Array[], certs: Uint8Array[]) {
  for (const bag of contents.safeBags) {
    const value = bag.bagValue;
    if (value instanceof PKCS8ShroudedKeyBag) {
      // Public in pkijs's code and documentation; its typings call it protected.
      await (value as unknown as Decryptable).parseInternalValues({ password: secret });
      if (value.parsedValue) keys.push(new Uint8Array(value.parsedValue.toSchema().toBER()));
    } else if (value instanceof PrivateKeyInfo) {
      keys.push(new Uint8Array(value.toSchema().toBER()));
    } else if (value instanceof CertBag && value.parsedValue instanceof Certificate) {
      certs.push(new Uint8Array(value.parsedValue.toSchema().toBER()));
    }
  }
}

/** The key's certificate, then each issuer found among the others in turn; the rest are left out. */
function chainFor(key: KeyObject, certs: Uint8Array[], file: string): Uint8Array[] {
  const spki = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  const mine = spki(createPublicKey(key));
  const parsed = certs.map((der) => ({ der, x509: new X509Certificate(Buffer.from(der)) }));
  const own = parsed.find((c) => spki(c.x509.publicKey).equals(mine));
  if (!own) throw new Pkcs12Error(file, "holds no certificate for its private key");
  const chain = [own];
  for (let last = own; ; ) {
    const issuer = parsed.find((c) => !chain.includes(c) && last.x509.checkIssued(c.x509));
    if (!issuer) break;
    chain.push(issuer);
    last = issuer;
  }
  return chain.map((c) => c.der);
}
