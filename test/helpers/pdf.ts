import { createCanvas } from "@napi-rs/canvas";
import { getDocument, type PDFDocumentProxy } from "pdfjs-dist/legacy/build/pdf.mjs";
import { PNG } from "pngjs";
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRef } from "pdf-lib";

/** What a reader sees in a PDF, read with pdf.js (what browsers use), not with our own code. */
export async function openPdf(pdf: Uint8Array): Promise<PDFDocumentProxy> {
  return getDocument({ data: new Uint8Array(pdf), useSystemFonts: false, isEvalSupported: false, verbosity: 0 })
    .promise;
}

/** The text of each page, items joined without separators (CJK text has no spaces to keep). */
export async function pageTexts(pdf: Uint8Array): Promise<string[]> {
  const doc = await openPdf(pdf);
  const pages: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    pages.push(content.items.map((item) => ("str" in item ? item.str : "")).join(""));
  }
  await doc.destroy();
  return pages;
}

/** Text with all whitespace removed: layout decides where lines break, not the input. */
export function squash(text: string): string {
  return text.replace(/\s+/g, "");
}

export interface FontInfo {
  name: string;
  subtype: string;
  /** For Type0 fonts, the descendant's subtype (CIDFontType2 = TrueType outlines). */
  descendant?: string;
  embedded: boolean;
}

/** Every font resource in the PDF, with its type and whether its program is embedded. */
export async function fonts(pdf: Uint8Array): Promise<FontInfo[]> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const out: FontInfo[] = [];
  for (const [, obj] of doc.context.enumerateIndirectObjects()) {
    if (!(obj instanceof PDFDict) || obj.get(PDFName.of("Type")) !== PDFName.of("Font")) continue;
    const subtype = String(obj.get(PDFName.of("Subtype")));
    if (subtype === "/CIDFontType2" || subtype === "/CIDFontType0") continue; // listed via their parent
    let descriptorHolder = obj;
    let descendant: string | undefined;
    if (subtype === "/Type0") {
      const kids = obj.lookup(PDFName.of("DescendantFonts"), PDFArray);
      const kid = doc.context.lookup(kids.get(0), PDFDict);
      descendant = String(kid.get(PDFName.of("Subtype")));
      descriptorHolder = kid;
    }
    const descriptorRef = descriptorHolder.get(PDFName.of("FontDescriptor"));
    const descriptor = descriptorRef instanceof PDFRef ? doc.context.lookup(descriptorRef, PDFDict) : undefined;
    const embedded = ["FontFile", "FontFile2", "FontFile3"].some((k) => descriptor?.has(PDFName.of(k)));
    out.push({
      name: String(obj.get(PDFName.of("BaseFont")) ?? ""),
      subtype,
      descendant,
      embedded: subtype === "/Type3" ? false : embedded,
    });
  }
  return out;
}

/** One page as an RGBA PNG at `scale` × 72 dpi, drawn by pdf.js. */
export async function rasterize(pdf: Uint8Array, pageNumber: number, scale = 1): Promise<PNG> {
  const doc = await openPdf(pdf);
  const page = await doc.getPage(pageNumber);
  const viewport = page.getViewport({ scale });
  const canvas = createCanvas(Math.ceil(viewport.width), Math.ceil(viewport.height));
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  await page.render({
    canvas: canvas as unknown as HTMLCanvasElement,
    canvasContext: context as unknown as CanvasRenderingContext2D,
    viewport,
  }).promise;
  const png = PNG.sync.read(canvas.toBuffer("image/png"));
  await doc.destroy();
  return png;
}

export interface TextLine {
  page: number;
  y: number;
  items: { str: string; x: number; width: number }[];
  text: string;
}

