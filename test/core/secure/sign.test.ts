import { createPrivateKey } from "node:crypto";
import type * as asn1js from "asn1js";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFNumber, type PDFRef, PDFString } from "pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PdfSigner } from "../../../functions/core/secure/signer.ts";
import { builtInRenderer } from "../../../functions/service/service.ts";
import { loadConfig } from "../../../functions/service/settings.ts";
import { keySigner } from "../../../functions/service/signing/key-signer.ts";
import { example } from "../../helpers/examples.ts";
import { pageTexts } from "../../helpers/pdf.ts";
import { hasPdfsig, hasQpdf, opensslIdentity, pdfsig, qpdfCheck, readSignature, sha256 } from "../../helpers/pades.ts";

// options.pdf.sign through the render core: the PDF Chromium printed, finished, then signed by an
// incremental update. Everything is read back with code other than ours: the CMS by pkijs, the
// fields by pdf-lib, the text by pdf.js, the whole by poppler's pdfsig and qpdf.

const OID = {
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
};

const rsa = opensslIdentity("rsa", "/CN=Zhang San/O=Example Agency/C=CN");
const ec = opensslIdentity("ec");
const signerOf = (id: typeof rsa): PdfSigner => keySigner(createPrivateKey(id.keyPem), [id.cert]);

/** The renderer's signer: each test sets whose key signs. */
let current: PdfSigner = signerOf(rsa);
const renderer = builtInRenderer(loadConfig(), undefined, undefined, {
  get keyType() {
    return current.keyType;
  },
  certificates: () => current.certificates(),
  sign: (data) => current.sign(data),
});

const gov = example("zhanhe-transport-2020.json");
const signOptions = { reason: "审核通过：同意公开", location: "平顶山市湛河区", contactInfo: "gov@example.cn" };
const signed = (envelope: ReturnType<typeof example>, sign: object = signOptions, pdf: object = {}) => ({
  ...envelope,
  options: { ...envelope.options, pdf: { ...pdf, sign } },
});

let govPdf: Uint8Array;
let started: number;

beforeAll(async () => {
  started = Date.now();
  govPdf = (await renderer.render(signed(gov))).pdf;
}, 120_000);
afterAll(() => renderer.close());

/** The signature field's dictionaries, as pdf-lib reads the file (through its incremental update). */
async function signatureField(pdf: Uint8Array) {
  const doc = await PDFDocument.load(pdf, { ignoreEncryption: true });
  const acroForm = doc.catalog.lookup(PDFName.of("AcroForm"), PDFDict);
  const fields = acroForm.lookup(PDFName.of("Fields"), PDFArray);
  expect(fields.size()).toBe(1);
  const field = fields.lookup(0, PDFDict);
  const value = field.lookup(PDFName.of("V"), PDFDict);
  return { doc, acroForm, field, fieldRef: fields.get(0) as PDFRef, value };
}

const text = (dict: PDFDict, key: string) => {
  const v = dict.lookup(PDFName.of(key));
  return v instanceof PDFHexString || v instanceof PDFString ? v.decodeText() : undefined;
};

