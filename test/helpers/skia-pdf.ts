/**
 * PDFs shaped like Skia's (Chromium's) output, written as text so every variation is explicit:
 * "%PDF-1.4" and a binary comment, objects "N 0 obj … endobj" in the order Skia writes them (not
 * numbered in file order), a classic xref table of 20-byte entries, a trailer with /Root and /Info,
 * startxref and %%EOF. The layout knobs (line ends, subsections, a cross-reference stream…) make the
 * variants the byte code must read, or refuse.
 */

export interface PdfObject {
  num: number;
  /** The object's value as written between "N 0 obj" and "endobj" (a stream included). */
  body: string;
}

export interface Layout {
  /** Line end after the header, object headers, bodies and trailer keywords (default "\n"). */
  eol?: string;
  /** After "xref" and after each subsection header (default "\n"). */
  xrefEol?: string;
  /** The last two of an entry's 20 bytes (default " \n", as Skia writes). */
  entryEnd?: " \n" | " \r" | "\r\n";
  /**
   * "one": a single subsection "0 size" with free entries for unused numbers (Skia). "runs": a
   * subsection per run of consecutive object numbers, object 0 (free) on its own, gaps left out.
   * "runs+free": like "runs", but every gap is listed too, as free entries in their own subsections.
   */
  subsections?: "one" | "runs" | "runs+free";
  /** "stream": a PDF 1.5 cross-reference stream instead of the table and trailer. */
  xref?: "table" | "stream";
}

export interface WrittenPdf {
  /** The file as latin1 text (one char per byte). */
  text: string;
  bytes: Uint8Array;
  /** Where each object's "N 0 obj" starts. */
  offsets: Map<number, number>;
  /** Where the xref table (or stream object) starts. */
  xrefAt: number;
}

/** Writes objects in the given order, then the xref and the trailer (`trailer`: its entries, /Size added). */
export function writePdf(objects: PdfObject[], trailer: string, layout: Layout = {}): WrittenPdf {
  const eol = layout.eol ?? "\n";
  const xrefEol = layout.xrefEol ?? "\n";
  const entryEnd = layout.entryEnd ?? " \n";
  let text = `%PDF-${layout.xref === "stream" ? "1.5" : "1.4"}${eol}%\xd3\xeb\xe9\xe1${eol}`;
  const offsets = new Map<number, number>();
  for (const o of objects) {
    offsets.set(o.num, text.length);
    text += `${o.num} 0 obj${eol}${o.body}${eol}endobj${eol}`;
  }
  const size = Math.max(0, ...objects.map((o) => o.num)) + 1;
  if (layout.xref === "stream") {
    // One more object, the xref stream itself: /W [1 4 2], uncompressed.
    const num = size;
    const xrefAt = text.length;
    offsets.set(num, xrefAt);
    let data = "";
    for (let n = 0; n <= num; n++) {
      const at = offsets.get(n);
      data += at === undefined ? "\x00\x00\x00\x00\x00\xff\xff" : `\x01${be(at, 4)}\x00\x00`;
    }
    text +=
      `${num} 0 obj${eol}<</Type /XRef /Size ${num + 1} /W [1 4 2] ${trailer} /Length ${data.length}>>${eol}` +
      `stream\n${data}\nendstream${eol}endobj${eol}startxref${eol}${xrefAt}${eol}%%EOF${eol}`;
    return done(text, offsets, xrefAt);
  }
  const xrefAt = text.length;
  const entry = (n: number) => {
    const at = offsets.get(n);
    return at === undefined
      ? `${n === 0 ? "0000000000 65535" : "0000000000 00001"} f${entryEnd}`
      : `${String(at).padStart(10, "0")} 00000 n${entryEnd}`;
  };
  const sections: [number, number][] = [];
  if ((layout.subsections ?? "one") === "one") sections.push([0, size]);
  else {
    sections.push([0, 1]);
    for (let n = 1; n < size; ) {
      const used = offsets.has(n);
      let end = n;
      while (end < size && offsets.has(end) === used) end++;
      if (used || layout.subsections === "runs+free") sections.push([n, end - n]);
      n = end;
    }
  }
  text += `xref${xrefEol}`;
  for (const [first, count] of sections) {
    text += `${first} ${count}${xrefEol}`;
    for (let n = first; n < first + count; n++) text += entry(n);
  }
  text += `trailer${eol}<</Size ${size}${eol}${trailer}>>${eol}startxref${eol}${xrefAt}${eol}%%EOF${eol}`;
  return done(text, offsets, xrefAt);
}

function be(value: number, bytes: number): string {
  let out = "";
  for (let i = bytes - 1; i >= 0; i--) out += String.fromCharCode(Math.floor(value / 256 ** i) % 256);
  return out;
}

function done(text: string, offsets: Map<number, number>, xrefAt: number): WrittenPdf {
  return { text, bytes: latin1(text), offsets, xrefAt };
}

export function latin1(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "latin1"));
}

export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("latin1");
}

export interface Bookmark {
  /** The /Title value exactly as written: "(literal)" or "<hex>". */
  title: string;
  /** 1-based page it points to. */
  page: number;
  kids?: Bookmark[];
}

