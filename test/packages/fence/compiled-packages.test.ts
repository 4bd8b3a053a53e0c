import { describe, expect, it } from "vitest";
import { CompiledPackages } from "../../../functions/packages/fence/compiled-packages.ts";
import type { FencedParts } from "../../../functions/packages/package-source.ts";
import type { CompiledPackage } from "../../../functions/packages/fence/package-templating.ts";

// A fence thread keeps the packages it compiled within a count and a size: ten packages of 9.7 MB
// of assets each once made other tenants' renders run out of the thread's heap.

const parts = (chars: number): FencedParts => ({
  id: "p",
  lang: "zh-CN",
  template: "x".repeat(chars),
  partials: {},
  schema: {},
  uses: { chart: false, qrcode: false },
  assetPixels: 0,
  assetUrls: [],
  cssFound: { marginText: "", faces: [] },
});

const fakePackage = {} as CompiledPackage;

describe("the packages a fence thread keeps", () => {
  it("keeps them within the characters they hold, the least recently used let go first", () => {
    let compiles = 0;
    const kept = new CompiledPackages(
      () => {
        compiles++;
        return fakePackage;
      },
      32,
      100,
    );
    kept.get("a", parts(40));
    kept.get("b", parts(40));
    kept.get("a", undefined); // used again: now the most recent
    kept.get("c", parts(40)); // 120 > 100: b goes
    expect(kept.keys()).toEqual(["a", "c"]);
    expect(compiles).toBe(3);
    kept.get("d", parts(100)); // alone it fills the room
    expect(kept.keys()).toEqual(["d"]);
  });

  it("and within a count; a package not kept and sent without its parts is asked for again", () => {
    const kept = new CompiledPackages(() => fakePackage, 2, 1_000);
    for (const key of ["a", "b", "c"]) kept.get(key, parts(1));
    expect(kept.keys()).toEqual(["b", "c"]);
    expect(kept.get("a", undefined)).toBeUndefined();
    expect(kept.get("c", undefined)).toBe(fakePackage);
  });
});
