/**
 * A tagged PDF's structure tree in object streams (ISO 32000-1, 7.5.7), as a hybrid-reference file
 * (7.5.8.4). Chromium writes each table cell as two structure elements, small uncompressed objects
 * with an xref entry each: 26,000 of them make a 2,000-row report 8.9× the size of the same print
 * untagged. Packed a few hundred to a deflated stream, they take a tenth of that.
 *
 * What is packed: every structure element reached from /StructTreeRoot's /K (objects with /Type
 * /StructElem, or with /S and no /Type), their attribute objects when indirect, and the per-page
 * arrays of the /ParentTree. Everything else stays a top-level object where it was, in the same
 * order and with the same number (catalog, pages, content streams, fonts, annotations, outline,
 * info, /StructTreeRoot, the /ParentTree and /IDTree nodes): the steps after this one (encrypt.ts,
 * sign.ts) read and edit those through pdf-bytes.ts. The classic xref table lists only them, the
 * object streams and the cross-reference stream; the cross-reference stream (its offset the
 * trailer's /XRefStm) lists only the packed objects, as type 2 entries: no offsets, so edits to the
 * file that move objects never make it stale.
 *
 * Deterministic: the same file in gives the same bytes out. Linear in the file's size.
 */
import {
  arrayItems,
  type DictEntry,
  deflated,
  dictEntries,
  isWhite,
  PdfLayoutError,
  RawPdf,
  ref,
  refValue,
  skipSpace,
  skipValue,
  streamObject,
  xrefSubsections,
} from "./pdf-bytes.ts";

/** Objects per object stream: pdf.js and qpdf inflate a whole stream to read one of its objects. */
const OBJECTS_PER_STREAM = 300;

/**
 * The file with its structure tree in object streams, or the file as it was when it has no
 * structure tree. Throws PdfLayoutError for a file not laid out as Chromium and finalize.ts write
 * one (pdf-bytes.ts), or a structure object that is not a plain dictionary or array.
 */
export async function packStructure(pdf: Uint8Array): Promise<Uint8Array> {
  const raw = new RawPdf(pdf);
  const packed = structureObjects(raw);
  if (packed.size === 0) return pdf;
  const values = new Map<number, string>();
  const text = raw.text;

  // Every object's bytes, in file order: from its "N 0 obj" to the next object (or the xref table).
  const starts = raw
    .objectNumbers()
    .map((num) => ({ num, at: objectStart(text, raw.bodyOffset(num), num) }))
    .sort((a, b) => a.at - b.at);
  const first = starts[0]?.at ?? raw.xrefAt;
  const header = headerVersion(text.slice(0, first));
  const out: string[] = [header];
  let length = header.length;
  const offsets = new Map<number, number>();
  starts.forEach(({ num, at }, i) => {
    const end = starts[i + 1]?.at ?? raw.xrefAt;
    const value = packed.get(num);
    if (value !== undefined) {
      if (!/^[\0\t\n\f\r ]*endobj[\0\t\n\f\r ]*$/.test(text.slice(value.end, end))) {
        throw new PdfLayoutError(`object ${num} holds more than one value and "endobj"`);
      }
      values.set(num, text.slice(value.at, value.end));
      return;
    }
    offsets.set(num, length);
    out.push(text.slice(at, end));
    length += end - at;
  });
  if (!isWhite(text.charCodeAt(raw.xrefAt - 1))) {
    out.push("\n");
    length++;
  }

  // The object streams, then the cross-reference stream, numbered from /Size on.
  const nums = [...values.keys()].sort((a, b) => a - b);
  let next = raw.nextObjectNumber();
  const where = new Map<number, { stream: number; index: number }>();
  const groups: { stream: number; nums: number[] }[] = [];
  for (let i = 0; i < nums.length; i += OBJECTS_PER_STREAM) {
    const group = { stream: next++, nums: nums.slice(i, i + OBJECTS_PER_STREAM) };
    group.nums.forEach((num, index) => {
      where.set(num, { stream: group.stream, index });
    });
    groups.push(group);
  }
  const xrefStream = next++;
  const size = next;
  // Every stream compresses at once, on the thread pool; they are written in order.
  const [xrefValue, ...streams] = await Promise.all([
    crossReferenceStream(where, size),
    ...groups.map((group) => objectStream(group.nums, values)),
  ]);
  groups.forEach(({ stream }, i) => {
    const object = `${stream} 0 obj\n${streams[i]}\nendobj\n`;
    offsets.set(stream, length);
    out.push(object);
    length += object.length;
  });
  const xrefStreamAt = length;
  const xref = `${xrefStream} 0 obj\n${xrefValue}\nendobj\n`;
  offsets.set(xrefStream, length);
  out.push(xref);
  length += xref.length;

  out.push(`xref\n0 1\n0000000000 65535 f \n${xrefSubsections(offsets)}`);
  out.push(`trailer\n${trailerWith(raw.trailer, `/Size ${size}\n/XRefStm ${xrefStreamAt}`)}\n`);
  out.push(`startxref\n${length}\n%%EOF\n`);
  const file = new Uint8Array(Buffer.from(out.join(""), "latin1"));

  // Read back: the table must find every top-level object where it now is.
  const check = new RawPdf(file, { allowHybrid: true });
  for (const num of check.objectNumbers()) check.bodyOffset(num);
  if (check.objectNumbers().length !== offsets.size) throw new PdfLayoutError("the packed file does not read back");
  return file;
}

