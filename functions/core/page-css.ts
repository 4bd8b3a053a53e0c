import type { MarginBox, RenderOptions } from "./types.ts";

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
