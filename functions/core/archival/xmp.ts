/**
 * The XMP metadata packet of a PDF/A file (ISO 19005-2/-3, 6.6): its identification (pdfaid) and
 * the document information dictionary's entries in their XMP form, so the two say the same thing
 * (Title ↔ dc:title, Author ↔ dc:creator, Subject ↔ dc:description, Keywords ↔ pdf:Keywords,
 * Creator ↔ xmp:CreatorTool, Producer ↔ pdf:Producer, CreationDate ↔ xmp:CreateDate, ModDate ↔
 * xmp:ModifyDate). Only schemas the XMP specification predefines, plus pdfaid, which PDF/A
 * defines: no extension schema is needed.
 */

export interface XmpFields {
  /** 2 or 3 (ISO 19005 part). */
  part: 2 | 3;
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string;
  /** Written as xmp:CreatorTool and pdf:Producer, as /Creator and /Producer. */
  producer: string;
  /** The document's creation and modification date (and the metadata's), when the input states one. */
  date?: Date;
  /** A BCP 47 language tag (dc:language); left out if it is not one. */
  lang?: string;
}

/**
 * The packet as text (to be written UTF-8 encoded). Its header has neither the `bytes` nor the
 * `encoding` attribute (6.6.2.1); values are XML-escaped, a carriage return as a character
 * reference so that an XML parser gives it back (it would read a raw one as a line feed).
 */
export function xmpPacket(fields: XmpFields): string {
  const lines = [
    `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>`,
    `<x:xmpmeta xmlns:x="adobe:ns:meta/">`,
    `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`,
    `<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">`,
    `<pdfaid:part>${fields.part}</pdfaid:part>`,
    `<pdfaid:conformance>B</pdfaid:conformance>`,
    `</rdf:Description>`,
    `<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">`,
    `<dc:format>application/pdf</dc:format>`,
  ];
  if (fields.title) lines.push(`<dc:title>${langAlt(fields.title)}</dc:title>`);
  if (fields.author) lines.push(`<dc:creator><rdf:Seq><rdf:li>${xml(fields.author)}</rdf:li></rdf:Seq></dc:creator>`);
  if (fields.subject) lines.push(`<dc:description>${langAlt(fields.subject)}</dc:description>`);
  if (fields.lang && LANGUAGE_TAG.test(fields.lang)) {
    lines.push(`<dc:language><rdf:Bag><rdf:li>${fields.lang}</rdf:li></rdf:Bag></dc:language>`);
  }
  lines.push(
    `</rdf:Description>`,
    `<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">`,
    `<pdf:Producer>${xml(fields.producer)}</pdf:Producer>`,
  );
  if (fields.keywords) lines.push(`<pdf:Keywords>${xml(fields.keywords)}</pdf:Keywords>`);
  lines.push(
    `</rdf:Description>`,
    `<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">`,
    `<xmp:CreatorTool>${xml(fields.producer)}</xmp:CreatorTool>`,
  );
  if (fields.date) {
    const date = xmpDate(fields.date);
    lines.push(
      `<xmp:CreateDate>${date}</xmp:CreateDate>`,
      `<xmp:ModifyDate>${date}</xmp:ModifyDate>`,
      `<xmp:MetadataDate>${date}</xmp:MetadataDate>`,
    );
  }
  lines.push(`</rdf:Description>`, `</rdf:RDF>`, `</x:xmpmeta>`, `<?xpacket end="r"?>`);
  return lines.join("\n");
}

/** A date as XMP writes it (ISO 8601, to the second, UTC): the same instant as the /Info's D:…Z. */
function xmpDate(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * Text as both the /Info dictionary and XMP can carry it: without the characters XML 1.0 cannot
 * represent at all (C0 controls other than tab, line feed and carriage return; U+FFFE, U+FFFF), and
 * without white space at either end (which XMP readers disagree on keeping). Both are written from
 * this, so they stay equal.
 */
export function metadataText(value: string): string {
  return value.replace(NOT_XML, "").trim();
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** dc:language is a bag of RFC 3066 / BCP 47 tags. */
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

function langAlt(value: string): string {
  return `<rdf:Alt><rdf:li xml:lang="x-default">${xml(value)}</rdf:li></rdf:Alt>`;
}

function xml(value: string): string {
  return metadataText(value).replace(/[&<>\r]/g, (c) => XML_ESCAPES[c] as string);
}

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;" };
