import type { Issue, MarginBox, RenderOptions } from "../types.ts";

export interface PageDefaults {
  size: NonNullable<NonNullable<RenderOptions["page"]>["size"]>;
  orientation: "portrait" | "landscape";
  margin: Required<MarginBox>;
  /** Swap left and right margins on even pages: the binding edge of a double-sided print. */
  mirrorMargins?: boolean;
}

/**
 * The @page rule for a document: the template's defaults, overridden by `options.page`.
 * Returned as CSS so that Chromium lays out and prints with one source of truth.
 */
export function pageCss(defaults: PageDefaults, page: RenderOptions["page"] = {}): string {
  const size = page.size ?? defaults.size;
  const orientation = page.orientation ?? defaults.orientation;
  const m = resolveMargin(defaults.margin, page.margin);
  const rule = `@page{size:${size} ${orientation};margin:${m.top} ${m.right} ${m.bottom} ${m.left}}`;
  if (!defaults.mirrorMargins || page.margin !== undefined) return rule;
  return `${rule}\n@page:left{margin-left:${m.right};margin-right:${m.left}}`;
}

export function resolveMargin(
  defaults: Required<MarginBox>,
  margin: string | MarginBox | undefined,
): Required<MarginBox> {
  if (margin === undefined) return defaults;
  if (typeof margin === "string") return { top: margin, right: margin, bottom: margin, left: margin };
  return { ...defaults, ...margin };
}

/** Paper sizes in millimetres, portrait. */
const PAPER_MM: Record<PageDefaults["size"], [number, number]> = {
  A3: [297, 420],
  A4: [210, 297],
  A5: [148, 210],
  Letter: [215.9, 279.4],
  Legal: [215.9, 355.6],
};

/** The smallest type area (width and height, mm) a page may be left with once the margins are taken. */
const MIN_TYPE_AREA_MM = 30;

const MM_PER_UNIT: Record<string, number> = { mm: 1, cm: 10, in: 25.4, pt: 25.4 / 72, pc: 25.4 / 6, px: 25.4 / 96 };

function toMm(length: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt|px|pc)?\s*$/.exec(length);
  return m ? Number(m[1]) * (MM_PER_UNIT[m[2] ?? "mm"] ?? 1) : Number.NaN;
}

/** Width and height in millimetres. */
export interface Size {
  width: number;
  height: number;
}

/** The paper and its type area (the paper less the margins) of a page, in mm, orientation applied. */
export function pageBox(defaults: PageDefaults, page: RenderOptions["page"] = {}): { paper: Size; typeArea: Size } {
  const [w, h] = PAPER_MM[page.size ?? defaults.size];
  const landscape = (page.orientation ?? defaults.orientation) === "landscape";
  const paper = landscape ? { width: h, height: w } : { width: w, height: h };
  const m = resolveMargin(defaults.margin, page.margin);
  return {
    paper,
    typeArea: {
      width: paper.width - toMm(m.left) - toMm(m.right),
      height: paper.height - toMm(m.top) - toMm(m.bottom),
    },
  };
}

/**
 * Problems with `options.page` that its schema cannot see: margins that leave less than
 * MIN_TYPE_AREA_MM of the paper for content (Chromium would print a meaningless PDF).
 */
export function pageBoxIssues(defaults: PageDefaults, page: RenderOptions["page"] = {}): Issue[] {
  const { paper, typeArea } = pageBox(defaults, page);
  const path = "/options/page/margin";
  const issues: Issue[] = [];
  const sides = [
    ["left and right", typeArea.width, paper.width],
    ["top and bottom", typeArea.height, paper.height],
  ] as const;
  for (const [side, room, length] of sides) {
    if (!(room >= MIN_TYPE_AREA_MM)) {
      issues.push({
        rule: "page-margin",
        path,
        message: `the ${side} margins leave ${Math.max(0, Math.round(room))} mm of the ${Math.round(length)} mm paper for content; at least ${MIN_TYPE_AREA_MM} mm must remain`,
        expected: `≥ ${MIN_TYPE_AREA_MM} mm`,
        actual: `${Math.round(room * 10) / 10} mm`,
      });
    }
  }
  return issues;
}