/** Where an object's value is in the file, [at, end), and a dictionary's entries. */
interface Value {
  at: number;
  end: number;
  entries?: Map<string, DictEntry>;
}

/**
 * The objects to pack, with where their values are: the structure elements under /StructTreeRoot
 * (a walk with its own stack, so no tree is too deep), their indirect attribute objects, and the
 * /ParentTree's arrays.
 */
function structureObjects(raw: RawPdf): Map<number, Value> {
  const packed = new Map<number, Value>();
  const text = raw.text;
  const rootNum = ref(raw.dict(raw.rootRef()), "StructTreeRoot");
  if (rootNum === undefined) return packed;
  const root = dictEntries(raw.dict(rootNum));

  const seen = new Set<number>([rootNum]);
  const stack = refsIn(root.get("K")?.value);
  for (let num = stack.pop(); num !== undefined; num = stack.pop()) {
    if (seen.has(num)) continue;
    seen.add(num);
    const value = plainValue(raw, num);
    const entries = value?.entries;
    if (value === undefined || entries === undefined) continue;
    const type = entries.get("Type")?.value;
    // Marked-content and object references (/MCR, /OBJR) written as objects of their own stay where they are.
    if (type !== "/StructElem" && (type !== undefined || !entries.has("S"))) continue;
    packed.set(num, { at: value.at, end: value.end });
    for (const kid of refsIn(entries.get("K")?.value)) stack.push(kid); // not push(...): a /K may hold 100,000
    for (const attribute of refsIn(entries.get("A")?.value)) {
      const dict = seen.has(attribute) ? undefined : plainValue(raw, attribute);
      if (dict?.entries) packed.set(attribute, { at: dict.at, end: dict.end });
    }
  }

  // The /ParentTree: a number tree whose values are arrays of structure elements, one per page.
  const parentTree = root.get("ParentTree")?.value;
  const nodes: { value: string; depth: number }[] = parentTree === undefined ? [] : [{ value: parentTree, depth: 0 }];
  for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
    if (node.depth > 64) throw new PdfLayoutError("a /ParentTree deeper than 64 levels");
    const num = refValue(node.value);
    if (num !== undefined && seen.has(num)) throw new PdfLayoutError(`/ParentTree node ${num} is reached twice`);
    if (num !== undefined) seen.add(num);
    const dict = num === undefined ? node.value : raw.dict(num);
    const entries = dictEntries(dict);
    for (const kid of refsIn(entries.get("Kids")?.value)) nodes.push({ value: `${kid} 0 R`, depth: node.depth + 1 });
    const pairs = entries.get("Nums");
    if (pairs === undefined) continue;
    const items = arrayItems(pairs.value, 0);
    for (let i = 1; i < items.length; i += 2) {
      const value = refValue((items[i] as { value: string }).value);
      if (value === undefined || seen.has(value)) continue;
      seen.add(value);
      const array = plainValue(raw, value);
      if (array && text.startsWith("[", array.at)) packed.set(value, array);
    }
  }
  return packed;
}

/** The object numbers a value refers to: itself if a reference, its elements that are if an array. */
function refsIn(value: string | undefined): number[] {
  if (value === undefined) return [];
  if (value.startsWith("[")) {
    return arrayItems(value, 0)
      .map((item) => refValue(item.value))
      .filter((num) => num !== undefined);
  }
  const num = refValue(value);
  return num === undefined ? [] : [num];
}

/**
 * Where object `num`'s value is, and a dictionary's entries (read once: a long table has tens of
 * thousands), if it is not a stream (an object stream holds no streams); else undefined.
 */