export interface ReportSpec {
  pages: number;
  bookmarks?: Bookmark[];
  /** The /Info dictionary; false: no /Info at all. Default: Chromium's, with a wall-clock date. */
  info?: string | false;
  /**
   * DOM node ids of table header cells, written as Skia does: /ID (node%08d), /Headers, an /IDTree.
   * The cells are written in this order (the document's); the ids need not ascend in it (a render on
   * a freshly launched Chromium numbers some nodes out of order).
   */
  nodeIds?: number[];
  /** Data cells after the header cells, each naming header cells (indices into nodeIds) in /Headers. Default: one naming them all. */
  dataCells?: number[][];
  /**
   * At most this many pairs a leaf and kids a node in the IDTree: several leaves under intermediate
   * nodes, each with /Limits. Default: one leaf under the root, as Skia writes it.
   */
  idTreeFanout?: number;
  /** Text inside the first page's content stream (a stream may hold any bytes). */
  content?: string;
  /** More trailer entries. */
  trailer?: string;
  /** Leave every object number divisible by 5 unused (free entries, gaps in the numbering). */
  sparse?: boolean;
  /** Change the objects before they are written (shapes Skia does not write; the xref stays right). */
  patch?: (objects: PdfObject[]) => void;
}

/** A report as Chromium prints it: pages in Skia's page tree (8 kids a node), bookmarks, tags. */
export function skiaReport(spec: ReportSpec, layout: Layout = {}): WrittenPdf {
  const eol = layout.eol ?? "\n";
  let next = 2;
  const num = () => {
    if (spec.sparse && next % 5 === 0) next++;
    return next++;
  };
  const objects: PdfObject[] = [];
  const info =
    spec.info ??
    "<</Title (Report)\n/Creator (Chromium)\n/Producer (Skia/PDF m147)\n/CreationDate (D:20261127203132+00'00')\n/ModDate (D:20261127203132+00'00')>>";
  if (info !== false) objects.push({ num: 1, body: info });

  // Content streams first, then the pages, then the page tree (as Skia orders them).
  const pageNums: number[] = [];
  const contents: PdfObject[] = [];
  for (let p = 0; p < spec.pages; p++) {
    const data =
      p === 0 && spec.content !== undefined ? spec.content : `q 1 0 0 1 0 0 cm 0 0 10 10 re f Q % page ${p + 1}`;
    contents.push({ num: num(), body: `<</Length ${data.length}>> stream\n${data}\nendstream` });
    pageNums.push(num());
  }
  objects.push(...contents);
  // Skia nests /Pages nodes of at most 8 kids once there are more than 8 pages.
  let level = pageNums.map((n) => ({ num: n, count: 1, kids: [] as number[] }));
  const parentOf = new Map<number, number>();
  const nodes: { num: number; count: number; kids: number[] }[] = [];
  do {
    const up: typeof level = [];
    for (let i = 0; i < level.length; i += 8) {
      const group = level.slice(i, i + 8);
      const node = { num: num(), count: group.reduce((s, g) => s + g.count, 0), kids: group.map((g) => g.num) };
      for (const g of group) parentOf.set(g.num, node.num);
      nodes.push(node);
      up.push(node);
    }
    level = up;
  } while (level.length > 1);
  const root = level[0] as { num: number };
  pageNums.forEach((n, i) => {
    objects.push({
      num: n,
      body: `<</Type /Page${eol}/Resources <</ProcSet [/PDF /Text]>>${eol}/MediaBox [0 0 298.07999 420]${eol}/Contents ${contents[i]?.num} 0 R${eol}/StructParents ${i}${eol}/Tabs /S${eol}/Parent ${parentOf.get(n)} 0 R>>`,
    });
  });
  for (const node of nodes) {
    const parent = parentOf.get(node.num);
    objects.push({
      num: node.num,
      body: `<</Type /Pages${eol}/Count ${node.count}${eol}/Kids [${node.kids.map((k) => `${k} 0 R`).join(" ")}]${parent ? `${eol}/Parent ${parent} 0 R` : ""}>>`,
    });
  }

  // Structure tree: header cells with /ID (node%08d), data cells naming them in /Headers, an /IDTree.
  // Skia numbers the elements parent first and writes them children first.
  let structRoot: number | undefined;
  const ids = spec.nodeIds ?? [];
  if (ids.length > 0) {
    structRoot = num();
    const docElem = num();
    const id = (n: number) => `(node${String(n).padStart(8, "0")})`;
    const cells = ids.map((n) => ({ num: num(), node: n, id: id(n) }));
    const data = (spec.dataCells ?? [ids.map((_, i) => i)]).map((headers) => ({ num: num(), headers }));
    for (const c of cells) {
      objects.push({
        num: c.num,
        body: `<</Type /StructElem${eol}/S /TH${eol}/P ${docElem} 0 R${eol}/A [<</O /Table${eol}/Scope /Column>>]${eol}/ID ${c.id}>>`,
      });
    }
    for (const d of data) {
      const headers = d.headers.map((i) => (cells[i] as (typeof cells)[number]).id).join(" ");
      objects.push({
        num: d.num,
        body: `<</Type /StructElem${eol}/S /TD${eol}/P ${docElem} 0 R${eol}/A [<</O /Table${eol}/Headers [${headers}]>>]>>`,
      });
    }
    objects.push({
      num: docElem,
      body: `<</Type /StructElem${eol}/S /Document${eol}/P ${structRoot} 0 R${eol}/K [${[...cells, ...data].map((c) => `${c.num} 0 R`).join(" ")}]>>`,
    });
    // Skia sorts the IDTree by node id as a number (std::sort on the ints), then writes one leaf.
    const sorted = [...cells].sort((a, b) => a.node - b.node);
    const fanout = spec.idTreeFanout ?? Number.POSITIVE_INFINITY;
    type TreeNode = { num: number; first: string; last: string };
    let level: TreeNode[] = [];
    for (let i = 0; i < sorted.length; i += fanout) {
      const group = sorted.slice(i, i + fanout);
      const leaf = { num: num(), first: group[0]?.id ?? "", last: group.at(-1)?.id ?? "" };
      objects.push({
        num: leaf.num,
        body: `<</Limits [${leaf.first} ${leaf.last}]${eol}/Names [${group.map((c) => `${c.id} ${c.num} 0 R`).join(" ")}]>>`,
      });
      level.push(leaf);
    }
    while (level.length > fanout) {
      const up: TreeNode[] = [];
      for (let i = 0; i < level.length; i += fanout) {
        const group = level.slice(i, i + fanout);
        const node = { num: num(), first: group[0]?.first ?? "", last: group.at(-1)?.last ?? "" };
        objects.push({
          num: node.num,
          body: `<</Limits [${node.first} ${node.last}]${eol}/Kids [${group.map((g) => `${g.num} 0 R`).join(" ")}]>>`,
        });
        up.push(node);
      }
      level = up;
    }
    const tree = num();
    objects.push({ num: tree, body: `<</Kids [${level.map((l) => `${l.num} 0 R`).join(" ")}]>>` });
    objects.push({
      num: structRoot,
      body: `<</Type /StructTreeRoot${eol}/K ${docElem} 0 R${eol}/IDTree ${tree} 0 R>>`,
    });
  }

  // Outline: items written children first, each with /Parent, /Prev, /Next, /First, /Last, /Count.
  let outlines: number | undefined;
  if (spec.bookmarks && spec.bookmarks.length > 0) {
    outlines = num();
    const writeLevel = (items: Bookmark[], parent: number): { first: number; last: number; count: number } => {
      const nums = items.map(() => num());
      let count = 0;
      items.forEach((b, i) => {
        const self = nums[i] as number;
        const kids = b.kids && b.kids.length > 0 ? writeLevel(b.kids, self) : undefined;
        count += 1 + (kids?.count ?? 0);
        const lines = [
          `/Title ${b.title}`,
          `/Dest [${pageNums[b.page - 1]} 0 R /XYZ 28.99 387.87 0]`,
          `/Parent ${parent} 0 R`,
          ...(i > 0 ? [`/Prev ${nums[i - 1]} 0 R`] : []),
          ...(i < items.length - 1 ? [`/Next ${nums[i + 1]} 0 R`] : []),
          ...(kids ? [`/First ${kids.first} 0 R`, `/Last ${kids.last} 0 R`, `/Count ${kids.count}`] : []),
        ];
        objects.push({ num: self, body: `<<${lines.join(eol)}>>` });
      });
      return { first: nums[0] as number, last: nums.at(-1) as number, count };
    };
    const top = writeLevel(spec.bookmarks, outlines);
    objects.push({
      num: outlines,
      body: `<</Type /Outlines${eol}/First ${top.first} 0 R${eol}/Last ${top.last} 0 R${eol}/Count ${top.count}>>`,
    });
  }

  const catalog = num();
  objects.push({
    num: catalog,
    body: [
      `<</Type /Catalog`,
      `/Pages ${root.num} 0 R`,
      `/MarkInfo <</Type /MarkInfo${eol}/Marked true>>`,
      ...(structRoot ? [`/StructTreeRoot ${structRoot} 0 R`] : []),
      ...(outlines ? [`/Outlines ${outlines} 0 R`] : []),
      `/ViewerPreferences <</Type /ViewerPreferences${eol}/DisplayDocTitle true>>`,
      `/Lang (en)>>`,
    ].join(eol),
  });
  spec.patch?.(objects);
  const trailer = [
    `/Root ${catalog} 0 R`,
    ...(info !== false ? ["/Info 1 0 R"] : []),
    ...(spec.trailer ? [spec.trailer] : []),
  ].join(eol);
  return writePdf(objects, trailer, layout);
}

/** A literal string token as Skia writes one: "(", ")" and "\" escaped. */
export function literal(value: string): string {
  return `(${value.replace(/[()\\]/g, (c) => `\\${c}`)})`;
}

/** A UTF-16BE hex string token with a byte order mark, as Skia writes non-ASCII text. */
export function utf16(value: string): string {
  return `<FEFF${Buffer.from(value, "utf16le").swap16().toString("hex").toUpperCase()}>`;
}
