/**
 * options.pdf.standard and options.pdf.attachSource through the render core with real Chromium, read
 * back with pdf.js (metadata, attachments, text, pixels) and pdf-lib (catalog, annotations, output
 * intent): the archival file is the same document, page for page and pixel for pixel.
 */
import { afterAll, describe, expect, it } from "vitest";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { PDFArray, PDFDict, PDFName, PDFRawStream } from "pdf-lib";
import { sourceJson } from "../../../functions/core/archival/attachment.ts";
import type { Envelope } from "../../../functions/core/types.ts";
import { example } from "../../helpers/examples.ts";
import { pdfLib, withPdfjs } from "../../helpers/independent-pdf.ts";
import { pageTexts, rasterize } from "../../helpers/pdf.ts";
import { renderReport, closeRenderer } from "../../helpers/render.ts";

afterAll(closeRenderer);

type Pdf = { standard?: "PDF/A-2b" | "PDF/A-3b"; attachSource?: boolean; encrypt?: { userPassword: string } };

/** The showcase (every block type, a table of contents of links) with `pdf` as its options.pdf. */
function showcase(pdf?: Pdf) {
  const envelope = example("report-showcase.json");
  return { ...envelope, options: { ...envelope.options, ...(pdf ? { pdf } : {}) } };
}

function gov(pdf?: Pdf) {
  const envelope = example("zhanhe-transport-2020.json");
  return { ...envelope, options: { ...envelope.options, ...(pdf ? { pdf } : {}) } };
}

/** A stream object as pdf-lib parsed it (its bytes as written). */
function rawStream(value: unknown): PDFRawStream {
  if (!(value instanceof PDFRawStream)) throw new Error(`not a stream: ${String(value)}`);
  return value;
}

async function metadata(pdf: Uint8Array) {
  const { value, warnings } = await withPdfjs(pdf, async (doc) => {
    const { info, metadata } = await doc.getMetadata();
    return {
      info: info as Record<string, string | undefined>,
      xmp: (metadata ? Object.fromEntries(metadata) : {}) as Record<string, unknown>,
      attachments: ((await doc.getAttachments()) ?? {}) as Record<string, { content: Uint8Array }>,
    };
  });
  expect(warnings).toEqual([]);
  return value;
}

/** The annotations' subtypes and flags, page by page, as pdf-lib reads them. */
async function annotationFlags(pdf: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  for (const [i, page] of (await pdfLib(pdf)).getPages().entries()) {
    const annots = page.node.Annots();
    for (let k = 0; annots && k < annots.size(); k++) {
      const annot = annots.lookup(k, PDFDict);
      out.push(`${i + 1}${annot.get(PDFName.of("Subtype"))} ${annot.get(PDFName.of("F"))}`);
    }
  }
  return out;
}

describe("PDF/A-2b and PDF/A-3b of real reports", () => {
  it("identifies itself in XMP (part, conformance B, the title), with an sRGB output intent, and reads as the plain PDF, page by page", async () => {
    const plain = await renderReport(showcase());
    const plainTexts = await pageTexts(plain.pdf);
    for (const [standard, part] of [
      ["PDF/A-2b", "2"],
      ["PDF/A-3b", "3"],
    ] as const) {
      const result = await renderReport(showcase({ standard }));
      expect(result.pages).toBe(plain.pages);
      const { info, xmp } = await metadata(result.pdf);
      expect(info.PDFFormatVersion).toBe("1.7");
      expect(xmp).toMatchObject({
        "pdfaid:part": part,
        "pdfaid:conformance": "B",
        "dc:title": info.Title,
        "dc:language": "zh-CN",
        "xmp:createdate": "2026-10-15T00:00:00Z",
      });
      expect(info.Title).toBe("星河市政务服务中心 2026 年第三季度运营报告");
      expect(await pageTexts(result.pdf)).toEqual(plainTexts);
      const lib = await pdfLib(result.pdf);
      const intent = lib.catalog.lookup(PDFName.of("OutputIntents"), PDFArray).lookup(0, PDFDict);
      expect(String(intent.get(PDFName.of("S")))).toBe("/GTS_PDFA1");
      expect(String(rawStream(intent.lookup(PDFName.of("DestOutputProfile"))).dict.get(PDFName.of("N")))).toBe("3");
    }
  });

  it("draws the same pixels as the plain PDF (the cover with its table of contents, a page of charts)", async () => {
    const plain = (await renderReport(showcase())).pdf;
    const archival = (await renderReport(showcase({ standard: "PDF/A-3b", attachSource: true }))).pdf;
    for (const page of [1, 3]) {
      const [a, b] = [await rasterize(plain, page), await rasterize(archival, page)];
      expect(a.width).toBe(b.width);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data)), `page ${page}`).toBe(true);
    }
  });

  it("prints every link of the table of contents (/F 4) and keeps where each points", async () => {
    const plain = (await renderReport(showcase())).pdf;
    const archival = (await renderReport(showcase({ standard: "PDF/A-2b" }))).pdf;
    const flags = await annotationFlags(archival);
    expect(flags.length).toBeGreaterThan(10);
    expect(new Set(flags)).toEqual(new Set(["1/Link 4"]));
    const targets = async (pdf: Uint8Array) =>
      (
        await withPdfjs(pdf, async (doc) => {
          const out: unknown[] = [];
          for (const a of await (await doc.getPage(1)).getAnnotations()) {
            const dest = typeof a.dest === "string" ? await doc.getDestination(a.dest) : a.dest;
            out.push(await doc.getPageIndex(dest[0]));
          }
          return out;
        })
      ).value;
    expect(await targets(archival)).toEqual(await targets(plain));
  });

  it("is byte-identical for identical input", async () => {
    const first = await renderReport(gov({ standard: "PDF/A-3b", attachSource: true }));
    const second = await renderReport(gov({ standard: "PDF/A-3b", attachSource: true }));
    expect(second.sha256).toBe(first.sha256);
  });
});

