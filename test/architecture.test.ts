import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { mocking as isolated } from "../vitest.config.ts";
import { root } from "./helpers/examples.ts";

// The layout the README describes, held: the core knows no door, no setting and no template, and a
// template's code uses only the core's kit.
const sources = (dir: string): { file: string; text: string }[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => ({ file: join(dir, f), text: readFileSync(join(root, dir, f), "utf8") }));

const imports = (text: string) =>
  [...text.matchAll(/\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? m[2] ?? "");
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");

describe("the layout", () => {
  it("functions/core reads no environment and imports nothing outside the core but packages", () => {
    for (const { file, text } of sources("functions/core")) {
      expect(code(text), file).not.toMatch(/process\.env/);
      for (const spec of imports(text).filter((s) => s.startsWith("."))) {
        expect(join(dirname(file), spec), `${file} imports ${spec}`).toMatch(/^functions\/core\//);
      }
    }
  });

  it("templates' code imports only the core's kit of the service's code", () => {
    for (const { file, text } of sources("templates")) {
      for (const spec of imports(text)) {
        if (!spec.startsWith(".")) continue;
        const target = join("templates", file.split("/").slice(1, -1).join("/"), spec);
        if (target.startsWith("functions/")) {
          expect(target, `${file} imports ${spec}`).toMatch(/^functions\/core\/kit\.ts$/);
        }
      }
    }
  });

  it("only functions/service/settings.ts reads the environment", () => {
    const readers = ["functions", "templates"]
      .flatMap(sources)
      .filter(({ text }) => /process\.env/.test(code(text)))
      .map(({ file }) => file);
    expect(readers).toEqual(["functions/service/settings.ts"]);
  });
});

describe("the test suite", () => {
  it("runs every file that replaces a module (vi.mock) in the isolated project", () => {
    // The shared project keeps modules between files: a vi.mock there would not take effect.
    const mocking = sources("test")
      .filter(({ file, text }) => file.endsWith(".test.ts") && /\bvi\.(do)?mock\(/.test(code(text)))
      .map(({ file }) => file)
      .sort();
    expect(mocking).toContain("test/http/abort.test.ts");
    expect(mocking).toEqual([...isolated].sort());
  });
});
