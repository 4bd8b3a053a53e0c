/**
 * `options.watermark`: one line (or a few, for long text) across every page, diagonal, centred,
 * behind the content, for every template alike — built into the HTML, so Chromium draws it as text.
 *
 * - Every page: `position: fixed` repeats on each printed page, in the page area (the paper less
 *   the margins), so it is centred on the type area whatever a template lays out.
 * - Behind: `z-index` below everything paints it first, under the text and lines of the body;
 *   opaque backgrounds a template paints (a table's header cells) cover it.
 * - Out of the structure tree: `aria-hidden`, so it is no structure element; its text is still on
 *   every page (pdf.js and pdftotext extract it), drawn before the page's content.
 * - Out of the layout: fixed, transformed, clipped to the page area; no page moves.
 * - Its looks cannot be restyled by a template: every property is set inline with !important
 *   (inline declarations win over any stylesheet's), after `all: initial`.
 * - The bundled Noto Serif SC in its real bold (700) and HanaMin for rarer characters; no synthesis.
 */
import type { Size } from "./page-css.ts";
import type { WatermarkOptions } from "../types.ts";

const DEFAULT_WATERMARK_OPACITY = 0.15;

/** The share of the type area's diagonal a line may take. */
const LINE_SHARE = 0.8;
/** The largest type: a quarter of the type area's shorter side (4 CJK characters on A4: ~120 pt). */
const MAX_SIZE_SHARE = 0.25;
/** The smallest type (mm, ~17 pt): longer text wraps onto more lines instead of shrinking further. */
const MIN_SIZE_MM = 6;

/** The watermark's element, for the end of the body; `area` is the type area in mm. */
export function watermarkHtml(watermark: WatermarkOptions, area: Size): string {
  const text = watermark.text.replace(/\p{Cc}/gu, " ");
  const opacity = watermark.opacity ?? DEFAULT_WATERMARK_OPACITY;
  const angle = (Math.atan2(area.height, area.width) * 180) / Math.PI;
  const line = LINE_SHARE * Math.hypot(area.width, area.height);
  const size = Math.max(
    MIN_SIZE_MM,
    Math.min(line / emWidth(text), MAX_SIZE_SHARE * Math.min(area.width, area.height)),
  );
  const box = important({
    all: "initial",
    position: "fixed",
    top: "0",
    left: "0",
    width: "100%",
    height: "100%",
    display: "flex",
    "align-items": "center",
    "justify-content": "center",
    overflow: "hidden",
    "z-index": "-2147483647",
    "pointer-events": "none",
  });
  const mark = important({
    all: "initial",
    display: "block",
    "flex-shrink": "0",
    width: `${mm(line)}mm`,
    transform: `rotate(${-round(angle, 3)}deg)`,
    "text-align": "center",
    "font-family": '"Noto Serif SC", HanaMin',
    "font-weight": "700",
    "font-size": `${mm(size)}mm`,
    "line-height": "1.2",
    "font-synthesis": "none",
    color: `rgba(85, 85, 85, ${round(opacity, 4)})`,
    "white-space": "normal",
    "overflow-wrap": "anywhere",
    "unicode-bidi": "isolate",
  });
  return `<div aria-hidden="true" style="${box}"><div dir="auto" style="${mark}">${escapeText(text)}</div></div>`;
}

/** Rough width of the text in em in a bold serif: CJK and full-width ≈ 1, the rest ≈ 0.62. */
function emWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += WIDE.test(ch) ? 1 : ch === " " ? 0.3 : 0.62;
  return Math.max(width, 1);
}

const WIDE =
  /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3fffd}]/u;

function important(declarations: Record<string, string>): string {
  return Object.entries(declarations)
    .map(([property, value]) => `${property}:${value} !important`)
    .join(";")
    .replace(/"/g, "&quot;");
}

function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function mm(value: number): string {
  return String(round(value, 2));
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
