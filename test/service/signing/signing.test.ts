import { execFileSync, spawnSync } from "node:child_process";
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  constants,
  privateEncrypt,
  sign as nodeSign,
  X509Certificate,
} from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../../functions/core/errors.ts";
import { finalizePdf } from "../../../functions/core/archival/finalize.ts";
import { signPdf } from "../../../functions/core/secure/sign.ts";
import { startLocal } from "../../../functions/local/server.ts";
import { createLogger } from "../../../functions/service/log.ts";
import { ENV, loadConfig } from "../../../functions/service/settings.ts";
import { configuredSigner } from "../../../functions/service/signing/configured.ts";
import { kmsCertificateRequest } from "../../../functions/service/signing/kms-csr.ts";
import { kmsSigner } from "../../../functions/service/signing/kms-signer.ts";
import { LOCAL_SIGNING_FILE, localSigner } from "../../../functions/service/signing/local-signer.ts";
import { readPkcs12 } from "../../../functions/service/signing/p12.ts";
import { example, root } from "../../helpers/examples.ts";
import { hasPdfsig, type Identity, opensslIdentity, opensslP12, pdfsig, readSignature } from "../../helpers/pades.ts";
import { tempDir } from "../../helpers/temp-dir.ts";

// Where the keys are: KMS (through the SDK, against a KMS that answers in-process with a local key),
// the key `npm start` makes, a PKCS#12 file for the CLI. Certificates and files are made and read
// back by openssl; signatures are checked by pkijs and pdfsig.

const fixture = (
  await finalizePdf(
    new Uint8Array(readFileSync(join(root, "test/fixtures/chromium/chromium.pdf"))),
    { title: "fixture", producer: "test", documentId: "ab".repeat(32) },
    [],
  )
).pdf;

interface KmsCall {
  target: string;
  body: Record<string, string>;
}

/**
 * A real KMSClient whose requests never leave the process: its HTTP handler answers as KMS does
 * (JSON 1.1), signing with `key` and giving `publicKey` (default: the key's own).
 */
function fakeKms(key: KeyObject, options: { publicKey?: KeyObject; fail?: string } = {}) {
  const calls: KmsCall[] = [];
  const client = new KMSClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
        const target = String(request.headers["x-amz-target"]).replace("TrentService.", "");
        const body = JSON.parse(String(request.body)) as Record<string, string>;
        calls.push({ target, body });
        const reply = (statusCode: number, value: object) => ({
          response: {
            statusCode,
            headers: { "content-type": "application/x-amz-json-1.1" },
            body: Buffer.from(JSON.stringify(value)),
          },
        });
        if (options.fail && target === "Sign") return reply(400, { __type: options.fail, message: "the key is off" });
        if (target === "GetPublicKey") {
          const der = (options.publicKey ?? createPublicKey(key)).export({ type: "spki", format: "der" });
          const spec = key.asymmetricKeyType === "rsa" ? "RSA_2048" : "ECC_NIST_P256";
          return reply(200, { KeyId: body.KeyId, PublicKey: der.toString("base64"), KeySpec: spec });
        }
        const message = Buffer.from(body.Message as string, "base64");
        // RAW: KMS hashes the message itself. DIGEST: the message is the digest (RSA here: PKCS#1 v1.5 by hand).
        const signature =
          body.MessageType === "RAW"
            ? nodeSign("sha256", message, key)
            : privateEncrypt(
                { key, padding: constants.RSA_PKCS1_PADDING },
                Buffer.concat([SHA256_DIGEST_INFO, message]),
              );
        return reply(200, { KeyId: body.KeyId, Signature: signature.toString("base64") });
      },
    },
  });
  return { client, calls };
}

/** The DER prefix of a DigestInfo for SHA-256 (RFC 8017, 9.2): RSASSA-PKCS1-v1_5 signs it with the digest. */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

const rsa = opensslIdentity("rsa", "/CN=KMS Signer/O=Example/C=CN");
const rsaKey = createPrivateKey(rsa.keyPem);

