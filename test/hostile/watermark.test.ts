import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "../helpers/examples.ts";
import { bytesOf, example, postJson, startTestService, type TestService } from "../helpers/local-service.ts";
import { openPdf, squash } from "../helpers/pdf.ts";
import { tempDir } from "../helpers/temp-dir.ts";

// options.watermark is untrusted text drawn on every page: markup, CSS, bidirectional controls and
// text too long for a line go through POST /v1/render and the CLI; each is drawn as the text it is,
// and the report's own text stays exactly where and what it was.

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

/** Per page: the watermark's text (the rotated items) and the rest, as pdf.js extracts them. */
async function split(pdf: Uint8Array): Promise<{ mark: string; rest: string }[]> {
  const doc = await openPdf(pdf);
  const pages: { mark: string; rest: string }[] = [];
  for (let p = 1; p <= doc.numPages; p++) {
    const content = await (await doc.getPage(p)).getTextContent();
    let mark = "";
    let rest = "";
    for (const item of content.items) {
      if (!("str" in item)) continue;
      const [, b, c] = item.transform as number[];
      if (Math.abs(b as number) > 1e-6 || Math.abs(c as number) > 1e-6) mark += item.str;
      else
        rest += `${item.str}@${Math.round((item.transform[4] as number) * 10)},${Math.round((item.transform[5] as number) * 10)}|`;
    }
    pages.push({ mark, rest });
  }
  await doc.destroy();
  return pages;
}

async function render(envelope: object): Promise<{ status: number; pdf: Uint8Array; body: string }> {
  const response = await postJson(`${service.url}/v1/render`, envelope, { accept: "application/pdf" });
  const pdf = await bytesOf(response);
  return { status: response.status, pdf, body: response.status === 200 ? "" : new TextDecoder().decode(pdf) };
}

const withMark = (watermark: unknown, envelope: { options?: Record<string, unknown> } = example()) => ({
  ...envelope,
  options: { ...envelope.options, watermark },
});

/** What a reader must find of `text` on each page: its printable characters, in order. */
const visible = (text: string) => squash(text.replace(/[\p{Cc}\p{Cf}]/gu, ""));

const HOSTILE: { name: string; text: string; check?: (mark: string) => void }[] = [
  {
    name: "markup that would close the element and run a script or fetch an image",
    text: '</div></div><script>document.body.remove()</script><img src="http://127.0.0.1:9/x">&amp;',
  },
  { name: "CSS that would break out of a style attribute", text: '" style="display:none" x="' },
  { name: "CSS that would close a style sheet and hide the page", text: "</style><style>*{display:none!important}" },
  {
    name: "a right-to-left override that never ends",
    text: "\u202e内部资料 ABC",
    check: (mark) => expect(squash(mark)).toMatch(/内部资料|料资部内/),
  },
  { name: "an isolate that never closes, then a pop", text: "\u2067ABC\u202c\u2069 DEF" },
  {
    name: "100 CJK characters",
    text: "密".repeat(100),
    check: (mark) => expect(mark.split("密").length - 1).toBe(100),
  },
  {
    name: "100 letters without a space",
    text: "W".repeat(100),
    check: (mark) => expect(squash(mark)).toBe("W".repeat(100)),
  },
  { name: "control characters and line breaks", text: "A\u0000B\nC\tD\u0007E" },
];

describe("options.watermark through POST /v1/render", () => {
  let plain: { mark: string; rest: string }[];
  beforeAll(async () => {
    const { status, pdf } = await render(example());
    expect(status).toBe(200);
    plain = await split(pdf);
  });

  for (const attack of HOSTILE) {
    it(`${attack.name}: drawn as text on every page, the report untouched`, async () => {
      const { status, pdf } = await render(withMark({ text: attack.text }));
      expect(status).toBe(200);
      const pages = await split(pdf);
      expect(pages.map((p) => p.rest)).toEqual(plain.map((p) => p.rest));
      for (const page of pages) {
        if (attack.check) attack.check(page.mark);
        else expect(squash(page.mark)).toBe(visible(attack.text));
      }
    });
  }

  it("text that reads like a table-of-contents placeholder leaves the page numbers alone", async () => {
    const envelope = JSON.parse(readFileSync(join(root, "templates/report/example.json"), "utf8")) as object;
    const before = await split((await render(envelope)).pdf);
    const { status, pdf } = await render(withMark({ text: "0123456789000 0123456789001" }, envelope));
    expect(status).toBe(200);
    const after = await split(pdf);
    expect(after.map((p) => p.rest)).toEqual(before.map((p) => p.rest));
    expect(squash(after[0]?.mark ?? "")).toBe("01234567890000123456789001");
  });

  const refused: [string, unknown, string][] = [
    ["no text", { opacity: 0.5 }, "/options/watermark/text"],
    ["empty text", { text: "" }, "/options/watermark/text"],
    ["only white space", { text: " \u3000\n" }, "/options/watermark/text"],
    ["101 characters", { text: "x".repeat(101) }, "/options/watermark/text"],
    ["text that is a number", { text: 42 }, "/options/watermark/text"],
    ["opacity 0 (invisible)", { text: "x", opacity: 0 }, "/options/watermark/opacity"],
    ["opacity above 1", { text: "x", opacity: 1.01 }, "/options/watermark/opacity"],
    ["opacity as a string", { text: "x", opacity: "0.5" }, "/options/watermark/opacity"],
    ["a property it does not have", { text: "x", color: "red" }, "/options/watermark/color"],
    ["a string instead of an object", "CONFIDENTIAL", "/options/watermark"],
  ];
  for (const [name, watermark, path] of refused) {
    it(`refuses ${name}, naming ${path}`, async () => {
      const started = performance.now();
      const { status, body } = await render(withMark(watermark));
      expect(status).toBe(400);
      expect(performance.now() - started).toBeLessThan(10_000); // a runaway guard (tens of ms here)
      const answer = JSON.parse(body) as { error: string; errors: { path: string }[] };
      expect(answer.error).toBe("invalid_envelope");
      expect(answer.errors.map((e) => e.path)).toContain(path);
    });
  }
});

describe("options.watermark through the CLI", () => {
  const bin = join(root, "bin", "report-render.js");
  const dir = tempDir("report-render-watermark-");
  const cli = (args: string[], input?: string) => {
    const run = spawnSync(process.execPath, [bin, ...args], { cwd: dir, input, encoding: "utf8", timeout: 60_000 });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  beforeAll(() => {
    execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "inherit" });
  });

  it("draws markup and bidirectional controls as text on every page", async () => {
    const text = '<b>机密</b> "\u202eABC';
    const file = join(dir, "marked.json");
    writeFileSync(file, JSON.stringify(withMark({ text, opacity: 0.3 })));
    const { code } = cli([file, "-o", join(dir, "marked.pdf")]);
    expect(code).toBe(0);
    const pages = await split(new Uint8Array(readFileSync(join(dir, "marked.pdf"))));
    expect(pages.length).toBe(7);
    for (const page of pages) expect(squash(page.mark)).toMatch(/^<b>机密<\/b>"(ABC|CBA)$/);
  });

  it("refuses a watermark it cannot draw with exit 2 and the path", () => {
    const { code, stderr } = cli(["-"], JSON.stringify(withMark({ text: "x", opacity: 2 })));
    expect(code).toBe(2);
    expect(JSON.parse(stderr)).toMatchObject({
      error: "invalid_envelope",
      errors: expect.arrayContaining([expect.objectContaining({ path: "/options/watermark/opacity" })]),
    });
  });
});