describe("options.pdf.sign (PAdES B-B)", () => {
  it("covers the whole file but /Contents, and the CMS verifies over those bytes (pkijs)", async () => {
    const sig = await readSignature(govPdf);
    const [a, b, c, d] = sig.byteRange;
    expect(a).toBe(0);
    expect(c + d).toBe(govPdf.byteLength);
    expect(govPdf[b]).toBe(0x3c); // "<"
    expect(govPdf[c - 1]).toBe(0x3e); // ">"
    expect(sig.verified).toBe(true);
    const digest = sig.attributes.get(OID.messageDigest) as asn1js.OctetString;
    expect(Buffer.from(digest.valueBlock.valueHexView).equals(sha256(sig.signed))).toBe(true);
    // A byte changed anywhere the ranges cover breaks it.
    const tampered = new Uint8Array(govPdf);
    const at = Math.floor(b / 2);
    tampered[at] = (tampered[at] as number) ^ 1;
    expect((await readSignature(tampered)).verified).toBe(false);
  });

  it("has the signed attributes of PAdES baseline B-B, and no signing time", async () => {
    const sig = await readSignature(govPdf);
    expect([...sig.attributes.keys()].sort()).toEqual(
      [OID.contentType, OID.messageDigest, OID.signingCertificateV2].sort(),
    );
    expect((sig.attributes.get(OID.contentType) as asn1js.ObjectIdentifier).valueBlock.toString()).toBe(
      "1.2.840.113549.1.7.1",
    );
    // SigningCertificateV2 → certs → ESSCertIDv2 → certHash: the SHA-256 of the signer's certificate.
    const v2 = sig.attributes.get(OID.signingCertificateV2) as asn1js.Sequence;
    const essCertId = (v2.valueBlock.value[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
    const certHash = essCertId.valueBlock.value[0] as asn1js.OctetString;
    expect(Buffer.from(certHash.valueBlock.valueHexView).equals(sha256(rsa.cert))).toBe(true);
    expect(sig.signedData.encapContentInfo.eContent).toBeUndefined(); // detached
    expect(sig.signedData.signerInfos[0]?.digestAlgorithm.algorithmId).toBe("2.16.840.1.101.3.4.2.1");
    const certs = sig.signedData.certificates ?? [];
    expect(certs.map((c) => Buffer.from(c.toSchema().toBER()).equals(Buffer.from(rsa.cert)))).toEqual([true]);
  });

  it("writes an invisible signature field on page 1 and the signature dictionary (pdf-lib)", async () => {
    const { doc, acroForm, field, fieldRef, value } = await signatureField(govPdf);
    expect(acroForm.lookup(PDFName.of("SigFlags"), PDFNumber).asNumber()).toBe(3);
    expect(field.lookup(PDFName.of("FT"))).toBe(PDFName.of("Sig"));
    expect(field.lookup(PDFName.of("Subtype"))).toBe(PDFName.of("Widget"));
    expect(field.lookup(PDFName.of("F"), PDFNumber).asNumber()).toBe(132);
    expect(field.lookup(PDFName.of("Rect"), PDFArray).asArray().map(String)).toEqual(["0", "0", "0", "0"]);
    const page1 = doc.getPage(0).node;
    expect(field.get(PDFName.of("P"))).toBe(doc.getPage(0).ref);
    expect(page1.Annots()?.asArray()).toContain(fieldRef);
    expect(value.lookup(PDFName.of("Filter"))).toBe(PDFName.of("Adobe.PPKLite"));
    expect(value.lookup(PDFName.of("SubFilter"))).toBe(PDFName.of("ETSI.CAdES.detached"));
    expect(text(value, "Reason")).toBe(signOptions.reason);
    expect(text(value, "Location")).toBe(signOptions.location);
    expect(text(value, "ContactInfo")).toBe(signOptions.contactInfo);
    const m = /^D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text(value, "M") ?? "");
    expect(m).not.toBeNull();
    const [, y, mo, dd, h, mi, s] = (m as RegExpExecArray).map(Number);
    const when = Date.UTC(y as number, (mo as number) - 1, dd, h, mi, s);
    expect(when).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000);
    expect(when).toBeLessThanOrEqual(Date.now());
  });

  it("appends the signature: the file before it is the finished PDF, unchanged, with the same /ID", async () => {
    const text = Buffer.from(govPdf).toString("latin1");
    const firstEof = text.indexOf("%%EOF") + "%%EOF\n".length;
    const before = govPdf.subarray(0, firstEof);
    const last = text.slice(text.lastIndexOf("trailer"));
    const prev = Number(/\/Prev (\d+)/.exec(last)?.[1]);
    expect(text.slice(prev, prev + 4)).toBe("xref");
    const ids = [...text.matchAll(/\/ID\s*\[\s*(<[0-9A-Fa-f]+>)/g)].map((x) => x[1]);
    expect(ids.length).toBe(2);
    expect(ids[0]).toBe(ids[1]);
    // The first revision alone is a whole PDF with the same pages and text.
    expect(await pageTexts(new Uint8Array(before))).toEqual(await pageTexts(govPdf));
    // The rewritten catalog keeps every entry it had (PDF/A's /Metadata and /OutputIntents among them).
    const original = (await PDFDocument.load(before)).catalog;
    const updated = (await PDFDocument.load(govPdf)).catalog;
    for (const [key, value] of original.entries()) expect(String(updated.get(key)), key.toString()).toBe(String(value));
  });

  it("prints the same pages as without a signature (pdf.js)", async () => {
    const plain = await renderer.render(gov);
    expect(await pageTexts(govPdf)).toEqual(await pageTexts(plain.pdf));
  }, 60_000);

  it.runIf(hasPdfsig && hasQpdf)("is a valid signature to poppler's pdfsig, and a sound file to qpdf", () => {
    const report = pdfsig(govPdf);
    expect(report).toContain("Signature Type: ETSI.CAdES.detached");
    expect(report).toContain("Signature Validation: Signature is Valid.");
    expect(report).toContain("Total document signed");
    expect(report).toContain("CN=Zhang San");
    expect(qpdfCheck(govPdf).code).toBe(0);
  });

  it("signs with an ECDSA P-256 key, a page that has links, no reason at all", async () => {
    current = signerOf(ec);
    try {
      const report = example("report-showcase.json");
      const { pdf } = await renderer.render(signed(report, {}));
      const sig = await readSignature(pdf);
      expect(sig.verified).toBe(true);
      expect(sig.signedData.signerInfos[0]?.signatureAlgorithm.algorithmId).toBe("1.2.840.10045.4.3.2");
      const { value, doc } = await signatureField(pdf);
      expect(value.get(PDFName.of("Reason"))).toBeUndefined();
      expect(doc.getPage(0).node.Annots()?.size()).toBeGreaterThan(1); // the TOC's links kept, the widget added
      if (hasPdfsig) expect(pdfsig(pdf)).toContain("Signature is Valid.");
      if (hasQpdf) expect(qpdfCheck(pdf).code).toBe(0);
    } finally {
      current = signerOf(rsa);
    }
  }, 60_000);

  it("signs a PDF/A-3b file with its source attached, keeping what PDF/A needs", async () => {
    const { pdf } = await renderer.render(signed(gov, signOptions, { standard: "PDF/A-3b", attachSource: true }));
    expect((await readSignature(pdf)).verified).toBe(true);
    const catalog = (await PDFDocument.load(pdf)).catalog;
    expect(catalog.get(PDFName.of("Metadata"))).toBeDefined();
    expect(catalog.get(PDFName.of("OutputIntents"))).toBeDefined();
    if (hasQpdf) expect(qpdfCheck(pdf).code).toBe(0);
    if (hasPdfsig) expect(pdfsig(pdf)).toContain("Signature is Valid.");
  }, 60_000);

  it("signs an encrypted file: its new strings encrypted, the signature valid with the password", async () => {
    const envelope = signed(gov, signOptions, { encrypt: { userPassword: "open", ownerPassword: "owner" } });
    const { pdf } = await renderer.render(envelope);
    expect((await readSignature(pdf)).verified).toBe(true);
    // The reason is not in the file as text: it went through the file's encryption.
    const utf16 = Buffer.from(signOptions.reason, "utf16le").swap16().toString("hex").toUpperCase();
    expect(Buffer.from(pdf).toString("latin1")).not.toContain(utf16);
    if (hasQpdf) expect(qpdfCheck(pdf, "open").code).toBe(0);
    const doc = await getDocument({ data: new Uint8Array(pdf), password: "open", verbosity: 0 }).promise;
    const first = await (await doc.getPage(1)).getTextContent();
    expect(first.items.map((i) => ("str" in i ? i.str : "")).join("")).toBe((await pageTexts(govPdf))[0]);
    await doc.destroy();
  }, 60_000);

  it("never returns a PDF when the signer fails or its key is not its certificate's", async () => {
    current = {
      keyType: "RSA",
      certificates: async () => [rsa.cert],
      sign: () => Promise.reject(new Error("HSM down")),
    };
    await expect(renderer.render(signed(gov))).rejects.toThrow("HSM down");
    current = keySigner(createPrivateKey(opensslIdentity("rsa").keyPem), [rsa.cert]);
    await expect(renderer.render(signed(gov))).rejects.toThrow(/does not verify with its certificate/);
    current = keySigner(createPrivateKey(ec.keyPem), [rsa.cert]);
    await expect(renderer.render(signed(gov))).rejects.toThrow(/its certificate holds a rsa key/);
    current = signerOf(rsa);
  }, 60_000);
});
