/** The attribute types a subject may name, with how each value is written (RFC 5280, appendix A). */
export const SUBJECT_TYPES: Record<string, { oid: string; printable?: boolean; ia5?: boolean }> = {
  CN: { oid: "2.5.4.3" },
  SN: { oid: "2.5.4.4" },
  SERIALNUMBER: { oid: "2.5.4.5", printable: true },
  C: { oid: "2.5.4.6", printable: true },
  L: { oid: "2.5.4.7" },
  ST: { oid: "2.5.4.8" },
  STREET: { oid: "2.5.4.9" },
  O: { oid: "2.5.4.10" },
  OU: { oid: "2.5.4.11" },
  T: { oid: "2.5.4.12" },
  GN: { oid: "2.5.4.42" },
  ORGANIZATIONIDENTIFIER: { oid: "2.5.4.97" },
  E: { oid: "1.2.840.113549.1.9.1", ia5: true },
  EMAILADDRESS: { oid: "1.2.840.113549.1.9.1", ia5: true },
};

/**
 * A distinguished name written as RFC 4514 has it, most specific first ("CN=…,O=…,C=CN"; `\,` for a
 * comma in a value), as `[type, value]` pairs in that order. Throws with what is wrong.
 */
export function parseSubject(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of text.split(/(?<!\\),/)) {
    const m = /^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/s.exec(part);
    const type = m?.[1]?.toUpperCase() ?? "";
    const value = (m?.[2] ?? "").replace(/\\(.)/g, "$1");
    if (!m || !SUBJECT_TYPES[type]) {
      throw new Error(`"${part.trim()}" is not TYPE=value with a type of ${Object.keys(SUBJECT_TYPES).join(", ")}`);
    }
    if (value === "" || value.length > 64) throw new Error(`${type} must have 1–64 characters`);
    if (type === "C" && !/^[A-Z]{2}$/.test(value))
      throw new Error(`C must be a two-letter country code, not "${value}"`);
    out.push([type, value]);
  }
  if (!out.some(([type]) => type === "CN")) throw new Error("a subject needs a CN");
  return out;
}
