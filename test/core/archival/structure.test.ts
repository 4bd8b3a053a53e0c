import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PDFArray, PDFDict, PDFDocument, PDFName } from "pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactEdits, markArtifacts } from "../../../functions/core/archival/artifacts.ts";
import { RawPdf } from "../../../functions/core/pdf/pdf-bytes.ts";
import type { RenderResult } from "../../../functions/core/types.ts";
import { example, root } from "../../helpers/examples.ts";
import { openPdf, rasterize, squash } from "../../helpers/pdf.ts";
import { renderReport, closeRenderer } from "../../helpers/render.ts";

afterAll(closeRenderer);

// The tagged PDF's structure as readers get it: pdf.js's getStructTree (roles, /Alt) with each
// element's text from the marked content it owns; the attributes (/Scope) read with pdf-lib.

interface Elem {
  role: string;
  alt?: string;
  /** The text of the marked content below it, white space removed. */
  text: string;
  kids: Elem[];
  page: number;
}

interface Tagged {
  /** Every structure element on every page (an element split over pages appears once per page). */
  elems: Elem[];
  /** Per page: the text drawn inside no marked-content sequence (owned by no structure element). */
  unmarked: string[];
  /** Per page: the text marked as /Artifact. */
  artifacts: string[];
}

type Node = { role?: string; alt?: string; type?: string; id?: string; children?: Node[] };

async function tagged(pdf: Uint8Array): Promise<Tagged> {
  const doc = await openPdf(pdf);
  const elems: Elem[] = [];
  const unmarked: string[] = [];
  const artifacts: string[] = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const page = await doc.getPage(p);
    const content = await page.getTextContent({ includeMarkedContent: true });
    const byId = new Map<string, string>();
    const open: { id: string; tag: string }[] = [];
    let loose = "";
    let artifact = "";
    for (const item of content.items) {
      if ("type" in item) {
        if (item.type === "beginMarkedContentProps" || item.type === "beginMarkedContent") {
          // pdf.js gives the tag (Artifact, P …) at run time; its types leave it out.
          open.push({ id: item.id ?? "", tag: (item as { tag?: string }).tag ?? "" });
        } else if (item.type === "endMarkedContent") open.pop();
      } else if (open.length === 0) loose += item.str;
      else if (open.some((m) => m.tag === "Artifact")) artifact += item.str;
      else for (const { id } of open) if (id) byId.set(id, (byId.get(id) ?? "") + item.str);
    }
    unmarked.push(squash(loose));
    artifacts.push(squash(artifact));
    const walk = (node: Node): Elem | string => {
      if (node.type === "content") return squash(byId.get(node.id ?? "") ?? "");
      if (node.type) return "";
      const kids = (node.children ?? []).map(walk);
      const elem: Elem = {
        role: node.role ?? "",
        alt: node.alt,
        text: kids.map((k) => (typeof k === "string" ? k : k.text)).join(""),
        kids: kids.filter((k): k is Elem => typeof k !== "string"),
        page: p,
      };
      elems.push(elem);
      return elem;
    };
    const tree = (await page.getStructTree()) as Node | null;
    if (tree) walk(tree);
  }
  await doc.destroy();
  return { elems, unmarked, artifacts };
}

/** Each TH structure element's /Scope, read from the file with pdf-lib. */
async function headerScopes(pdf: Uint8Array): Promise<string[]> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const scopes: string[] = [];
  for (const [, obj] of doc.context.enumerateIndirectObjects()) {
    if (!(obj instanceof PDFDict) || obj.get(PDFName.of("S")) !== PDFName.of("TH")) continue;
    const a = obj.lookup(PDFName.of("A"));
    const dicts = a instanceof PDFArray ? a.asArray().map((x) => doc.context.lookup(x)) : [a];
    const scope = dicts.map((d) => (d instanceof PDFDict ? d.get(PDFName.of("Scope")) : undefined)).find(Boolean);
    scopes.push(String(scope ?? "none"));
  }
  return scopes;
}

/** The PDF with its unmarked content marked as /Artifact (functions/core/artifacts.ts). */
async function withArtifacts(pdf: Uint8Array): Promise<Uint8Array> {
  const reader = new RawPdf(pdf, { allowHybrid: true }); // rendered: the structure in object streams
  return new Uint8Array(Buffer.from(reader.splice(await artifactEdits(reader)), "latin1"));
}

const texts = (elems: Elem[], role: string) => elems.filter((e) => e.role === role).map((e) => e.text);

