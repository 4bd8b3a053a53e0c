import type { Issue } from "../../functions/core/kit.ts";

/**
 * Budgets for a whole render. Each image and chart within its own limits can still add up to a
 * request that holds a core for half a minute: twelve 40-megapixel PNGs (79 KB of JSON) took 19.7 s
 * of Chromium decoding, four charts of 20 series × 1,000 points 13.3 s of ECharts on the main thread.
 * The report template checks them in its rules, the package helpers `dataImage` and `chart` as they
 * run; both refuse with the same rules.
 *
 * Measured (CPU of this process and Chromium's, on the 2-core machine the tests run on): PNG costs
 * about 31 ms a megapixel to print (48 for 16-bit RGBA, the dearest kind), JPEG 13; a bar or line
 * point 0.15–0.3 ms, a pie slice about 1 ms, a chart of its own (axes, title, legend) about 40 ms.
 */

/**
 * Pixels of the distinct images one render may decode: 1.3 s (JPEG) to 5 s (16-bit PNG) of CPU,
 * against 15 s for the twelve 40-megapixel PNGs. Two A4 scans at 600 dpi (35 million each), eight
 * 12-megapixel photos, or ten A4 pages at 300 dpi fit. The same image twice is decoded once, and
 * counts once.
 */
export const MAX_TOTAL_PIXELS = 100_000_000;

/**
 * Chart points (see chartPoints) one render may draw: the largest chart the schema allows (1,000
 * categories × 20 series) and nothing more, about 4 s of CPU (2 of them on the main thread), a
 * quarter of the four such charts that took 13.3 s.
 */
export const MAX_TOTAL_CHART_POINTS = 20_000;

/** A pie's slice costs what 5 points do: each has its own label and leader line, laid out against the others. */
const PIE_SLICE_POINTS = 5;
/** What a chart costs with next to no points (its axes, title and legend): 100 tiny charts fill the budget. */
const MIN_CHART_POINTS = 200;

/** What a chart counts against MAX_TOTAL_CHART_POINTS: categories × series, a pie's slices 5 each, at least 200. */
export function chartPoints(kind: unknown, categories: number, series: number): number {
  const points = kind === "pie" ? categories * PIE_SLICE_POINTS : categories * series;
  return Math.max(MIN_CHART_POINTS, points);
}

const millions = (n: number) => `${Math.round(n / 100_000) / 10} million`;

/** The images of one render: each distinct image counted once; the first to cross the budget is the issue. */
export class ImageBudget {
  private readonly seen = new Set<string>();

  /** `total`: pixels already spent (a template package's own images, which every render of it prints). */
  constructor(private total = 0) {}

  /** `src` (its data: URL, which is what Chromium caches a decoded image by) of `pixels`; `path` is asked for only when refused. */
  add(src: string, pixels: number, path: () => string): Issue | undefined {
    if (this.seen.has(src)) return undefined;
    this.seen.add(src);
    const before = this.total;
    this.total += pixels;
    if (before > MAX_TOTAL_PIXELS || this.total <= MAX_TOTAL_PIXELS) return undefined;
    return {
      rule: "images-total-pixels",
      path: path(),
      message: `with this image the images come to ${millions(this.total)} pixels; at most ${millions(MAX_TOTAL_PIXELS)} in one document (the same image twice counts once)`,
      expected: `≤ ${MAX_TOTAL_PIXELS} pixels`,
      actual: this.total,
    };
  }
}

/** The charts of one render; the first to cross the budget is the issue. */
export class ChartBudget {
  private total = 0;

  add(points: number, path: () => string): Issue | undefined {
    const before = this.total;
    this.total += points;
    if (before > MAX_TOTAL_CHART_POINTS || this.total <= MAX_TOTAL_CHART_POINTS) return undefined;
    return {
      rule: "charts-total-points",
      path: path(),
      message: `with this chart the charts come to ${this.total} points; at most ${MAX_TOTAL_CHART_POINTS} in one document (a point is a category of a series; a pie's slice counts ${PIE_SLICE_POINTS}, a chart at least ${MIN_CHART_POINTS})`,
      expected: `≤ ${MAX_TOTAL_CHART_POINTS} points`,
      actual: this.total,
    };
  }
}
