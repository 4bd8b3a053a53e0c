/**
 * options.pdf.standard and options.pdf.attachSource attacked through POST /v1/render of the local
 * server (npm start) and through the CLI: wrong types, unknown standards, combinations that cannot
 * be honoured, envelopes at the size limits with the source attached. Every refusal names the JSON
 * path at fault; what is rendered is read back with pdf.js.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sourceJson } from "../../functions/core/archival/attachment.ts";
import type { Envelope } from "../../functions/core/types.ts";
import { root } from "../helpers/examples.ts";
import { rawRequest } from "../helpers/http-raw.ts";
import { withPdfjs } from "../helpers/independent-pdf.ts";
import { bytesOf, example, postJson, startTestService, type TestService } from "../helpers/local-service.ts";
import { tempDir } from "../helpers/temp-dir.ts";

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
  // The CLI runs dist/cli.mjs: build it from the sources under test.
  execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "inherit" });
});
afterAll(() => service?.stop());

/** The example report with `pdf` as its options.pdf (any value: these are attacks). */
function withPdf(pdf: unknown): Record<string, unknown> {
  const envelope = example();
  return { ...envelope, options: { ...envelope.options, pdf } };
}

interface Refusal {
  error: string;
  errors: { rule: string; path: string; message: string }[];
}

/** What pdf.js reads of a PDF: its PDF/A part, its attachments. */
async function read(pdf: Uint8Array) {
  const { value, warnings } = await withPdfjs(pdf, async (doc) => {
    const { metadata } = await doc.getMetadata();
    const attachments = ((await doc.getAttachments()) ?? {}) as Record<string, { content: Uint8Array }>;
    return {
      part: metadata?.get("pdfaid:part") as string | undefined,
      pages: doc.numPages,
      attached: Object.fromEntries(Object.entries(attachments).map(([k, v]) => [k, Buffer.from(v.content)])),
    };
  });
  expect(warnings).toEqual([]);
  return value;
}

/** Refused as the schema refuses: 400 invalid_envelope, the path of the value at fault. */
const wrongShapes: [string, unknown, string][] = [
  ["an unknown standard", { standard: "PDF/A-1b" }, "/options/pdf/standard"],
  ["PDF/A-4", { standard: "PDF/A-4" }, "/options/pdf/standard"],
  ["a standard in lower case", { standard: "pdf/a-2b" }, "/options/pdf/standard"],
  ["a standard with a trailing NUL", { standard: "PDF/A-2b\u0000" }, "/options/pdf/standard"],
  ["a standard with a trailing space", { standard: "PDF/A-3b " }, "/options/pdf/standard"],
  ["a standard as a number", { standard: 2 }, "/options/pdf/standard"],
  ["a standard as null", { standard: null }, "/options/pdf/standard"],
  ["a standard in an array", { standard: ["PDF/A-2b"] }, "/options/pdf/standard"],
  ["a standard as a query operator", { standard: { $ne: null } }, "/options/pdf/standard"],
  ["attachSource as a string", { attachSource: "true" }, "/options/pdf/attachSource"],
  ["attachSource as 1", { attachSource: 1 }, "/options/pdf/attachSource"],
  ["attachSource as null", { attachSource: null }, "/options/pdf/attachSource"],
  ["attachSource as an object", { attachSource: { path: "/etc/passwd" } }, "/options/pdf/attachSource"],
  ["an unknown key beside them", { standard: "PDF/A-3b", attachFile: "/etc/passwd" }, "/options/pdf/attachFile"],
  ["pdf as a string", "PDF/A-3b", "/options/pdf"],
  ["pdf as an array", [{ standard: "PDF/A-3b" }], "/options/pdf"],
  ["pdf as null", null, "/options/pdf"],
];

/** Combinations that cannot be honoured together: 422 invalid_options, each failing path. */
const combinations: [string, unknown, string[]][] = [
  ["the source attached to a PDF/A-2b", { standard: "PDF/A-2b", attachSource: true }, ["/options/pdf/attachSource"]],
  ["a PDF/A-3b encrypted", { standard: "PDF/A-3b", encrypt: { userPassword: "x" } }, ["/options/pdf/encrypt"]],
  [
    "a PDF/A-2b encrypted with the source attached",
    { standard: "PDF/A-2b", attachSource: true, encrypt: { ownerPassword: "o" } },
    ["/options/pdf/encrypt", "/options/pdf/attachSource"],
  ],
];

