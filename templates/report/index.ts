import Handlebars from "handlebars";
import { defineTemplate, safeFileName } from "../../functions/core/kit.ts";
import { reportLang, type ReportData } from "./data.ts";
import { reportRules } from "./rules.ts";
import { PAGE_DEFAULTS, reportView } from "./view.ts";

/**
 * The general report (docs/contracts/report.md): any document described as JSON blocks —
 * headings, paragraphs, lists, key–value lists, tables, images, charts, page breaks — set as a
 * print document with a running header, page X of Y, and an optional table of contents.
 */
export default defineTemplate<ReportData>({
  id: "report",
  title: "Report",
  page: PAGE_DEFAULTS,
  rules: reportRules,
  // These protect the service (memory, layout time, decoding and drawing): "warn" does not waive them.
  limitRules: [
    "table-columns",
    "image-pixels",
    "image-nesting",
    "image-format",
    "images-total-pixels",
    "charts-total-points",
  ],
  view: reportView,
  metadata: (data) => ({
    title: data.title,
    author: data.author,
    subject: data.subtitle,
    lang: reportLang(data),
    date: data.date ? new Date(`${data.date}T00:00:00Z`) : undefined,
  }),
  filename: (data) => safeFileName(data.title),
  helpers: {
    /**
     * A CSS string literal for user text inside a <style> (the running header). Everything but
     * ASCII letters and digits becomes a 6-digit CSS escape (spaces too: CSS swallows one space after
     * an escape), so the result can close neither the string nor the <style> element and needs no
     * HTML escaping.
     */
    cssString: (text: unknown) => new Handlebars.SafeString(cssString(String(text))),
  },
});

export function cssString(text: string): string {
  let out = "";
  for (const ch of text.replace(/\s+/g, " ").trim()) {
    out += /^[A-Za-z0-9]$/.test(ch) ? ch : `\\${(ch.codePointAt(0) ?? 0).toString(16).padStart(6, "0")}`;
  }
  return `"${out}"`;
}
