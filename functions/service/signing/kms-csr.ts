import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import * as asn1js from "asn1js";
import { AlgorithmIdentifier, CertificationRequest, PublicKeyInfo } from "pkijs";
import { loadConfig } from "../settings.ts";
import type { KmsClient } from "./kms-signer.ts";
import { toPem } from "./pem.ts";
import { subjectName } from "./subject-name.ts";

/**
 * A PKCS#10 certificate request for the stack's signing key, signed by KMS (the private key never
 * leaves it): what a CA needs to issue the certificate that `signingCertificate` then names.
 *
 *   npx tsx functions/service/signing/kms-csr.ts <key id or ARN> "CN=…,O=…,C=CN" > signing.csr
 *
 * with AWS credentials allowed kms:GetPublicKey and kms:Sign on the key (AWS_REGION its region).
 */
export async function kmsCertificateRequest(client: KmsClient, keyId: string, subject: string): Promise<string> {
  const { PublicKey, KeySpec } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!PublicKey) throw new Error(`KMS gave no public key for ${keyId}`);
  const rsa = KeySpec?.startsWith("RSA_");
  if (!rsa && KeySpec !== "ECC_NIST_P256")
    throw new Error(`key ${keyId} is ${KeySpec}: RSA or ECC_NIST_P256 signs PDFs`);
  const request = new CertificationRequest();
  request.version = 0;
  request.subject = subjectName(subject);
  request.subjectPublicKeyInfo = PublicKeyInfo.fromBER(new Uint8Array(PublicKey));
  // RFC 2986: attributes [0] is not optional, even when empty (strict parsers and CAs refuse without).
  request.attributes = [];
  request.signatureAlgorithm = rsa
    ? new AlgorithmIdentifier({ algorithmId: "1.2.840.113549.1.1.11", algorithmParams: new asn1js.Null() })
    : new AlgorithmIdentifier({ algorithmId: "1.2.840.10045.4.3.2" });
  // encodeTBS is what pkijs's own sign() uses; its typings call it protected.
  const tbs = (request as unknown as { encodeTBS(): asn1js.Sequence }).encodeTBS();
  request.tbsView = new Uint8Array(tbs.toBER());
  const { Signature } = await client.send(
    new SignCommand({
      KeyId: keyId,
      Message: createHash("sha256").update(request.tbsView).digest(),
      MessageType: "DIGEST",
      SigningAlgorithm: rsa ? "RSASSA_PKCS1_V1_5_SHA_256" : "ECDSA_SHA_256",
    }),
  );
  if (!Signature) throw new Error(`KMS returned no signature for key ${keyId}`);
  request.signatureValue = new asn1js.BitString({ valueHex: new Uint8Array(Signature) });
  return toPem(new Uint8Array(request.toSchema().toBER()), "CERTIFICATE REQUEST");
}

async function main(args: string[]): Promise<number> {
  const config = loadConfig();
  const [keyId = config.signing.kmsKeyId, subject] = args;
  if (!keyId || !subject) {
    process.stderr.write('usage: kms-csr.ts <KMS key id or ARN> "CN=…,O=…,C=CN" > signing.csr\n');
    return 1;
  }
  const client = new KMSClient({ region: config.s3.region });
  process.stdout.write(await kmsCertificateRequest(client, keyId, subject));
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`kms-csr: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