describe("POST /v1/render with hostile options.pdf", () => {
  const render = (body: unknown) => postJson(`${service.url}/v1/render`, body, { accept: "application/pdf" });

  for (const [name, pdf, path] of wrongShapes) {
    it(`${name}: 400 invalid_envelope at ${path}`, async () => {
      const response = await render(withPdf(pdf));
      expect(response.status).toBe(400);
      const refusal = (await response.json()) as Refusal;
      expect(refusal.error).toBe("invalid_envelope");
      expect(refusal.errors.map((e) => e.path)).toContain(path);
    });
  }

  for (const [name, pdf, paths] of combinations) {
    it(`${name}: 422 invalid_options at ${paths.join(" and ")}`, async () => {
      const response = await render(withPdf(pdf));
      expect(response.status).toBe(422);
      const refusal = (await response.json()) as Refusal;
      expect(refusal.error).toBe("invalid_options");
      expect(refusal.errors.map((e) => e.path).sort()).toEqual([...paths].sort());
      expect(JSON.stringify(refusal)).not.toMatch(/"x"|"o"/); // no password echoed back
    });
  }

  it("a __proto__ key in options.pdf: refused, nothing polluted", async () => {
    const text = JSON.stringify(withPdf({ standard: "PDF/A-3b" })).replace(
      '"pdf":{',
      '"pdf":{"__proto__":{"attachSource":true,"standard":"PDF/A-2b"},',
    );
    const response = await render(text);
    expect(response.status).toBe(400);
    expect(((await response.json()) as Refusal).errors.map((e) => e.path)).toContain("/options/pdf/__proto__");
    expect(({} as Record<string, unknown>).attachSource).toBeUndefined();
  });

  it("attachSource false with PDF/A-2b is no request to attach: rendered, nothing attached", async () => {
    const response = await render(withPdf({ standard: "PDF/A-2b", attachSource: false }));
    expect(response.status).toBe(200);
    const pdf = await read(await bytesOf(response));
    expect(pdf.part).toBe("2");
    expect(pdf.attached).toEqual({});
  });

  it("an envelope at the body limit with its source attached to a PDF/A-3b: rendered, the source back byte for byte", async () => {
    // A noise image (incompressible) in a data: URL fills the envelope to just under 5 MiB. (Chromium
    // draws no data: URL over 2 MiB: the page is the title alone; the attachment holds it all.)
    const side = 1160;
    const png = new PNG({ width: side, height: side });
    let seed = 7;
    for (let i = 0; i < png.data.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      png.data[i] = i % 4 === 3 ? 255 : seed >>> 24;
    }
    const src = `data:image/png;base64,${PNG.sync.write(png, { colorType: 2 }).toString("base64")}`;
    const envelope = {
      template: "report",
      data: {
        title: "大附件 </x:xmpmeta> endstream %%EOF",
        lang: "zh-CN",
        blocks: [{ type: "image", src, alt: "noise" }],
      },
      options: { pdf: { standard: "PDF/A-3b", attachSource: true } },
    };
    const body = JSON.stringify(envelope);
    expect(body.length).toBeGreaterThan(4.8 * 1024 * 1024);
    expect(body.length).toBeLessThan(5 * 1024 * 1024);
    const response = await render(body);
    // Too large to answer with: a redirect to the stored PDF.
    expect([200, 303]).toContain(response.status);
    const pdf =
      response.status === 303
        ? await bytesOf(await fetch(response.headers.get("location") ?? ""))
        : await bytesOf(response);
    const read_ = await read(pdf);
    expect(read_.part).toBe("3");
    expect(read_.pages).toBe(1);
    expect(read_.attached["report.json"]?.equals(Buffer.from(sourceJson(envelope as Envelope)))).toBe(true);
    expect(JSON.parse(read_.attached["report.json"]?.toString("utf8") ?? "")).toEqual(envelope);
  }, 120_000);

  it("one byte over the body limit, or one value over the value limit, with the source attached: refused before any work", async () => {
    // Each on a connection of its own: the server closes one whose body it did not read whole.
    const post = (body: string) =>
      rawRequest(service.url, {
        method: "POST",
        path: "/v1/render",
        headers: { "content-type": "application/json", accept: "application/pdf" },
        body,
      });
    const over = JSON.stringify(withPdf({ standard: "PDF/A-3b", attachSource: true }));
    const padded = `${over.slice(0, -1)}${" ".repeat(5 * 1024 * 1024 - over.length + 1)}}`;
    expect(padded.length).toBe(5 * 1024 * 1024 + 1);
    const big = await post(padded);
    expect(big.status).toBe(413);
    expect((JSON.parse(big.body) as Refusal).error).toBe("body_too_large");

    const values = withPdf({ standard: "PDF/A-3b", attachSource: true });
    (values.data as Record<string, unknown>).padding = Array.from({ length: 100_001 }, (_, i) => i);
    const started = performance.now();
    const many = await post(JSON.stringify(values));
    expect(many.status).toBe(422);
    expect((JSON.parse(many.body) as Refusal).error).toBe("too_complex");
    expect(performance.now() - started).toBeLessThan(20_000); // a runaway guard (well under a second here)
  });
});