describe("the attached source", () => {
  it("gives back the envelope the core parsed, byte for byte, as the associated file of a PDF/A-3b", async () => {
    const envelope = gov({ standard: "PDF/A-3b", attachSource: true });
    const result = await renderReport(envelope);
    const { attachments } = await metadata(result.pdf);
    expect(Object.keys(attachments)).toEqual(["report.json"]);
    const bytes = attachments["report.json"]?.content ?? new Uint8Array();
    expect(Buffer.from(bytes).equals(Buffer.from(sourceJson(envelope as Envelope)))).toBe(true);
    expect(JSON.parse(Buffer.from(bytes).toString("utf8"))).toEqual(envelope);
    const lib = await pdfLib(result.pdf);
    const spec = lib.catalog.lookup(PDFName.of("AF"), PDFArray).lookup(0, PDFDict);
    expect(String(spec.get(PDFName.of("AFRelationship")))).toBe("/Source");
    // ...and it renders again into the same document.
    const again = await renderReport(JSON.parse(Buffer.from(bytes).toString("utf8")));
    expect(again.sha256).toBe(result.sha256);
  });

  it("embeds it without a standard too, and the catalog says what an accessible PDF's says", async () => {
    const result = await renderReport(showcase({ attachSource: true }));
    const { attachments, info } = await metadata(result.pdf);
    expect(JSON.parse(Buffer.from(attachments["report.json"]?.content ?? []).toString("utf8"))).toEqual(
      showcase({ attachSource: true }),
    );
    expect(info.Language).toBe("zh-CN");
    const catalog = (await pdfLib(result.pdf)).catalog;
    expect(catalog.get(PDFName.of("AF"))).toBeUndefined();
    expect(catalog.get(PDFName.of("Metadata"))).toBeUndefined();
    const plain = (await pdfLib((await renderReport(showcase())).pdf)).catalog;
    for (const c of [catalog, plain]) {
      expect(String(c.lookup(PDFName.of("ViewerPreferences"), PDFDict).get(PDFName.of("DisplayDocTitle")))).toBe(
        "true",
      );
      expect(String(c.lookup(PDFName.of("MarkInfo"), PDFDict).get(PDFName.of("Marked")))).toBe("true");
      expect(String(c.get(PDFName.of("Lang")))).toBe("(zh-CN)");
    }
  });

  it("never carries the passwords of an encrypted PDF, nor an /ID that a guess of its content could confirm", async () => {
    const open = async (pdf: Uint8Array, password: string) => {
      const doc = await getDocument({ data: new Uint8Array(pdf), password, verbosity: 0, useSystemFonts: false })
        .promise;
      try {
        const attachments = (await doc.getAttachments()) as Record<string, { content: Uint8Array }>;
        return {
          id: doc.fingerprints[0],
          json: Buffer.from(attachments["report.json"]?.content ?? []).toString("utf8"),
        };
      } finally {
        await doc.destroy();
      }
    };
    const one = await open(
      (await renderReport(showcase({ attachSource: true, encrypt: { userPassword: "alpha-1" } }))).pdf,
      "alpha-1",
    );
    const two = await open(
      (await renderReport(showcase({ attachSource: true, encrypt: { userPassword: "bravo-2" } }))).pdf,
      "bravo-2",
    );
    expect(one.json).not.toMatch(/alpha-1|encrypt/);
    expect(JSON.parse(one.json)).toEqual(showcase({ attachSource: true }));
    expect(two.json).toBe(one.json);
    const plain = await open((await renderReport(showcase({ attachSource: true }))).pdf, "");
    expect(one.id).not.toBe(plain.id);
    expect(two.id).not.toBe(one.id);
  });
});
