/**
 * The tagged PDF's size (issue 12, item 3): Chromium writes a 2,000-row table's 12,000 cells as
 * 26,000 small structure objects, 8.9× the same print untagged; packStructure (object-streams.ts)
 * moves them into object streams. What readers see must not change: read back with pdf.js (the
 * structure tree of every page, bookmarks, pages), pdf-lib, poppler's pdfinfo -struct and qpdf.
 */
import { createPrivateKey } from "node:crypto";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { longTableEnvelope } from "../../../bench/lib/long-table-data.ts";
import { parseEnvelope } from "../../../functions/core/input/envelope.ts";
import { finalizePdf } from "../../../functions/core/archival/finalize.ts";
import { root } from "../../helpers/examples.ts";
import { bundledFonts } from "../../../functions/core/html/fonts.ts";
import { buildDocument, type DocumentParts } from "../../../functions/core/html/html.ts";
import { defaultLimits } from "../../../functions/core/input/limits.ts";
import { packStructure } from "../../../functions/core/pdf/object-streams.ts";
import { headingTexts } from "../../../functions/core/html/headings.ts";
import { printPdf } from "../../../functions/core/browser/print.ts";
import { builtInRenderer } from "../../../functions/service/service.ts";
import { loadConfig } from "../../../functions/service/settings.ts";
import { keySigner } from "../../../functions/service/signing/key-signer.ts";
import { example } from "../../helpers/examples.ts";
import { pdfjsBookmarks } from "../../helpers/independent-pdf.ts";
import { opensslIdentity, pdfsig, readSignature } from "../../helpers/pades.ts";
import { pageTexts } from "../../helpers/pdf.ts";
import { renderer, closeRenderer } from "../../helpers/render.ts";
import { hasTool, runTool } from "../../helpers/pdf-tools.ts";

afterAll(closeRenderer);

const poppler = hasTool("pdfinfo");
const qpdf = hasTool("qpdf");
const tool = runTool;

const fonts = bundledFonts(root);

/** The envelope's document as the core builds it, printed and finalised: the file packStructure gets. */
async function printed(input: unknown): Promise<{ doc: DocumentParts; finalised: Uint8Array }> {
  const { envelope } = parseEnvelope(input, defaultLimits);
  const template = await renderer.templates.resolve(envelope.template);
  const meta = template.definition.metadata(envelope.data);
  const view = await template.definition.view(envelope.data, envelope.options);
  const body = await template.render(view, AbortSignal.timeout(90_000));
  const page = { css: template.css, page: template.definition.page };
  const doc = buildDocument(page, body, envelope.options, { title: meta.title, lang: meta.lang }, fonts);
  const { pdf } = await printPdf(renderer.browsers, doc, {
    signal: AbortSignal.timeout(90_000),
    maxPages: defaultLimits.maxPages,
  });
  const finalised = await finalizePdf(
    pdf,
    { ...meta, producer: "test", documentId: "0".repeat(64) },
    headingTexts(doc.body),
  );
  return { doc, finalised: finalised.pdf };
}

/** The same document printed untagged (no structure tree, no bookmarks). */
async function untagged(doc: DocumentParts): Promise<Uint8Array> {
  const { result } = await renderer.browsers.withDocument(doc, (page) =>
    page.pdf({ preferCSSPageSize: true, printBackground: true, outline: false, tagged: false, timeout: 0 }),
  );
  return result;
}

/** What a reader sees (pdf.js): pages, bookmarks, the structure tree of every page (or of `only` these). */
async function seen(pdf: Uint8Array, only?: number[]) {
  const doc = await getDocument({ data: new Uint8Array(pdf), verbosity: 0, isEvalSupported: false }).promise;
  try {
    const trees: unknown[] = [];
    const pages = only ?? Array.from({ length: doc.numPages }, (_, i) => i + 1);
    for (const p of pages) trees.push(await (await doc.getPage(p)).getStructTree());
    return { pages: doc.numPages, bookmarks: await pdfjsBookmarks(doc), trees };
  } finally {
    await doc.destroy();
  }
}

