import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pixelmatch from "pixelmatch";
import { PNG } from "pngjs";
import { expect } from "vitest";
import { rasterize } from "./pdf.ts";

/** `npm run test:update-goldens` sets this: the current pages become the goldens. */
const updating = process.env.UPDATE_GOLDENS === "1";

/** Pixels allowed to differ per page (anti-aliasing noise), as a fraction of the page. */
const TOLERANCE = 0.002;

/**
 * Every page of `pdf`, rasterised at 72 dpi by pdf.js, against `<dir>/<name>-<page>.png`. A failing
 * page writes `<name>-<page>.actual.png` and `.diff.png` beside the golden to look at.
 */
export async function expectPagesMatchGoldens(
  pdf: Uint8Array,
  pages: number,
  dir: string,
  name: string,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (updating) {
    for (const f of readdirSync(dir).filter((f) => f.startsWith(`${name}-`))) rmSync(join(dir, f));
  }
  const goldens = readdirSync(dir).filter((f) => new RegExp(`^${name}-\\d+\\.png$`).test(f));
  if (!updating) expect(pages, "page count").toBe(goldens.length);
  for (let page = 1; page <= pages; page++) {
    const actual = await rasterize(pdf, page, 1);
    const file = join(dir, `${name}-${page}.png`);
    if (updating || !existsSync(file)) {
      writeFileSync(file, PNG.sync.write(actual));
      continue;
    }
    const golden = PNG.sync.read(readFileSync(file));
    expect([actual.width, actual.height], `page ${page} size`).toEqual([golden.width, golden.height]);
    const diff = new PNG({ width: golden.width, height: golden.height });
    const differing = pixelmatch(golden.data, actual.data, diff.data, golden.width, golden.height, { threshold: 0.1 });
    const fraction = differing / (golden.width * golden.height);
    if (fraction > TOLERANCE) {
      writeFileSync(file.replace(/\.png$/, ".actual.png"), PNG.sync.write(actual));
      writeFileSync(file.replace(/\.png$/, ".diff.png"), PNG.sync.write(diff));
    }
    expect(
      fraction,
      `page ${page}: ${differing} pixels differ (see ${file.replace(/\.png$/, ".diff.png")})`,
    ).toBeLessThanOrEqual(TOLERANCE);
  }
}
