import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { pdfDate, streamObject } from "../pdf/index.ts";
import type { Envelope } from "../types.ts";

/**
 * `options.pdf.attachSource`: the request travels inside its PDF as the file `report.json`, so the
 * report can be checked against, or rendered again from, the data it was made of. Passwords never
 * travel: `options.pdf.encrypt` is left out of the file (and the passwords out of the /ID).
 */
export const SOURCE_FILE_NAME = "report.json";

/** The envelope as the attached file holds it: canonical JSON (RFC 8785), `options.pdf.encrypt` removed, UTF-8. */
export function sourceJson(envelope: Envelope): Uint8Array {
  const { encrypt: _, ...pdf } = envelope.options.pdf ?? {};
  const options = envelope.options.pdf ? { ...envelope.options, pdf } : envelope.options;
  return new Uint8Array(Buffer.from(canonicalJson({ ...envelope, options }), "utf8"));
}

/**
 * The envelope without the encryption passwords (its permissions kept): what the PDF's /ID is
 * derived from, so that no hash of a password (which a short one could be guessed from) is published.
 */
export function withoutPasswords(envelope: Envelope): Envelope {
  const encrypt = envelope.options.pdf?.encrypt;
  if (!encrypt) return envelope;
  const { userPassword: _u, ownerPassword: _o, ...kept } = encrypt;
  return { ...envelope, options: { ...envelope.options, pdf: { ...envelope.options.pdf, encrypt: kept } } };
}

/**
 * JSON in the JSON Canonicalization Scheme (RFC 8785): object members sorted by their names' UTF-16
 * code units (what Array.prototype.sort compares), no white space, strings and numbers as ECMAScript
 * serialises them (which is what the RFC prescribes). The input has been through JSON.parse, so it
 * holds no undefined, functions or non-finite numbers, and no unpaired surrogates (parseEnvelope).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    // An array of strings, numbers, booleans and nulls (a table row) is written the same either way.
    if (value.every((v) => v === null || typeof v !== "object")) return JSON.stringify(value);
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const object = value as Record<string, unknown>;
    const members = Object.keys(object)
      .sort()
      .filter((key) => object[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The embedded file (number `first`: the JSON, deflated, /Subtype its MIME type, /Params with its
 * size, MD5 and, when the input states a date, that as /ModDate) and its file specification
 * (`first + 1`: /F and /UF, /Desc, /AFRelationship /Source). `filespec` is the latter's number,
 * for the catalog's /Names /EmbeddedFiles and, in PDF/A-3, /AF.
 */
export function embeddedSource(json: Uint8Array, first: number, date?: Date): { objects: string[]; filespec: number } {
  const params = [
    `/Size ${json.byteLength}`,
    `/CheckSum <${createHash("md5").update(json).digest("hex").toUpperCase()}>`,
    ...(date ? [`/ModDate ${pdfDate(date)}`] : []),
  ];
  const file = streamObject(
    `/Type /EmbeddedFile\n/Subtype /application#2Fjson\n/Params <<${params.join("\n")}>>\n/Filter /FlateDecode`,
    deflateSync(json).toString("latin1"),
  );
  const spec = [
    "<</Type /Filespec",
    `/F (${SOURCE_FILE_NAME})`,
    `/UF (${SOURCE_FILE_NAME})`,
    "/Desc (The request this PDF was rendered from: template, data and options, passwords removed)",
    "/AFRelationship /Source",
    `/EF <</F ${first} 0 R\n/UF ${first} 0 R>>>>`,
  ].join("\n");
  return { objects: [file, spec], filespec: first + 1 };
}