describe("the report example's structure tree", () => {
  const envelope = JSON.parse(readFileSync(join(root, "templates/report/example.json"), "utf8")) as {
    template: string;
    data: { title: string; blocks: Record<string, unknown>[] };
  };
  const blocks = envelope.data.blocks;
  let result: RenderResult;
  let t: Tagged;

  beforeAll(async () => {
    result = await renderReport(envelope);
    t = await tagged(result.pdf);
  });

  it("has its level-1 and level-2 headings as H1 and H2, with their text", () => {
    const heading = (level: number) => blocks.filter((b) => b.type === "heading" && b.level === level);
    expect(texts(t.elems, "H1")).toEqual(heading(1).map((b) => squash(String(b.text))));
    expect(texts(t.elems, "H2")).toEqual(heading(2).map((b) => squash(String(b.text))));
  });

  it("has its tables as Table / TR / TH / TD, each header cell with a /Scope", async () => {
    const tables = t.elems.filter((e) => e.role === "Table");
    const first = blocks.find((b) => b.type === "table") as { header: (string | { text: string })[][] };
    const table = tables.find((e) => e.text.includes(squash("主要业务指标"))) as Elem;
    const rows = table.kids.filter((k) => k.role === "TR");
    const heads = rows.flatMap((r) => r.kids.filter((c) => c.role === "TH").map((c) => c.text));
    expect(heads).toEqual(first.header.flat().map((c) => squash(typeof c === "string" ? c : c.text)));
    const cells = rows.flatMap((r) => r.kids.filter((c) => c.role === "TD").map((c) => c.text));
    expect(cells).toContain("48,615");
    expect(table.kids.find((k) => k.role === "Caption")?.text).toBe(squash("表 1　主要业务指标（单位：件）"));
    // The key-value list is a table of row headers: its keys are TH (/Scope /Row), its values TD.
    const kv = tables.find((e) => e.text.startsWith(squash("报告单位"))) as Elem;
    expect(kv.kids.map((r) => r.kids.map((c) => c.role))).toEqual(Array(5).fill(["TH", "TD"]));
    const scopes = await headerScopes(result.pdf);
    expect(scopes).not.toContain("none");
    expect(scopes.filter((s) => s === "/Row")).toHaveLength(5);
    expect(scopes.filter((s) => s === "/Column").length).toBeGreaterThanOrEqual(9);
  });

  it("has its lists as L / LI, each item with its label (Lbl), a nested list inside its item", () => {
    const list = t.elems.find((e) => e.role === "L" && e.kids[0]?.text.includes(squash("梳理事项清单"))) as Elem;
    expect(list.kids.map((k) => k.role)).toEqual(list.kids.map(() => "LI"));
    expect(list.kids[0]?.kids[0]).toMatchObject({ role: "Lbl", text: "1." });
    const second = list.kids[1] as Elem;
    expect(second.text).toContain(squash("重构办理流程"));
    const nested = second.kids.find((k) => k.role === "L") as Elem;
    expect(nested.kids.map((k) => k.role)).toEqual(["LI", "LI"]);
    expect(nested.kids[0]?.text).toContain(squash("一次告知、一表申请、一窗受理"));
  });

  it("has the image and every chart as a Figure whose /Alt comes from the data, and no Figure without one", () => {
    const alts = t.elems.filter((e) => e.role === "Figure").map((e) => e.alt);
    const image = blocks.find((b) => b.type === "image") as { alt: string };
    expect(alts).toContain(image.alt);
    for (const chart of blocks.filter((b) => b.type === "chart")) {
      expect(alts.some((a) => a?.startsWith(String(chart.title)))).toBe(true);
    }
    expect(alts.every((a) => typeof a === "string" && a.trim() !== "")).toBe(true);
  });

  it("keeps the running header and the page numbers out of the structure", () => {
    const marked = t.elems.filter((e) => e.role === "Document").map((e) => e.text);
    t.artifacts.forEach((loose, i) => {
      expect(loose).toContain(squash(`第 ${i + 1} 页 共 ${result.pages} 页`));
      expect(marked[i]).not.toContain(squash(`第 ${i + 1} 页 共`));
      if (i > 0) expect(loose).toContain(squash(envelope.data.title));
    });
  });
});