function plainValue(raw: RawPdf, num: number): Value | undefined {
  const text = raw.text;
  const at = skipSpace(text, raw.bodyOffset(num));
  if (!text.startsWith("<<", at)) {
    const end = skipValue(text, at);
    return text.startsWith("stream", skipSpace(text, end)) ? undefined : { at, end };
  }
  // A slice is a view in V8, not a copy: dictEntries reads from `at` to the dictionary's ">>".
  const entries = dictEntries(text.slice(at));
  let last = 2;
  for (const e of entries.values()) last = Math.max(last, e.end);
  const close = skipSpace(text, at + last);
  if (!text.startsWith(">>", close)) throw new PdfLayoutError(`object ${num}'s dictionary does not end where read`);
  const end = close + 2;
  return text.startsWith("stream", skipSpace(text, end)) ? undefined : { at, end, entries };
}

/** Where object `num`'s "num 0 obj" starts, from where its value starts (just after "obj"). */
function objectStart(text: string, body: number, num: number): number {
  let i = body - 3;
  while (isWhite(text.charCodeAt(i - 1))) i--;
  const genEnd = i;
  while (isDigit(text.charCodeAt(i - 1))) i--;
  if (Number(text.slice(i, genEnd)) !== 0) {
    throw new PdfLayoutError(`object ${num} has generation ${text.slice(i, genEnd)}: only generation 0 is packed`);
  }
  while (isWhite(text.charCodeAt(i - 1))) i--;
  while (isDigit(text.charCodeAt(i - 1))) i--;
  return i;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** An object stream (/Type /ObjStm) holding `nums`, in that order: "num offset" pairs, then the values. */
async function objectStream(nums: number[], values: Map<number, string>): Promise<string> {
  const pairs: string[] = [];
  const body: string[] = [];
  let at = 0;
  for (const num of nums) {
    const value = values.get(num) as string;
    pairs.push(`${num} ${at}`);
    body.push(value);
    at += value.length + 1;
  }
  const head = `${pairs.join(" ")}\n`;
  const data = await deflated(head + body.join("\n"));
  return streamObject(`/Type /ObjStm\n/N ${nums.length}\n/First ${head.length}\n/Filter /FlateDecode`, data);
}

/**
 * The cross-reference stream (/Type /XRef): a type 2 entry (object stream, index in it) for each
 * packed object, in runs of consecutive numbers (/Index), fields as wide as their largest value (/W).
 */
async function crossReferenceStream(
  where: Map<number, { stream: number; index: number }>,
  size: number,
): Promise<string> {
  const nums = [...where.keys()].sort((a, b) => a - b);
  const bytes = (max: number) => Math.max(1, Math.ceil(Math.log2(max + 1) / 8));
  const streamWidth = bytes(size);
  const indexWidth = bytes(OBJECTS_PER_STREAM);
  const entry = 1 + streamWidth + indexWidth;
  // Each row its PNG filter byte (2, Up) and its difference from the row above: consecutive entries
  // differ in their index by one, so the deflated table is a few hundred bytes, not 2.5 per entry.
  const rows = Buffer.alloc(nums.length * (entry + 1));
  const row = Buffer.alloc(entry);
  const above = Buffer.alloc(entry);
  const runs: [number, number][] = [];
  nums.forEach((num, i) => {
    const { stream, index } = where.get(num) as { stream: number; index: number };
    row.writeUInt8(2, 0);
    row.writeUIntBE(stream, 1, streamWidth);
    row.writeUIntBE(index, 1 + streamWidth, indexWidth);
    const at = i * (entry + 1);
    rows[at] = 2;
    for (let b = 0; b < entry; b++) rows[at + 1 + b] = ((row[b] as number) - (above[b] as number)) & 0xff;
    row.copy(above);
    const run = runs.at(-1);
    if (run && run[0] + run[1] === num) run[1]++;
    else runs.push([num, 1]);
  });
  const index = runs.map(([first, count]) => `${first} ${count}`).join(" ");
  return streamObject(
    `/Type /XRef\n/Size ${size}\n/W [1 ${streamWidth} ${indexWidth}]\n/Index [${index}]\n/Filter /FlateDecode` +
      `\n/DecodeParms <</Predictor 12 /Columns ${entry}>>`,
    await deflated(rows),
  );
}

/** The trailer dictionary with `entries` set (entries of the same keys replaced). */
function trailerWith(trailer: string, entries: string): string {
  const keys = new Set(dictEntries(`<<${entries}>>`).keys());
  let dict = trailer;
  const replaced = [...dictEntries(dict).values()].filter((e) => keys.has(e.key)).sort((a, b) => b.keyAt - a.keyAt);
  for (const e of replaced) dict = dict.slice(0, e.keyAt) + dict.slice(e.end);
  return `${dict.slice(0, -2)}\n${entries}>>`;
}

/** The file's header with a version below 1.5 raised to 1.5, which object streams need (same length). */
function headerVersion(header: string): string {
  const version = /^%PDF-1\.([0-4])(?![0-9])/.exec(header);
  return version ? `%PDF-1.5${header.slice(8)}` : header;
}
