import * as asn1js from "asn1js";
import { RelativeDistinguishedNames } from "pkijs";
import { parseSubject, SUBJECT_TYPES } from "./subject.ts";

/** The subject as an X.509 Name: one attribute per RDN, in ASN.1 order (the reverse of RFC 4514's). */
export function subjectName(text: string): RelativeDistinguishedNames {
  const rdns = parseSubject(text)
    .reverse()
    .map(([type, value]) => {
      const { oid, printable, ia5 } = SUBJECT_TYPES[type] as (typeof SUBJECT_TYPES)[string];
      const string = printable
        ? new asn1js.PrintableString({ value })
        : ia5
          ? new asn1js.IA5String({ value })
          : new asn1js.Utf8String({ value });
      return new asn1js.Set({
        value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), string] })],
      });
    });
  // Through DER: pkijs keeps the encoding it decoded, and would write the RDNs built here as one.
  return RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns }).toBER());
}
