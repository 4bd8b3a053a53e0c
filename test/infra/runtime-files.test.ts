import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { brotliCompressSync, gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { bundledFonts } from "../../functions/core/html/fonts.ts";
import { webFonts } from "../../functions/http/web-fonts.ts";
import { PACK_DIR, readPack, SPARTICUZ_FILES } from "../../functions/service/chromium-pack.ts";
import { renderer } from "../helpers/render.ts";
import { chromiumPackCommands, copyCommands, RUNTIME_DIR, runtimeFiles } from "../../infra/constructs/runtime-files.ts";
import { root } from "../helpers/synth.ts";

/** What the bundling copies next to each handler, checked against what the code reads. */
const files = runtimeFiles(root);
const scratch = mkdtempSync(join(tmpdir(), "report-render-runtime-files-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const rel = (absolute: string) => relative(root, absolute).split(sep).join("/");

describe("runtime files", () => {
  it("every font file the page is served (functions/core/fonts.ts), and the stylesheets naming them", () => {
    const fonts = [...bundledFonts(root).files.values()].map(rel);
    expect(fonts.length).toBeGreaterThan(400);
    // The web page's own fonts (functions/http/web-fonts.ts) too.
    const pageFonts = [...webFonts(root).files.values()].map(rel);
    expect(pageFonts.length).toBeGreaterThan(100);
    for (const font of pageFonts) expect(files).toContain(font);
    for (const font of fonts) expect(files).toContain(font);
    for (const css of [
      "node_modules/@fontsource/noto-serif-sc/400.css",
      "node_modules/@fontsource/noto-serif-sc/700.css",
      "node_modules/@fontsource/noto-sans-sc/500.css",
      "node_modules/@fontsource/noto-sans-sc/400.css",
      "node_modules/@fontsource/noto-sans-sc/700.css",
      "node_modules/hanamin/HanaMin.css",
    ]) {
      expect(files).toContain(css);
    }
    // Only woff2 (the fontsource packages also ship .woff of every weight: ~80 MB each).
    const fontFiles = files.filter((f) => /\.(woff2?|ttf|otf)$/.test(f));
    expect(fontFiles.every((f) => f.endsWith(".woff2"))).toBe(true);
    expect(fontFiles.length).toBe(new Set([...fonts, ...pageFonts]).size);
  });

  it("every template's files that are read from disk, and none of its code", () => {
    for (const id of renderer.templates.ids()) {
      for (const file of ["template.hbs", "style.css", "schema.json", "example.json"]) {
        expect(files).toContain(`templates/${id}/${file}`);
      }
      const partials = readdirSync(join(root, "templates", id, "partials"));
      for (const partial of partials) expect(files).toContain(`templates/${id}/partials/${partial}`);
    }
    expect(files.filter((f) => f.endsWith(".ts"))).toEqual([]);
  });

  it("the web page and the two pdf.js modules it loads", () => {
    for (const file of readdirSync(join(root, "functions/web"))) {
      if (file.endsWith(".ts")) expect(files).not.toContain(`functions/web/${file}`);
      else expect(files).toContain(`functions/web/${file}`);
    }
    expect(files).toContain("node_modules/pdfjs-dist/legacy/build/pdf.min.mjs");
    expect(files).toContain("node_modules/pdfjs-dist/legacy/build/pdf.worker.min.mjs");
    expect(files.filter((f) => f.startsWith("node_modules/pdfjs-dist/") && f.endsWith(".mjs"))).toHaveLength(2);
  });

  it("the copy commands reproduce exactly these files, one short command per folder", () => {
    const out = join(scratch, "asset");
    const commands = copyCommands(files, root, out);
    for (const command of commands) {
      expect(command.length).toBeLessThan(64 * 1024); // a single argument of `bash -c` must stay under 128 KiB
      execFileSync("bash", ["-c", command]);
    }
    const copied: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else copied.push(relative(join(out, RUNTIME_DIR), path).split(sep).join("/"));
      }
    };
    walk(join(out, RUNTIME_DIR));
    expect(copied.sort()).toEqual(files);
    const bytes = files.reduce((sum, f) => sum + statSync(join(root, f)).size, 0);
    console.log(`runtime files: ${files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB`);
    expect(bytes).toBeLessThan(60 * 1024 * 1024);
  });
});

describe("Chromium's pack", () => {
  it("the pack commands recompress the installed package's bin/ into runtime/chromium-pack and remove bin/", () => {
    const out = join(scratch, "pack-asset");
    const bin = join(out, "node_modules/@sparticuz/chromium/bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "..", "package.json"), JSON.stringify({ version: "0.0.0-test" }));
    const binary = Buffer.alloc(100_000, 1);
    for (const file of [SPARTICUZ_FILES.binary, ...SPARTICUZ_FILES.archives.map((a) => a.file)]) {
      writeFileSync(join(bin, file), brotliCompressSync(file === SPARTICUZ_FILES.binary ? binary : Buffer.alloc(1024)));
    }
    for (const command of chromiumPackCommands(root, bin, out, join(scratch, "pack-cache"))) {
      execFileSync("bash", ["-c", command]);
    }
    expect(existsSync(bin)).toBe(false);
    const pack = readPack(join(out, RUNTIME_DIR, PACK_DIR));
    expect(pack?.binary.bytes).toBe(binary.length);
    const parts = (pack?.binary.parts ?? []).map((p) =>
      gunzipSync(readFileSync(join(out, RUNTIME_DIR, PACK_DIR, p.file))),
    );
    expect(Buffer.concat(parts).equals(binary)).toBe(true);
  }, 30_000);
});
