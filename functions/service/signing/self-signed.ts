import { createPublicKey, type KeyObject, randomBytes, sign } from "node:crypto";
import * as asn1js from "asn1js";
import { AlgorithmIdentifier, BasicConstraints, Certificate, Extension, PublicKeyInfo } from "pkijs";
import { subjectName } from "./subject-name.ts";

/** How long a certificate made here is valid. */
const VALID_YEARS = 5;

/**
 * A self-signed X.509 v3 certificate for an EC P-256 or RSA key, fit for signing documents: key
 * usage digitalSignature and nonRepudiation (critical), not a CA. What `npm start` signs with; a
 * reader says "not trusted" (nobody vouches for it), but the signature itself verifies.
 */
export function selfSignedCertificate(key: KeyObject, subject: string, now = new Date()): Uint8Array {
  const cert = new Certificate();
  cert.version = 2;
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01; // positive, and 16 bytes long
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject = subjectName(subject);
  cert.issuer = subjectName(subject);
  cert.notBefore.value = now;
  cert.notAfter.value = new Date(Date.UTC(now.getUTCFullYear() + VALID_YEARS, now.getUTCMonth(), now.getUTCDate()));
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  cert.subjectPublicKeyInfo = PublicKeyInfo.fromBER(spki);
  const keyUsage = new asn1js.BitString({ valueHex: new Uint8Array([0xc0]), unusedBits: 6 });
  cert.extensions = [
    new Extension({
      extnID: "2.5.29.19",
      critical: true,
      extnValue: new BasicConstraints({ cA: false }).toSchema().toBER(),
    }),
    new Extension({ extnID: "2.5.29.15", critical: true, extnValue: keyUsage.toBER() }),
  ];
  const algorithm = signatureAlgorithm(key);
  cert.signature = algorithm;
  cert.signatureAlgorithm = algorithm;
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER());
  cert.signatureValue = new asn1js.BitString({ valueHex: sign("sha256", cert.tbsView, key) });
  return new Uint8Array(cert.toSchema().toBER());
}

/** sha256WithRSAEncryption (NULL parameters) or ecdsa-with-SHA256 (none). */
function signatureAlgorithm(key: KeyObject): AlgorithmIdentifier {
  return key.asymmetricKeyType === "rsa"
    ? new AlgorithmIdentifier({ algorithmId: "1.2.840.113549.1.1.11", algorithmParams: new asn1js.Null() })
    : new AlgorithmIdentifier({ algorithmId: "1.2.840.10045.4.3.2" });
}
