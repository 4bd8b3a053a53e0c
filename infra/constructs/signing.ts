import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CfnOutput, RemovalPolicy, Stack } from "aws-cdk-lib";
import { AccountRootPrincipal, Effect, PolicyDocument, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Alias, KeySpec, KeyUsage, Key } from "aws-cdk-lib/aws-kms";
import { Code, type Function as LambdaFunction, LayerVersion, Runtime } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { pemBlocks, toPem } from "../../functions/service/signing/pem.ts";
import { ENV } from "../../functions/service/settings.ts";

/** Where a function finds the certificate chain: the layer's files are under /opt. */
export const CERTIFICATE_PATH = "/opt/report-render-signing/certificate.pem";

/** The one algorithm the functions sign with (functions/service/signing/kms-signer.ts, an RSA key). */
const SIGNING_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256";

/**
 * What the account's administrators may do with the key (through their IAM policies): manage it —
 * describe, tag, enable, disable, change its policy, schedule its deletion — but not sign with it,
 * nor create grants (a grant would let anyone sign, past the policy). Changing the key policy stays
 * theirs, as it must (a key nobody can manage cannot be mended), and CloudTrail records it.
 */
const ADMIN_ACTIONS = [
  "kms:CreateAlias",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
];

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
  /** The key's alias, `alias/<stack name>-signing`. */
  readonly alias: Alias;
  /** The layer holding the certificate chain, when one is configured. */
  readonly certificateLayer?: LayerVersion;

  constructor(scope: Construct, id: string, props: SigningProps) {
    super(scope, id);
    // A key policy of its own instead of CDK's default (the account's IAM decides everything, so any
    // administrator could sign PDFs in the agency's name): administrators manage the key; only the
    // functions' roles, named here, may sign, and only with the one algorithm.
    this.key = new Key(this, "Key", {
      description: "report-render: signs PDFs (options.pdf.sign)",
      keySpec: KeySpec.RSA_2048,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: "AdministratorsManageButDoNotSign",
            effect: Effect.ALLOW,
            principals: [new AccountRootPrincipal()],
            actions: ADMIN_ACTIONS,
            resources: ["*"],
          }),
        ],
      }),
    });
    this.alias = new Alias(this, "Alias", {
      aliasName: `alias/${Stack.of(this).stackName}-signing`,
      targetKey: this.key,
    });
    const pem = props.certificateFile === undefined ? undefined : readChain(props.certificateFile);
    if (pem !== undefined) {
      this.certificateLayer = new LayerVersion(this, "Certificate", {
        description: "report-render: the signing key's certificate chain",
        code: Code.fromAsset(stage(pem)),
        compatibleRuntimes: [Runtime.NODEJS_22_X],
      });
    }
    const signers = props.functions.map((fn) => {
      if (!fn.role) throw new Error(`Signing: the function ${fn.node.path} has no role to name in the key policy`);
      return fn.role;
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: "TheFunctionsSignWithOneAlgorithm",
        effect: Effect.ALLOW,
        principals: signers,
        actions: ["kms:Sign"],
        resources: ["*"],
        conditions: { StringEquals: { "kms:SigningAlgorithm": SIGNING_ALGORITHM } },
      }),
    );
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: "TheFunctionsReadThePublicKey",
        effect: Effect.ALLOW,
        principals: signers,
        actions: ["kms:GetPublicKey"],
        resources: ["*"],
      }),
    );
    for (const fn of props.functions) {
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
