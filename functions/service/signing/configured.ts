import { readFileSync } from "node:fs";
import { InputError } from "../../core/errors.ts";
import type { PdfSigner } from "../../core/secure/index.ts";
import { ENV, type ServiceConfig } from "../settings.ts";
import { type KmsClient, kmsSigner } from "./kms-signer.ts";
import { pemBlocks } from "./pem.ts";

/**
 * The signer the settings configure: the KMS key (SIGN_KMS_KEY_ID) with its certificate chain
 * (SIGN_CERTIFICATE_FILE, read now: a file that is missing or holds no certificate stops the service
 * at start-up with the variable's name). Undefined without a key: signing is then not offered (the
 * core refuses `options.pdf.sign`, 422), except by the doors that bring their own (`npm start`,
 * the CLI's `--sign-p12`).
 *
 * A key without a certificate is a stack deployed with `signing` on before its certificate was
 * issued (the certificate request needs the key): signed renders are then refused, 422, saying what
 * to configure.
 */
export function configuredSigner(config: ServiceConfig, client?: KmsClient): PdfSigner | undefined {
  const { kmsKeyId, certificateFile } = config.signing;
  if (!kmsKeyId) return undefined;
  if (!certificateFile) return awaitingCertificate();
  let text: string;
  try {
    text = readFileSync(certificateFile, "utf8");
  } catch (e) {
    throw new Error(`${ENV.signCertificateFile}: ${(e as Error).message}`);
  }
  const certificates = pemBlocks(text, "CERTIFICATE");
  if (certificates.length === 0)
    throw new Error(`${ENV.signCertificateFile}: ${certificateFile} holds no PEM certificate`);
  return kmsSigner({ client, region: config.s3.region, keyId: kmsKeyId, certificates });
}

/** A signer for a key whose certificate is not configured yet: every signature is refused, 422, before any work. */
function awaitingCertificate(): PdfSigner {
  const unavailable =
    "signing is not configured yet: the service's signing key has no certificate; its operator " +
    `issues one for the key and deploys it (the stack's signingCertificate setting, ${ENV.signCertificateFile})`;
  const refuse = async (): Promise<never> => {
    throw new InputError("invalid_options", [{ rule: "pdf-options", path: "/options/pdf/sign", message: unavailable }]);
  };
  return { keyType: "RSA", certificates: refuse, sign: refuse, unavailable };
}
