/**
 * packStructure on the largest tagged tables the limits allow: no quadratic work, and the file stays
 * small. The input is shaped as Chromium writes a long table (bench/render/long-table.ts): per row a TR, per
 * cell a TD with three attribute dictionaries and a NonStruct holding its text, one /ParentTree array
 * per page; 25 rows a page, so 12,000 rows are 480 pages, under the 500-page limit (MAX_PAGES).
 */
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { describe, expect, it } from "vitest";
import { defaultLimits } from "../../functions/core/input/limits.ts";
import { packStructure } from "../../functions/core/pdf/object-streams.ts";
import type { PdfObject } from "../helpers/skia-pdf.ts";

const ROWS_PER_PAGE = 25;
const CELLS = 6;

/** A Chromium-shaped tagged PDF of one table with `rows` rows. */
function longTable(rows: number): Uint8Array {
  const pages = Math.ceil(rows / ROWS_PER_PAGE);
  let next = 1;
  const num = () => next++;
  const objects: PdfObject[] = [];
  const info = num();
  const catalog = num();
  const pageTree = num();
  const structRoot = num();
  const parentTree = num();
  const table = num();
  const pageNums = Array.from({ length: pages }, () => num());
  const perPage: number[][] = pageNums.map(() => []);
  const rowNums: number[] = [];
  for (let r = 0; r < rows; r++) {
    const page = Math.floor(r / ROWS_PER_PAGE);
    const tr = num();
    rowNums.push(tr);
    const cells: number[] = [];
    for (let c = 0; c < CELLS; c++) {
      const td = num();
      const text = num();
      const mcid = perPage[page]?.length ?? 0;
      perPage[page]?.push(text);
      cells.push(td);
      objects.push({
        num: td,
        body:
          `<</Type /StructElem\n/S /TD\n/P ${tr} 0 R\n/K ${text} 0 R\n/A [<</O /Table\n/Headers [(node0000000${c + 1})]>>` +
          ` <</O /Table\n/RowSpan 1>> <</O /Table\n/ColSpan 1>>]>>`,
      });
      objects.push({
        num: text,
        body: `<</Type /StructElem\n/S /NonStruct\n/P ${td} 0 R\n/Pg ${pageNums[page]} 0 R\n/K ${mcid}>>`,
      });
    }
    objects.push({
      num: tr,
      body: `<</Type /StructElem\n/S /TR\n/P ${table} 0 R\n/K [${cells.map((n) => `${n} 0 R`).join(" ")}]>>`,
    });
  }
  const contents = pageNums.map((_, p) => {
    const n = num();
    const marked = (perPage[p] ?? []).map((_, i) => `/P <</MCID ${i}>> BDC\nBT /F1 9 Tf 0 0 Td (${p}.${i}) Tj ET\nEMC`);
    const data = marked.join("\n");
    objects.push({ num: n, body: `<</Length ${data.length}>> stream\n${data}\nendstream` });
    return n;
  });
  const arrays = pageNums.map((_, p) => {
    const n = num();
    objects.push({ num: n, body: `[${(perPage[p] ?? []).map((t) => `${t} 0 R`).join(" ")}]` });
    return n;
  });
  pageNums.forEach((n, p) => {
    objects.push({
      num: n,
      body:
        `<</Type /Page\n/Parent ${pageTree} 0 R\n/MediaBox [0 0 595 842]\n/Contents ${contents[p]} 0 R` +
        `\n/StructParents ${p}\n/Tabs /S>>`,
    });
  });
  objects.push(
    { num: info, body: "<</Title (Long table)>>" },
    { num: catalog, body: `<</Type /Catalog\n/Pages ${pageTree} 0 R\n/StructTreeRoot ${structRoot} 0 R>>` },
    {
      num: pageTree,
      body: `<</Type /Pages\n/Count ${pages}\n/Kids [${pageNums.map((n) => `${n} 0 R`).join(" ")}]>>`,
    },
    {
      num: structRoot,
      body: `<</Type /StructTreeRoot\n/K ${table} 0 R\n/ParentTree ${parentTree} 0 R\n/ParentTreeNextKey ${pages}>>`,
    },
    { num: parentTree, body: `<</Nums [${arrays.map((n, p) => `${p} ${n} 0 R`).join(" ")}]>>` },
    {
      num: table,
      body: `<</Type /StructElem\n/S /Table\n/P ${structRoot} 0 R\n/K [${rowNums.map((n) => `${n} 0 R`).join(" ")}]>>`,
    },
  );
  return written(objects, `/Root ${catalog} 0 R\n/Info ${info} 0 R`);
}

/** The objects as Skia writes a file: header, objects, one classic xref table, trailer (writePdf, for 100,000s of objects). */
function written(objects: PdfObject[], trailer: string): Uint8Array {
  const parts = ["%PDF-1.4\n%\xd3\xeb\xe9\xe1\n"];
  let at = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  for (const o of objects) {
    const text = `${o.num} 0 obj\n${o.body}\nendobj\n`;
    offsets[o.num] = at;
    parts.push(text);
    at += text.length;
  }
  parts.push(`xref\n0 ${offsets.length}\n0000000000 65535 f \n`);
  for (let n = 1; n < offsets.length; n++) parts.push(`${String(offsets[n]).padStart(10, "0")} 00000 n \n`);
  parts.push(`trailer\n<</Size ${offsets.length}\n${trailer}>>\nstartxref\n${at}\n%%EOF\n`);
  return new Uint8Array(Buffer.from(parts.join(""), "latin1"));
}

/** The fastest of `runs` runs of packStructure on `pdf`, in ms, and its output. */
async function timed(pdf: Uint8Array, runs: number): Promise<{ ms: number; out: Uint8Array }> {
  let ms = Number.POSITIVE_INFINITY;
  let out = pdf;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    out = await packStructure(pdf);
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, out };
}

describe("packStructure at the limits", () => {
  it("takes time in proportion to the table (5,000 and 10,000 rows), not its square", async () => {
    const small = longTable(5_000);
    const large = longTable(10_000);
    await timed(small, 1); // warm up the JIT
    const a = await timed(small, 3);
    const b = await timed(large, 3);
    // Linear is 2×; quadratic would be 4×. Logged for the record: a loaded machine moves both.
    console.info(`packStructure: 5,000 rows ${a.ms.toFixed(0)} ms, 10,000 rows ${b.ms.toFixed(0)} ms`);
    expect(b.ms / a.ms).toBeLessThan(3);
    expect(b.out.byteLength / large.byteLength).toBeLessThan(0.25);
  }, 120_000);

  it("packs the largest table the page limit allows, in seconds, into a file pdf.js reads", async () => {
    const rows = ROWS_PER_PAGE * defaultLimits.maxPages - 500;
    const pdf = longTable(rows);
    const { ms, out } = await timed(pdf, 1);
    expect(ms).toBeLessThan(10_000);
    expect(out.byteLength).toBeLessThan(pdf.byteLength / 4);
    const doc = await getDocument({ data: new Uint8Array(out), verbosity: 0, isEvalSupported: false }).promise;
    try {
      expect(doc.numPages).toBe(Math.ceil(rows / ROWS_PER_PAGE));
      const tree = (await (await doc.getPage(doc.numPages)).getStructTree()) as { children: unknown[] } | null;
      expect(JSON.stringify(tree)).toContain('"role":"TD"');
    } finally {
      await doc.destroy();
    }
  }, 120_000);
});
