import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import fc from "fast-check";
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFString } from "pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finalizePdf } from "../../functions/core/archival/finalize.ts";
import type { PdfSigner } from "../../functions/core/secure/signer.ts";
import { signPdf } from "../../functions/core/secure/sign.ts";
import { createHttpHandler } from "../../functions/http/handler.ts";
import { type LocalService, startLocal } from "../../functions/local/server.ts";
import { createLogger } from "../../functions/service/log.ts";
import { createService } from "../../functions/service/service.ts";
import { ENV, loadConfig } from "../../functions/service/settings.ts";
import { configuredSigner } from "../../functions/service/signing/configured.ts";
import { keySigner } from "../../functions/service/signing/key-signer.ts";
import { kmsSigner } from "../../functions/service/signing/kms-signer.ts";
import { example, root } from "../helpers/examples.ts";
import { httpEvent } from "../helpers/lambda-events.ts";
import { opensslIdentity, opensslP12, readSignature } from "../helpers/pades.ts";
import { tempDir } from "../helpers/temp-dir.ts";

// options.pdf.sign attacked: wrong shapes, text made to break out of a PDF string, no signer, a
// signer that fails half-way, a PKCS#12 file that is broken or locked with another password.

const rsa = opensslIdentity("rsa", "/CN=Hostile Test/O=Example");
const signer = keySigner(createPrivateKey(rsa.keyPem), [rsa.cert]);
const gov = example("zhanhe-transport-2020.json");
const withSign = (sign: unknown) => ({ ...gov, options: { pdf: { sign } } });
/** A finished file to sign: Chromium's fixture through finalizePdf. */
const fixturePdf = (
  await finalizePdf(
    new Uint8Array(readFileSync(join(root, "test/fixtures/chromium/chromium.pdf"))),
    { title: "fixture", producer: "test", documentId: "cd".repeat(32) },
    [],
  )
).pdf;

/** A local service whose signer is `signer`, its data in a temp folder. */
async function serviceWith(signing: PdfSigner | undefined): Promise<LocalService> {
  const dir = tempDir("report-render-hostile-sign-");
  return startLocal({ port: 0, s3Port: 0, dataDir: join(dir, "s3"), signer: signing, log: createLogger("silent") });
}

const post = (url: string, body: unknown, accept = "application/pdf") =>
  fetch(`${url}/v1/render`, {
    method: "POST",
    headers: { "content-type": "application/json", accept },
    body: JSON.stringify(body),
  });

describe("options.pdf.sign through the HTTP door", () => {
  let local: LocalService;
  beforeAll(async () => {
    local = await serviceWith(signer);
  }, 60_000);
  afterAll(async () => local?.close());

  it.each([
    ["not an object", "yes", "/options/pdf/sign"],
    ["an array", [], "/options/pdf/sign"],
    ["a reason that is a number", { reason: 42 }, "/options/pdf/sign/reason"],
    ["a location of 201 characters", { location: "地".repeat(201) }, "/options/pdf/sign/location"],
    ["a contact of 100,000 characters", { contactInfo: "x".repeat(100_000) }, "/options/pdf/sign/contactInfo"],
    ["a key of its own (a password)", { password: "hunter2" }, "/options/pdf/sign/password"],
    ["null", null, "/options/pdf/sign"],
  ])("refuses %s before any work, with the path", async (_, sign, path) => {
    const response = await post(local.url, withSign(sign));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; errors: { path: string }[] };
    expect(body.error).toBe("invalid_envelope");
    expect(body.errors.map((e) => e.path)).toContain(path);
  });

  it("signs text made to break out of its string, and reads it back exactly", async () => {
    const reason = ") /Reason (forged) >> endobj\n%%EOF\\(\u0000\u202e签名";
    const response = await post(local.url, withSign({ reason, location: "<<>>", contactInfo: "\r\n" }));
    expect(response.status).toBe(200);
    const pdf = new Uint8Array(await response.arrayBuffer());
    expect((await readSignature(pdf)).verified).toBe(true);
    expect(await signatureText(pdf, "Reason")).toBe(reason);
    expect(await signatureText(pdf, "Location")).toBe("<<>>");
    expect(Buffer.from(pdf).toString("latin1")).not.toContain("(forged)");
  }, 60_000);
});