/** Text items grouped into visual lines (same page, same baseline), left to right. */
export async function textLines(pdf: Uint8Array): Promise<TextLine[]> {
  const doc = await openPdf(pdf);
  const lines: TextLine[] = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const content = await (await doc.getPage(p)).getTextContent();
    const byY = new Map<number, TextLine>();
    for (const item of content.items) {
      if (!("str" in item) || item.str.trim() === "") continue;
      const y = Math.round(item.transform[5] as number);
      const key = [...byY.keys()].find((k) => Math.abs(k - y) <= 1.5) ?? y;
      const line = byY.get(key) ?? { page: p, y: key, items: [], text: "" };
      line.items.push({ str: item.str, x: item.transform[4] as number, width: item.width });
      byY.set(key, line);
    }
    for (const line of [...byY.values()].sort((a, b) => b.y - a.y)) {
      line.items.sort((a, b) => a.x - b.x);
      line.text = line.items.map((i) => i.str).join("");
      lines.push(line);
    }
  }
  await doc.destroy();
  return lines;
}

/** The numbers printed on the line that starts with `label`, left to right. */
export function numbersAfter(lines: TextLine[], label: string): string[] {
  const line = lines.find((l) => squash(l.text).includes(squash(label)));
  if (!line) throw new Error(`no line with "${label}"`);
  let seen = "";
  const rest = line.items.filter((item) => {
    if (squash(seen).includes(squash(label))) return true;
    seen += item.str;
    return false;
  });
  return rest.map((i) => i.str.trim()).filter((s) => /^-?\d+(\.\d+)?$/.test(s));
}

/**
 * The text of a table cell that starts with `start`, following its wrapped lines: the runs of
 * adjacent items that begin at the same left edge on the lines below. Reading order alone would
 * interleave a wrapped label with the numbers beside it.
 */
export function cellText(lines: TextLine[], start: string): string | undefined {
  const wanted = squash(start);
  for (const [index, line] of lines.entries()) {
    for (const [first, item] of line.items.entries()) {
      if (!wanted.startsWith(squash(item.str).slice(0, 2)) || squash(item.str) === "") continue;
      let text = run(line, first);
      let from = index;
      while (squash(text).length < wanted.length) {
        const next = continuation(lines, from, item.x);
        if (!next) break;
        text += run(next.line, next.at);
        from = next.index;
      }
      if (squash(text).includes(wanted)) return text;
    }
  }
  return undefined;
}

/** The next line (within three) that continues a cell starting at x0: same left edge first, else centred. */
function continuation(lines: TextLine[], from: number, x0: number) {
  const candidates = lines.slice(from + 1, from + 4).map((line, k) => ({ line, index: from + 1 + k }));
  const start = lines[from];
  const same = candidates.filter((c) => c.line.page === start?.page);
  for (const accept of [
    (dx: number) => Math.abs(dx) < 1.5,
    (dx: number, str: string) => dx > 0 && dx < 80 && !/^\d+$/.test(str.trim()),
  ]) {
    for (const c of same) {
      const at = c.line.items.findIndex((other) => accept(other.x - x0, other.str));
      if (at >= 0) return { ...c, at };
    }
  }
  return undefined;
}

function run(line: TextLine, from: number): string {
  let text = "";
  let end = Number.NaN;
  for (const item of line.items.slice(from)) {
    if (!Number.isNaN(end) && item.x - end > 2) break;
    text += item.str;
    end = item.x + item.width;
  }
  return text;
}

export interface Bookmark {
  title: string;
  level: number;
  page: number;
}

/** The PDF's bookmarks in document order, with the 1-based page each points to, as pdf.js reads them. */
export async function bookmarks(pdf: Uint8Array): Promise<Bookmark[]> {
  const doc = await openPdf(pdf);
  const out: Bookmark[] = [];
  type Item = { title: string; dest: unknown; items: Item[] };
  const walk = async (items: Item[] | null, level: number) => {
    for (const item of items ?? []) {
      const dest = (typeof item.dest === "string" ? await doc.getDestination(item.dest) : item.dest) as
        | unknown[]
        | null;
      const target = dest?.[0] as { num: number; gen: number } | undefined;
      const page = target ? (await doc.getPageIndex(target)) + 1 : 0;
      out.push({ title: item.title, level, page });
      await walk(item.items, level + 1);
    }
  };
  await walk((await doc.getOutline()) as Item[] | null, 1);
  await doc.destroy();
  return out;
}

/** The number of pages, as pdf.js counts them. */
export async function pageCount(pdf: Uint8Array): Promise<number> {
  const doc = await openPdf(pdf);
  const n = doc.numPages;
  await doc.destroy();
  return n;
}
