import { createHash, verify, X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import {
  AlgorithmIdentifier,
  Attribute,
  Certificate,
  ContentInfo,
  EncapsulatedContentInfo,
  GeneralName,
  GeneralNames,
  IssuerAndSerialNumber,
  SignedAndUnsignedAttributes,
  SignedData,
  SignerInfo,
} from "pkijs";
import type { PdfSigner } from "./signer.ts";

/**
 * The CMS SignedData of a PAdES baseline B-B signature (ETSI EN 319 142-1, ETSI.CAdES.detached):
 * detached (the PDF's bytes are not inside), SHA-256, the signer's certificates included, and the
 * signed attributes content-type, message-digest and signing-certificate-v2 (ESS, RFC 5035), which
 * binds the signer's certificate to the signature. No signing-time attribute: PAdES puts the time in
 * the signature dictionary's /M instead.
 */

const OID = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
} as const;

/** The signer's certificates, read once for a signature, and what they say of its key. */
export interface SigningCertificates {
  /** DER, the signer's own first. */
  der: Uint8Array[];
  /** The signer's certificate, parsed. */
  signer: Certificate;
  /** Its public key, to check the signature made before it goes into a PDF. */
  publicKey: X509Certificate["publicKey"];
  /** The most bytes a signature of that key takes (an RSA modulus; an ECDSA Ecdsa-Sig-Value in DER). */
  maxSignatureBytes: number;
}

/** Parses the certificates a signer gives and checks that the first one's key is of the signer's kind. */
export function readCertificates(der: Uint8Array[], keyType: PdfSigner["keyType"]): SigningCertificates {
  const first = der[0];
  if (!first) throw new Error("the signer gave no certificate");
  const x509 = new X509Certificate(Buffer.from(first));
  const key = x509.publicKey;
  const kind = key.asymmetricKeyType === "rsa" ? "RSA" : key.asymmetricKeyType === "ec" ? "EC" : undefined;
  if (kind !== keyType) {
    throw new Error(`the signer's key is ${keyType}, but its certificate holds a ${key.asymmetricKeyType} key`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  const maxSignatureBytes =
    kind === "RSA" ? Math.ceil((details.modulusLength ?? 4096) / 8) : ecdsaSignatureBound(details.namedCurve);
  return { der, signer: Certificate.fromBER(new Uint8Array(first)), publicKey: key, maxSignatureBytes };
}

/** An Ecdsa-Sig-Value is a SEQUENCE of two INTEGERs of at most the curve's size, plus a sign byte each. */
function ecdsaSignatureBound(curve: string | undefined): number {
  const bytes = { prime256v1: 32, secp384r1: 48, secp521r1: 66 }[curve ?? ""] ?? 66;
  return 2 * (bytes + 3) + 3;
}

/**
 * The DER of the CMS ContentInfo for `digest` (SHA-256 of the signed byte ranges). The signature
 * comes from `sign` over the DER of the signed attributes and is checked with the certificate's key
 * before it is returned: a key that does not belong to the certificate never yields a signature.
 */
export async function cadesSignature(
  certs: SigningCertificates,
  keyType: PdfSigner["keyType"],
  digest: Uint8Array,
  sign: (data: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const attributes = signedAttributes(certs.signer, certs.der[0] as Uint8Array, digest);
  const toSign = signedAttributesDer(attributes);
  const signature = await sign(toSign);
  if (!verify("sha256", toSign, certs.publicKey, signature)) {
    throw new Error("the signer's signature does not verify with its certificate: the key and certificate differ");
  }
  return contentInfo(certs, keyType, attributes, signature);
}

/** The most bytes `cadesSignature` returns for these certificates (the same CMS with the longest signature). */
export function cadesSignatureBound(certs: SigningCertificates, keyType: PdfSigner["keyType"]): number {
  const attributes = signedAttributes(certs.signer, certs.der[0] as Uint8Array, new Uint8Array(32));
  return contentInfo(certs, keyType, attributes, new Uint8Array(certs.maxSignatureBytes).fill(0xff)).byteLength;
}

function signedAttributes(signer: Certificate, signerDer: Uint8Array, digest: Uint8Array): Attribute[] {
  // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (so left out), certHash, issuerSerial }
  const issuerSerial = new asn1js.Sequence({
    value: [
      new GeneralNames({ names: [new GeneralName({ type: 4, value: signer.issuer })] }).toSchema(),
      new asn1js.Integer({ valueHex: signer.serialNumber.valueBlock.valueHexView.slice() }),
    ],
  });
  const certHash = createHash("sha256").update(signerDer).digest();
  const essCertId = new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: certHash }), issuerSerial] });
  const signingCertificateV2 = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertId] })] });
  const attributes = [
    new Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
    new Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: digest.slice() })] }),
    new Attribute({ type: OID.signingCertificateV2, values: [signingCertificateV2] }),
  ];
  // DER orders a SET OF by the encodings of its elements.
  const encoded = attributes.map((a) => ({ a, der: new Uint8Array(a.toSchema().toBER()) }));
  encoded.sort((x, y) => Buffer.compare(x.der, y.der));
  return encoded.map((e) => e.a);
}

/** What is signed: the signed attributes as a SET (RFC 5652, 5.4), not as the [0] they are written with. */
function signedAttributesDer(attributes: Attribute[]): Uint8Array {
  const der = new Uint8Array(new SignedAndUnsignedAttributes({ type: 0, attributes }).toSchema().toBER());
  der[0] = 0x31;
  return der;
}

function contentInfo(
  certs: SigningCertificates,
  keyType: PdfSigner["keyType"],
  attributes: Attribute[],
  signature: Uint8Array,
): Uint8Array {
  const { signer } = certs;
  const signerInfo = new SignerInfo({
    version: 1,
    sid: new IssuerAndSerialNumber({ issuer: signer.issuer, serialNumber: signer.serialNumber }),
    digestAlgorithm: new AlgorithmIdentifier({ algorithmId: OID.sha256 }),
    signedAttrs: new SignedAndUnsignedAttributes({ type: 0, attributes }),
    // sha256WithRSAEncryption takes NULL parameters (RFC 4055); ecdsa-with-SHA256 none (RFC 5758).
    signatureAlgorithm:
      keyType === "RSA"
        ? new AlgorithmIdentifier({ algorithmId: OID.sha256WithRsa, algorithmParams: new asn1js.Null() })
        : new AlgorithmIdentifier({ algorithmId: OID.ecdsaWithSha256 }),
    signature: new asn1js.OctetString({ valueHex: signature.slice() }),
  });
  const signedData = new SignedData({
    version: 1,
    digestAlgorithms: [new AlgorithmIdentifier({ algorithmId: OID.sha256 })],
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: OID.data }),
    certificates: certs.der.map((der) => Certificate.fromBER(new Uint8Array(der))),
    signerInfos: [signerInfo],
  });
  const info = new ContentInfo({ contentType: OID.signedData, content: signedData.toSchema(true) });
  return new Uint8Array(info.toSchema().toBER());
}