describe("the 2,000-row report, tagged", () => {
  const envelope = longTableEnvelope(2000);
  let finalised: Uint8Array;
  let packed: Uint8Array;
  let plain: Uint8Array;
  let rendered: { pdf: Uint8Array; bytes: number; sha256: string; pages: number }[];

  beforeAll(async () => {
    const p = await printed(envelope);
    finalised = p.finalised;
    packed = await packStructure(finalised);
    plain = await untagged(p.doc);
    rendered = [await renderer.render(envelope), await renderer.render(envelope)];
  }, 240_000);

  it("is at most 2.2× the same HTML printed untagged (8.9× before packing), and byte-identical across renders", () => {
    const [first, second] = rendered as [(typeof rendered)[0], (typeof rendered)[0]];
    expect(finalised.byteLength / plain.byteLength).toBeGreaterThan(7);
    expect(first.bytes / plain.byteLength).toBeLessThanOrEqual(2.2);
    expect(first.bytes).toBe(first.pdf.byteLength);
    expect(second.sha256).toBe(first.sha256);
    expect(Buffer.from(second.pdf).equals(Buffer.from(first.pdf))).toBe(true);
  });

  it("reads the same in pdf.js once rendered: the structure trees, the bookmarks, 81 pages", async () => {
    // The first pages, the middle and the last: every page of 81 took pdf.js 19 s, and the gov
    // example below is compared on every page, and pdfinfo -struct (where poppler is installed)
    // compares the whole tree.
    const sample = [1, 2, 3, 41, 80, 81];
    const before = await seen(finalised, sample);
    expect(before.pages).toBe(81);
    expect(before.trees.every((t) => t !== null)).toBe(true);
    const [first] = rendered;
    expect(await seen(first?.pdf as Uint8Array, sample)).toEqual(before);
    expect(first?.pages).toBe(81);
  }, 120_000);

  it("pdf-lib loads it, with every page", async () => {
    const { PDFDocument } = await import("pdf-lib");
    const doc = await PDFDocument.load(rendered[0]?.pdf as Uint8Array, { updateMetadata: false });
    expect(doc.getPageCount()).toBe(81);
  });

  it.runIf(poppler)("pdfinfo -struct prints the same tree (IDs, /Scope, /Headers …)", () => {
    const before = tool("pdfinfo", ["-struct"], finalised);
    expect(before.out).toMatch(/TD\b[^\n]*\n\s+\/Headers/);
    expect(tool("pdfinfo", ["-struct"], packed).out).toBe(before.out);
  });

  it.runIf(qpdf)("qpdf --check finds nothing wrong", () => {
    const check = tool("qpdf", ["--check"], rendered[0]?.pdf as Uint8Array);
    expect(check.out).toMatch(/No syntax or stream encoding errors/);
    expect(check.out).not.toMatch(/WARNING/i);
  });
});

describe("the gov example, tagged", () => {
  const gov = example("zhanhe-transport-2020.json");
  let finalised: Uint8Array;
  let result: { pdf: Uint8Array; pages: number };

  beforeAll(async () => {
    finalised = (await printed(gov)).finalised;
    result = await renderer.render(gov);
  }, 120_000);

  it("reads the same after packing: structure trees, bookmarks, pages, text", async () => {
    const before = await seen(finalised);
    expect(before.trees.some((t) => t !== null)).toBe(true);
    expect(await seen(result.pdf)).toEqual(before);
    expect(result.pages).toBe(before.pages);
    expect(await pageTexts(result.pdf)).toEqual(await pageTexts(finalised));
  });

  it.runIf(poppler)("pdfinfo -struct prints the same tree", () => {
    expect(tool("pdfinfo", ["-struct"], result.pdf).out).toBe(tool("pdfinfo", ["-struct"], finalised).out);
  });
});

describe("a packed file, signed", () => {
  const identity = opensslIdentity("ec");
  const signing = builtInRenderer(
    loadConfig(),
    undefined,
    undefined,
    keySigner(createPrivateKey(identity.keyPem), [identity.cert]),
  );
  const gov = example("zhanhe-transport-2020.json");
  afterAll(() => signing.close());

  it("verifies (pkijs, pdfsig), and pdf.js reads its structure tree, with a password too", async () => {
    const plain = await seen((await signing.render(gov)).pdf);
    for (const pdf of [{}, { encrypt: { userPassword: "u" } }]) {
      const signed = await signing.render({ ...gov, options: { ...gov.options, pdf: { ...pdf, sign: {} } } });
      const sig = await readSignature(signed.pdf);
      expect(sig.verified).toBe(true);
      expect(sig.byteRange[2] + sig.byteRange[3]).toBe(signed.pdf.byteLength);
      if (hasTool("pdfsig") && !("encrypt" in pdf)) expect(pdfsig(signed.pdf)).toMatch(/Signature is Valid/);
      const doc = await getDocument({
        data: new Uint8Array(signed.pdf),
        password: "u",
        verbosity: 0,
        isEvalSupported: false,
      }).promise;
      try {
        const trees: unknown[] = [];
        for (let p = 1; p <= doc.numPages; p++) trees.push(await (await doc.getPage(p)).getStructTree());
        expect(trees).toEqual(plain.trees);
      } finally {
        await doc.destroy();
      }
      if (qpdf) expect(tool("qpdf", ["--check", "--password=u"], signed.pdf).out).not.toMatch(/WARNING/i);
    }
  }, 120_000);
});