describe("the CLI with hostile options.pdf", () => {
  const base = tempDir("report-render-hostile-pdf-options-");
  const cli = (args: string[], input?: string) => {
    const run = spawnSync(process.execPath, [join(root, "bin", "report-render.js"), ...args], {
      cwd: base,
      input,
      encoding: "utf8",
      timeout: 90_000,
    });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  it("refuses wrong shapes (exit 2, the path) and combinations (exit 2, invalid_options), writing no PDF", () => {
    for (const [name, pdf, path] of wrongShapes.slice(0, 3)) {
      const { code, stderr } = cli(["-", "-o", join(base, "x.pdf")], JSON.stringify(withPdf(pdf)));
      expect(code, name).toBe(2);
      const refusal = JSON.parse(stderr) as Refusal;
      expect(refusal.error).toBe("invalid_envelope");
      expect(refusal.errors.map((e) => e.path)).toContain(path);
    }
    for (const [name, pdf, paths] of combinations) {
      const { code, stderr } = cli(["-", "-o", join(base, "x.pdf")], JSON.stringify(withPdf(pdf)));
      expect(code, name).toBe(2);
      const refusal = JSON.parse(stderr) as Refusal;
      expect(refusal.error).toBe("invalid_options");
      expect(refusal.errors.map((e) => e.path).sort()).toEqual([...paths].sort());
    }
    expect(readdirSync(base)).toEqual([]);
  });

  it("renders a batch line by line: a PDF/A-3b with its source, refusals with their paths", async () => {
    const good = withPdf({ standard: "PDF/A-3b", attachSource: true });
    const lines = [
      good,
      withPdf({ standard: "PDF/A-2b", attachSource: "yes" }),
      withPdf({ standard: "PDF/A-2b", attachSource: true }),
    ];
    writeFileSync(join(base, "archive.jsonl"), `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    const { code, stderr } = cli(["archive.jsonl"]);
    expect(code).toBe(2);
    const refusal = (line: number) =>
      JSON.parse(
        stderr
          .split("\n")
          .find((l) => l.startsWith(`archive.jsonl:${line}: `))
          ?.slice(`archive.jsonl:${line}: `.length) ?? "{}",
      ) as Refusal;
    expect(refusal(2).errors.map((e) => e.path)).toContain("/options/pdf/attachSource");
    expect(refusal(2).error).toBe("invalid_envelope");
    expect(refusal(3)).toMatchObject({ error: "invalid_options", errors: [{ path: "/options/pdf/attachSource" }] });
    expect(readdirSync(base).filter((f) => f.endsWith(".pdf"))).toEqual(["archive-1.pdf"]);
    const pdf = await read(new Uint8Array(readFileSync(join(base, "archive-1.pdf"))));
    expect(pdf.part).toBe("3");
    expect(pdf.attached["report.json"]?.equals(Buffer.from(sourceJson(good as unknown as Envelope)))).toBe(true);
  });
});
