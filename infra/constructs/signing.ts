import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CfnOutput, RemovalPolicy } from "aws-cdk-lib";
import { KeySpec, KeyUsage, Key } from "aws-cdk-lib/aws-kms";
import { Code, type Function as LambdaFunction, LayerVersion, Runtime } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { pemBlocks, toPem } from "../../functions/service/signing/pem.ts";
import { ENV } from "../../functions/service/settings.ts";

/** Where a function finds the certificate chain: the layer's files are under /opt. */
export const CERTIFICATE_PATH = "/opt/report-render-signing/certificate.pem";

/** The properties of a {@link Signing}. */
export interface SigningProps {
  /**
   * The functions that sign (the HTTP and upload functions): each may kms:Sign and kms:GetPublicKey
   * with the key, nothing else, and is told the key (`SIGN_KMS_KEY_ID`).
   *
   * Required.
   */
  readonly functions: LambdaFunction[];
  /**
   * A PEM file (the `signingCertificate` setting) with the certificate issued for the key first and
   * its chain, read now and given to the functions in a layer (`SIGN_CERTIFICATE_FILE`).
   *
   * @default - none: the functions refuse signed renders (422), saying what to configure
   */
  readonly certificateFile?: string;
}

/**
 * `options.pdf.sign` on AWS: an asymmetric KMS key (RSA_2048, SIGN_VERIFY; its private half never
 * leaves KMS) and, once it has been issued, the key's certificate chain. The key comes first, the
 * certificate after: a CA issues it for the key's certificate request (`npx tsx
 * functions/service/signing/kms-csr.ts <key id> "CN=…,O=…,C=CN"`), then the stack is deployed again
 * with `signingCertificate`. The key is retained when the stack is deleted: signatures made with it
 * stay verifiable, and a new key would need a new certificate.
 */
export class Signing extends Construct {
  /** The signing key. */
  readonly key: Key;
  /** The layer holding the certificate chain, when one is configured. */
  readonly certificateLayer?: LayerVersion;

  constructor(scope: Construct, id: string, props: SigningProps) {
    super(scope, id);
    this.key = new Key(this, "Key", {
      description: "report-render: signs PDFs (options.pdf.sign)",
      keySpec: KeySpec.RSA_2048,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const pem = props.certificateFile === undefined ? undefined : readChain(props.certificateFile);
    if (pem !== undefined) {
      this.certificateLayer = new LayerVersion(this, "Certificate", {
        description: "report-render: the signing key's certificate chain",
        code: Code.fromAsset(stage(pem)),
        compatibleRuntimes: [Runtime.NODEJS_22_X],
      });
    }
    for (const fn of props.functions) {
      // Only these two actions, only on this key: the key policy's account statement lets IAM grant them.
      this.key.grant(fn, "kms:Sign", "kms:GetPublicKey");
      fn.addEnvironment(ENV.signKmsKeyId, this.key.keyId);
      if (this.certificateLayer) {
        fn.addLayers(this.certificateLayer);
        fn.addEnvironment(ENV.signCertificateFile, CERTIFICATE_PATH);
      }
    }
    new CfnOutput(this, "SigningKeyId", {
      description:
        "The KMS key that signs PDFs: make its certificate request with functions/service/signing/kms-csr.ts",
      value: this.key.keyId,
    });
  }
}

/** The file's certificates as PEM, each checked: the synth stops with the setting's name otherwise. */
function readChain(file: string): string {
  let text: string;
  try {
    text = readFileSync(resolve(file), "utf8");
  } catch (e) {
    throw new Error(`setting signingCertificate: ${(e as Error).message}`);
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new Error(`setting signingCertificate: ${file} holds a private key: give the certificates alone`);
  }
  const blocks = pemBlocks(text, "CERTIFICATE");
  if (blocks.length === 0) throw new Error(`setting signingCertificate: ${file} holds no PEM certificate`);
  for (const der of blocks) {
    try {
      new X509Certificate(Buffer.from(der));
    } catch (e) {
      throw new Error(
        `setting signingCertificate: ${file} holds a certificate that cannot be read: ${(e as Error).message}`,
      );
    }
  }
  const first = new X509Certificate(Buffer.from(blocks[0] as Uint8Array));
  if (first.publicKey.asymmetricKeyType !== "rsa") {
    throw new Error(
      `setting signingCertificate: the first certificate of ${file} must be the RSA key's (the KMS key is RSA_2048)`,
    );
  }
  // The certificates alone, whatever else the file holds (comments, text dumps).
  return blocks.map((der) => toPem(der, "CERTIFICATE")).join("");
}

/** A folder holding only the chain, laid out as the layer's /opt. */
function stage(pem: string): string {
  const dir = mkdtempSync(join(tmpdir(), "report-render-signing-"));
  mkdirSync(join(dir, "report-render-signing"));
  writeFileSync(join(dir, "report-render-signing", "certificate.pem"), pem);
  return dir;
}