describe("the gov report's structure tree", () => {
  const envelope = example<{ sections?: unknown }>("zhanhe-transport-2020.json");
  let result: RenderResult;
  let t: Tagged;

  beforeAll(async () => {
    result = await renderReport(envelope);
    t = await tagged(result.pdf);
  });

  it("has the title as H1, the 一、 headings as H2, the （一） headings as H3", () => {
    expect(texts(t.elems, "H1")).toEqual([squash("湛河区交通运输局2020年政府信息公开工作年度报告")]);
    const h2 = texts(t.elems, "H2");
    expect(h2[0]).toBe(squash("一、总体情况"));
    expect(h2).toContain(squash("二、主动公开政府信息情况"));
    expect(texts(t.elems, "H3").every((h) => /^（[一二三四五六七八九十]+）/.test(h))).toBe(true);
    expect(texts(t.elems, "H3").length).toBeGreaterThan(0);
  });

  it("has its forms as tables whose column heads and row labels are TH with a /Scope", async () => {
    const heads = texts(t.elems, "TH");
    for (const label of ["信息内容", "规章", "行政许可", "申请人情况", "自然人", "行政复议", "结果维持"]) {
      expect(heads).toContain(squash(label));
    }
    expect(texts(t.elems, "TD").length).toBeGreaterThan(100);
    const scopes = await headerScopes(result.pdf);
    expect(scopes).not.toContain("none");
    expect(scopes).toContain("/Row");
    expect(scopes).toContain("/Column");
  });

  it("keeps the page numbers (— 1 —) out of the structure", () => {
    t.artifacts.forEach((loose, i) => {
      expect(loose).toContain(squash(`— ${i + 1} —`));
    });
    const marked = t.elems.filter((e) => e.role === "Document").map((e) => e.text);
    marked.forEach((text, i) => {
      expect(text).not.toContain(squash(`— ${i + 1} —`));
    });
  });
});

describe("margin boxes and the watermark marked as /Artifact (artifacts.ts)", () => {
  const envelope = JSON.parse(readFileSync(join(root, "templates/report/example.json"), "utf8")) as {
    template: string;
    data: { title: string };
    options?: object;
  };
  const mark = "内部资料";
  let before: Uint8Array;
  let after: Uint8Array;
  let t: Tagged;

  beforeAll(async () => {
    before = (await renderReport({ ...envelope, options: { watermark: { text: mark } } })).pdf;
    after = await withArtifacts(before);
    t = await tagged(after);
  });

  it("leaves no text outside marked content, and the running header, page numbers and watermark are artifacts", () => {
    const pages = t.artifacts.length;
    t.unmarked.forEach((loose) => {
      expect(loose).toBe("");
    });
    t.artifacts.forEach((artifact, i) => {
      expect(artifact).toContain(squash(`第 ${i + 1} 页 共 ${pages} 页`));
      expect(artifact).toContain(mark);
      if (i > 0) expect(artifact).toContain(squash(envelope.data.title));
    });
  });

  it("is done by every render: the structure tree is the same as without a watermark, and the pixels the same after a second pass", async () => {
    const plain = await tagged((await renderReport(envelope)).pdf);
    expect(t.elems).toEqual(plain.elems);
    expect(plain.unmarked.every((loose) => loose === "")).toBe(true);
    for (const page of [1, 2, 3]) {
      expect((await rasterize(after, page)).data.equals((await rasterize(before, page)).data)).toBe(true);
    }
  });

  it("is the same bytes for the same input, and a second pass finds nothing left to mark", async () => {
    expect(Buffer.from(await withArtifacts(before)).equals(Buffer.from(after))).toBe(true);
    expect(await artifactEdits(new RawPdf(after, { allowHybrid: true }))).toEqual([]);
  });

  it("encloses runs without crossing q/Q, marked content or a text object; leaves streams it cannot follow", () => {
    expect(
      markArtifacts("q 1 0 0 1 0 0 cm BT /F1 9 Tf <01> Tj ET Q /P <</MCID 0>> BDC BT <02> Tj ET EMC 0 0 5 5 re f"),
    ).toBe(
      "q /Artifact BMC\n1 0 0 1 0 0 cm BT /F1 9 Tf <01> Tj ET\nEMC Q /P <</MCID 0>> BDC BT <02> Tj ET EMC /Artifact BMC\n0 0 5 5 re f\nEMC",
    );
    // A clip ("W n") paints nothing; state changes alone are not wrapped.
    expect(markArtifacts("q 0 0 5 5 re W n 1 g Q")).toBeUndefined();
    // Marked content inside a text object, inline images, unbalanced operators: left alone.
    expect(markArtifacts("BT /P <</MCID 0>> BDC <01> Tj EMC ET")).toBeUndefined();
    expect(markArtifacts("q BI /W 1 /H 1 ID \u0000 EI Q")).toBeUndefined();
    expect(markArtifacts("EMC 0 0 1 1 re f")).toBeUndefined();
    expect(markArtifacts("BT <01> Tj")).toBeUndefined();
    // A string that reads like operators is a string.
    expect(markArtifacts("BT (BDC EMC Q) Tj ET")).toBe("/Artifact BMC\nBT (BDC EMC Q) Tj ET\nEMC");
  });
});