describe("a service that cannot sign", () => {
  it("refuses options.pdf.sign with 422 and its path when it has no signer", async () => {
    const service = createService(loadConfig({}), createLogger("silent"), undefined);
    const handler = createHttpHandler(service);
    const response = await handler(
      httpEvent("POST", "/v1/render", { body: JSON.stringify(withSign({})), headers: { accept: "application/pdf" } }),
    );
    expect(response.statusCode).toBe(422);
    const body = JSON.parse(String(response.body)) as { error: string; errors: { path: string; message: string }[] };
    expect(body.error).toBe("invalid_options");
    expect(body.errors[0]?.path).toBe("/options/pdf/sign");
  });

  it("refuses it with 422, saying what to configure, when its KMS key has no certificate yet", async () => {
    const local = await serviceWith(configuredSigner(loadConfig({ [ENV.signKmsKeyId]: "k" })));
    try {
      const response = await post(local.url, withSign({}));
      expect(response.status).toBe(422);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe("invalid_options");
      expect(body.message).toContain("signingCertificate");
    } finally {
      await local.close();
    }
  }, 60_000);

  it("answers 500 in the failure vocabulary when KMS fails, and stores no PDF", async () => {
    const kms = new KMSClient({
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
      maxAttempts: 1,
      requestHandler: {
        handle: async () => ({
          response: {
            statusCode: 400,
            headers: { "content-type": "application/x-amz-json-1.1" },
            body: Buffer.from(
              JSON.stringify({ __type: "DisabledException", message: "key arn:aws:kms:… is disabled" }),
            ),
          },
        }),
      },
    });
    const local = await serviceWith(kmsSigner({ client: kms, keyId: "k", certificates: [rsa.cert] }));
    try {
      const response = await post(local.url, withSign({}), "application/json");
      expect(response.status).toBe(500);
      const body = (await response.json()) as { error: string; message: string; errors: unknown[] };
      expect(body).toMatchObject({ error: "internal", errors: [] });
      expect(body.message).not.toContain("arn:aws:kms"); // no internals
      expect(await local.storage.list(local.config.outputBucket, "")).toEqual([]);
    } finally {
      await local.close();
    }
  }, 60_000);
});

describe("any text in the signature dictionary", () => {
  it("is written so that the file stays whole, the signature valid and the text read back exactly", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 200 }), async (reason) => {
        const signed = await signPdf(fixturePdf, signer, { reason, location: reason }, { time: new Date() });
        expect((await readSignature(signed)).verified).toBe(true);
        expect(await signatureText(signed, "Reason")).toBe(reason);
      }),
      { numRuns: 25 },
    );
  });
});

describe("--sign-p12 under attack", () => {
  const dir = tempDir("report-render-hostile-p12-");
  const input = join(root, "examples/zhanhe-transport-2020.json");
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "ignore" });
  });
  const cli = (args: string[], env: Record<string, string> = {}) => {
    const run = spawnSync(process.execPath, [join(root, "bin", "report-render.js"), ...args], {
      encoding: "utf8",
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return { code: run.status, stderr: run.stderr };
  };

  it.each([
    ["a wrong password", () => opensslP12(rsa, "right"), "wrong", /wrong password \(SIGN_P12_PASSWORD\)/],
    [
      "a file that is no PKCS#12",
      () => {
        const file = join(dir, "broken.p12");
        writeFileSync(file, readFileSync(opensslP12(rsa, "right")).subarray(0, 200));
        return file;
      },
      "right",
      /not a PKCS#12/,
    ],
    ["a file that does not exist", () => join(dir, "missing.p12"), "right", /no such file/],
  ])(
    "exits 1 for %s with one clear line, no stack trace and no PDF",
    (_, make, password, message) => {
      const out = join(dir, `out-${Math.random().toString(36).slice(2)}.pdf`);
      const { code, stderr } = cli([input, "-o", out, "--sign-p12", make()], { [ENV.signP12Password]: password });
      expect(code).toBe(1);
      expect(stderr).toMatch(message);
      expect(stderr).toMatch(/^report-render: --sign-p12 /);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    },
    120_000,
  );

  it("takes no password on the command line, where other users would see it", () => {
    const { code, stderr } = cli([input, "--sign-p12", opensslP12(rsa, "x"), "--sign-p12-password", "x"]);
    expect(code).toBe(1);
    expect(stderr).toContain("--sign-p12-password");
  });
});

/** A text entry of the signature dictionary, as pdf-lib decodes it. */
async function signatureText(pdf: Uint8Array, key: string): Promise<string | undefined> {
  const doc = await PDFDocument.load(pdf);
  const form = doc.catalog.lookup(PDFName.of("AcroForm"), PDFDict);
  const fields = form.lookup(PDFName.of("Fields"), PDFArray);
  const value = fields.lookup(0, PDFDict).lookup(PDFName.of("V"), PDFDict);
  const v = value.lookup(PDFName.of(key));
  return v instanceof PDFHexString || v instanceof PDFString ? v.decodeText() : undefined;
}