describe("the KMS signer", () => {
  it("has KMS sign the digest with the key's algorithm, after checking the key is the certificate's", async () => {
    const kms = fakeKms(rsaKey);
    const signer = kmsSigner({ client: kms.client, keyId: "alias/report-render", certificates: [rsa.cert] });
    const pdf = await signPdf(fixture, signer, { reason: "r" }, { time: new Date() });
    expect((await readSignature(pdf)).verified).toBe(true);
    await signPdf(fixture, signer, {}, { time: new Date() });
    expect(kms.calls.map((c) => c.target)).toEqual(["GetPublicKey", "Sign", "Sign"]);
    expect(kms.calls[1]?.body).toMatchObject({
      KeyId: "alias/report-render",
      MessageType: "RAW",
      SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
    });
    // The signed attributes, DER: a SET.
    expect(Buffer.from(kms.calls[1]?.body.Message ?? "", "base64")[0]).toBe(0x31);
    if (hasPdfsig) expect(pdfsig(pdf)).toContain("Signature is Valid.");
  });

  it("signs with an ECC_NIST_P256 key (ECDSA_SHA_256)", async () => {
    const ec = opensslIdentity("ec");
    const kms = fakeKms(createPrivateKey(ec.keyPem));
    const signer = kmsSigner({ client: kms.client, keyId: "k", certificates: [ec.cert] });
    expect(signer.keyType).toBe("EC");
    const pdf = await signPdf(fixture, signer, {}, { time: new Date() });
    expect((await readSignature(pdf)).verified).toBe(true);
    expect(kms.calls[1]?.body.SigningAlgorithm).toBe("ECDSA_SHA_256");
  });

  it("names a certificate for another key as the fault, and signs nothing", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const kms = fakeKms(rsaKey, { publicKey: other });
    const signer = kmsSigner({ client: kms.client, keyId: "k1", certificates: [rsa.cert] });
    await expect(signPdf(fixture, signer, {}, { time: new Date() })).rejects.toThrow(
      /signing certificate \(.*KMS Signer.*\) is not for KMS key k1/,
    );
    expect(kms.calls.map((c) => c.target)).toEqual(["GetPublicKey"]);
  });

  it("makes the key's certificate request, signed through KMS, that openssl verifies", async () => {
    const kms = fakeKms(rsaKey);
    const csr = await kmsCertificateRequest(kms.client, "k", "CN=湛河区交通运输局,O=平顶山市湛河区人民政府,C=CN");
    const file = join(rsa.dir, "signing.csr");
    writeFileSync(file, csr);
    const out = execFileSync("openssl", ["req", "-in", file, "-verify", "-noout", "-subject", "-nameopt", "utf8"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(out).toContain("C=CN, O=平顶山市湛河区人民政府, CN=湛河区交通运输局");
    const modulus = execFileSync("openssl", ["req", "-in", file, "-noout", "-pubkey"], { encoding: "utf8" });
    expect(createPublicKey(modulus).export({ type: "spki", format: "der" })).toEqual(
      createPublicKey(rsaKey).export({ type: "spki", format: "der" }),
    );
  });
});

describe("the configured signer (SIGN_KMS_KEY_ID, SIGN_CERTIFICATE_FILE)", () => {
  const config = (env: Record<string, string>) => loadConfig({ ...env });

  it("is none without a key", () => {
    expect(configuredSigner(config({}))).toBeUndefined();
  });

  it("refuses every signature, 422, saying what to configure, when the key has no certificate yet", async () => {
    const signer = configuredSigner(config({ [ENV.signKmsKeyId]: "k" }));
    const refusal = await signer?.certificates().catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(InputError);
    expect((refusal as InputError).code).toBe("invalid_options");
    expect((refusal as InputError).issues[0]).toMatchObject({ path: "/options/pdf/sign" });
    expect((refusal as InputError).message).toContain("signingCertificate");
  });

  it("stops the service at start-up, naming the variable, for a certificate file it cannot use", () => {
    expect(() =>
      configuredSigner(config({ [ENV.signKmsKeyId]: "k", [ENV.signCertificateFile]: "/nonexistent.pem" })),
    ).toThrow(/SIGN_CERTIFICATE_FILE: .*ENOENT/);
    const notPem = join(rsa.dir, "key.pem");
    expect(() => configuredSigner(config({ [ENV.signKmsKeyId]: "k", [ENV.signCertificateFile]: notPem }))).toThrow(
      /SIGN_CERTIFICATE_FILE: .* holds no PEM certificate/,
    );
  });

  it("reads the chain and signs through KMS", async () => {
    const kms = fakeKms(rsaKey);
    const file = join(rsa.dir, "cert.pem");
    const signer = configuredSigner(config({ [ENV.signKmsKeyId]: "k", [ENV.signCertificateFile]: file }), kms.client);
    const pdf = await signPdf(fixture, signer as NonNullable<typeof signer>, {}, { time: new Date() });
    expect((await readSignature(pdf)).verified).toBe(true);
  });

  it("refuses a SIGN_SUBJECT that is no distinguished name at start-up", () => {
    expect(() => loadConfig({ [ENV.signSubject]: "O=no common name" })).toThrow(/SIGN_SUBJECT: a subject needs a CN/);
    expect(() => loadConfig({ [ENV.signSubject]: "CN=x,C=China" })).toThrow(/SIGN_SUBJECT: C must be a two-letter/);
    expect(() => loadConfig({ [ENV.signSubject]: "CN=x,FOO=y" })).toThrow(/SIGN_SUBJECT: "FOO=y" is not TYPE=value/);
    expect(loadConfig({}).signing.subject).toMatch(/^CN=/);
  });
});

describe("npm start's signer", () => {
  it("makes a key and self-signed certificate on first use, keeps it (owner only), reuses it", async () => {
    const dir = tempDir("report-render-local-signer-");
    const subject = "CN=Local Test,O=report-render,C=CN";
    const first = await localSigner(dir, subject).certificates();
    const file = join(dir, LOCAL_SIGNING_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const subjectLine = execFileSync("openssl", ["x509", "-in", file, "-noout", "-subject", "-nameopt", "RFC2253"], {
      encoding: "utf8",
    });
    expect(subjectLine.trim()).toBe(`subject=${subject}`);
    const again = await localSigner(dir, subject).certificates();
    expect(Buffer.from(again[0] as Uint8Array).equals(Buffer.from(first[0] as Uint8Array))).toBe(true);
    // A new subject: a new certificate for the same key.
    const renamed = await localSigner(dir, "CN=Renamed").certificates();
    const key = (der: Uint8Array) =>
      new X509Certificate(Buffer.from(der)).publicKey.export({ type: "spki", format: "der" });
    expect(Buffer.from(renamed[0] as Uint8Array).equals(Buffer.from(first[0] as Uint8Array))).toBe(false);
    expect(key(renamed[0] as Uint8Array)).toEqual(key(first[0] as Uint8Array));
    const pdf = await signPdf(fixture, localSigner(dir, "CN=Renamed"), {}, { time: new Date() });
    expect((await readSignature(pdf)).verified).toBe(true);
  });

  describe("through the local service", () => {
    let local: Awaited<ReturnType<typeof startLocal>>;
    let dir: string;
    beforeAll(async () => {
      dir = tempDir("report-render-signing-service-");
      local = await startLocal({
        port: 0,
        s3Port: 0,
        dataDir: join(dir, "s3"),
        config: { signing: { subject: "CN=Laptop Signer,O=Example" } },
        log: createLogger("silent"),
      });
    }, 60_000);
    afterAll(async () => local?.close());

    it("signs a render that asks for it with a key kept in the data folder", async () => {
      const envelope = example("zhanhe-transport-2020.json");
      envelope.options = { pdf: { sign: { reason: "本地测试" } } };
      const response = await fetch(`${local.url}/v1/render`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/pdf" },
        body: JSON.stringify(envelope),
      });
      expect(response.status).toBe(200);
      const pdf = new Uint8Array(await response.arrayBuffer());
      expect((await readSignature(pdf)).verified).toBe(true);
      expect(readFileSync(join(dir, "s3", LOCAL_SIGNING_FILE), "utf8")).toContain("BEGIN CERTIFICATE");
      if (hasPdfsig) expect(pdfsig(pdf)).toContain("CN=Laptop Signer");
    }, 60_000);
  });
});

describe("PKCS#12 files (the CLI's --sign-p12)", () => {
  /** A CA, and a signer's identity issued by it, by openssl. */
  function issuedIdentity(): Identity & { ca: Uint8Array; caPem: string } {
    const ca = opensslIdentity("rsa", "/CN=Test CA/O=Example");
    const leaf = opensslIdentity("ec", "/CN=Issued Signer/O=Example");
    const csr = join(leaf.dir, "leaf.csr");
    execFileSync("openssl", [
      "req",
      "-new",
      "-key",
      join(leaf.dir, "key.pem"),
      "-subj",
      "/CN=Issued Signer",
      "-out",
      csr,
    ]);
    const issued = join(leaf.dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        ...["x509", "-req", "-in", csr, "-CA", join(ca.dir, "cert.pem"), "-CAkey", join(ca.dir, "key.pem")],
        ...["-CAcreateserial", "-out", issued, "-days", "30"],
      ],
      { stdio: "ignore" },
    );
    const der = execFileSync("openssl", ["x509", "-in", issued, "-outform", "DER"]);
    return {
      ...leaf,
      certPem: readFileSync(issued, "utf8"),
      cert: new Uint8Array(der),
      ca: ca.cert,
      caPem: ca.certPem,
    };
  }

  it("reads OpenSSL 3's default file: the key, its certificate first, then the CA", async () => {
    const id = issuedIdentity();
    const chain = join(id.dir, "ca.pem");
    writeFileSync(chain, id.caPem);
    const p12 = opensslP12(id, "pässwörd", ["-certfile", chain]);
    const info = spawnSync("openssl", ["pkcs12", "-in", p12, "-passin", "pass:pässwörd", "-info", "-noout"], {
      encoding: "utf8",
    });
    expect(info.stderr).toContain("AES-256-CBC"); // what OpenSSL 3 writes by default
    const { key, certificates } = await readPkcs12(new Uint8Array(readFileSync(p12)), "pässwörd");
    expect(key.asymmetricKeyType).toBe("ec");
    expect(certificates.map((c) => Buffer.from(c).toString("hex"))).toEqual(
      [id.cert, id.ca].map((c) => Buffer.from(c).toString("hex")),
    );
  });

  it("refuses a wrong or missing password, a file that is no PKCS#12, and legacy encryption, saying what to do", async () => {
    const p12 = new Uint8Array(readFileSync(opensslP12(rsa, "right")));
    await expect(readPkcs12(p12, "wrong", "id.p12")).rejects.toThrow(
      "--sign-p12 id.p12: wrong password (SIGN_P12_PASSWORD), or the file is damaged",
    );
    await expect(readPkcs12(p12, undefined, "id.p12")).rejects.toThrow("it needs a password: set SIGN_P12_PASSWORD");
    await expect(readPkcs12(new Uint8Array(Buffer.from("not a p12")), "x", "x.p12")).rejects.toThrow(
      "not a PKCS#12 (.p12, .pfx) file",
    );
    const legacy = opensslP12(rsa, "right", [
      ...["-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"],
    ]);
    await expect(readPkcs12(new Uint8Array(readFileSync(legacy)), "right")).rejects.toThrow(
      /OpenSSL 1's legacy encryption .*openssl pkcs12/,
    );
  });

  it("signs every PDF of a CLI run, the password from SIGN_P12_PASSWORD", () => {
    execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "ignore" });
    const p12 = opensslP12(rsa, "cli-secret");
    const out = join(rsa.dir, "cli.pdf");
    const run = spawnSync(
      process.execPath,
      [
        join(root, "bin", "report-render.js"),
        join(root, "examples/zhanhe-transport-2020.json"),
        "-o",
        out,
        "--sign-p12",
        p12,
      ],
      { encoding: "utf8", env: { ...process.env, [ENV.signP12Password]: "cli-secret" }, timeout: 120_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    return readSignature(new Uint8Array(readFileSync(out))).then((sig) => {
      expect(sig.verified).toBe(true);
      if (hasPdfsig) expect(pdfsig(new Uint8Array(readFileSync(out)))).toContain("CN=KMS Signer");
    });
  }, 180_000);
});
