/**
 * The headings of a template's HTML, as the PDF's bookmarks should read them: finalize mends the
 * titles Chromium garbled (pdf/outline.ts outlineTitleEdits). For the service's own templates, whose
 * HTML it made; a fenced template's come from its own parse (TemplateBody.found).
 */

/**
 * The text of each h1–h6 element of an HTML fragment, in document order, as a reader sees it:
 * tags removed, character references decoded, white space collapsed.
 */
export function headingTexts(html: string): string[] {
  const out: string[] = [];
  // Attribute values may hold ">" (quoted); comments are not text.
  const tag = `(?:[^>"']|"[^"]*"|'[^']*')*`;
  const heading = new RegExp(String.raw`<h([1-6])\b${tag}>([\s\S]*?)<\/h\1\s*>`, "gi");
  const markup = new RegExp(String.raw`<\/?[A-Za-z]${tag}>`, "g");
  for (const m of html.replace(/<!--[\s\S]*?-->/g, "").matchAll(heading)) {
    // HTML white space (not U+3000 and the like, which are text) collapses to one space.
    out.push(
      decodeEntities((m[2] ?? "").replace(markup, ""))
        .replace(/[ \t\n\f\r]+/g, " ")
        .replace(/^ | $/g, ""),
    );
  }
  return out;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}
