import { createHash, X509Certificate } from "node:crypto";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { PdfSigner } from "../../core/secure/index.ts";

/** What the signer asks of KMS (a KMSClient; tests hand in one whose requests never leave the process). */
export type KmsClient = Pick<KMSClient, "send">;

/**
 * The Lambda functions' signer: an asymmetric KMS key (RSA_2048 or ECC_NIST_P256, SIGN_VERIFY) that
 * never leaves KMS, and its certificate chain from a PEM file bundled with the function (the
 * signer's certificate first). KMS hashes (SHA-256) and signs the signed attributes as they are
 * (MessageType RAW, up to KMS's 4,096 bytes; beyond, their digest: DIGEST). Before the first
 * signature the key's public key (kms:GetPublicKey) is compared with the certificate's, so a
 * certificate for another key is named as the fault rather than producing signatures nobody can
 * verify. The SDK is loaded on the first signature (~0.1 s that no cold start should pay).
 */
export function kmsSigner(options: {
  /** Default: a KMSClient for `region`, with the SDK's credentials (the function's role). */
  client?: KmsClient;
  region?: string;
  keyId: string;
  certificates: Uint8Array[];
}): PdfSigner {
  const { keyId, certificates } = options;
  let client: Promise<KmsClient> | undefined;
  const kms = () => {
    client ??= options.client
      ? Promise.resolve(options.client)
      : sdk().then(({ KMSClient }) => new KMSClient({ region: options.region }));
    return client;
  };
  const first = certificates[0];
  if (!first) throw new Error("a KMS signer needs its certificate");
  const certificate = new X509Certificate(Buffer.from(first));
  const type = certificate.publicKey.asymmetricKeyType;
  if (type !== "rsa" && type !== "ec") throw new Error(`the signing certificate holds a ${type} key, not RSA or EC`);
  const keyType = type === "rsa" ? "RSA" : "EC";
  let checked: Promise<void> | undefined;
  const check = () => {
    checked ??= matchesKey(kms(), keyId, certificate).catch((e: unknown) => {
      checked = undefined;
      throw e;
    });
    return checked;
  };
  return {
    keyType,
    async certificates() {
      await check();
      return certificates;
    },
    async sign(data) {
      await check();
      const raw = data.byteLength <= KMS_RAW_LIMIT;
      const { SignCommand } = await sdk();
      const { Signature } = await (await kms()).send(
        new SignCommand({
          KeyId: keyId,
          Message: raw ? data : createHash("sha256").update(data).digest(),
          MessageType: raw ? "RAW" : "DIGEST",
          SigningAlgorithm: keyType === "RSA" ? "RSASSA_PKCS1_V1_5_SHA_256" : "ECDSA_SHA_256",
        }),
      );
      if (!Signature) throw new Error(`KMS returned no signature for key ${keyId}`);
      return Signature;
    },
  };
}

const sdk = () => import("@aws-sdk/client-kms");

/** The largest message KMS signs as it is (MessageType RAW). */
const KMS_RAW_LIMIT = 4096;

async function matchesKey(client: Promise<KmsClient>, keyId: string, certificate: X509Certificate): Promise<void> {
  const { GetPublicKeyCommand } = await sdk();
  const { PublicKey } = await (await client).send(new GetPublicKeyCommand({ KeyId: keyId }));
  const ours = certificate.publicKey.export({ type: "spki", format: "der" });
  if (!PublicKey || !ours.equals(Buffer.from(PublicKey))) {
    throw new Error(
      `the signing certificate (${certificate.subject.replace(/\n/g, ", ")}) is not for KMS key ${keyId}: ` +
        "the first certificate of SIGN_CERTIFICATE_FILE must be the one issued for that key's public key",
    );
  }
}
