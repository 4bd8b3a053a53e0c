/**
 * Text in CSS `@page` margin boxes (running headers, footers, page numbers) is laid out while the
 * document prints, after its web fonts have loaded: a character the body never used in that face
 * belongs to a unicode-range slice no one fetched, and prints blank (or the box loses characters).
 * So every document gets, before printing, an invisible line with the margin boxes' characters in
 * each face the page declares: laying it out fetches those slices, for every template alike.
 */

/** Characters a margin box can show through counters (page numbers in any CSS list style we allow). */
const COUNTER_TEXT = "0123456789";

/**
 * The characters of the `content` of every `@page` rule in `css` and in the `<style>` elements of
 * `body` (templates may write their running header there, from data), sorted, each once.
 */
export function marginBoxText(css: string, body: string): string {
  const sheets = [css, ...[...body.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1] ?? "")];
  const chars = new Set<string>();
  for (const sheet of sheets) {
    for (const block of pageBlocks(sheet)) {
      for (const declaration of block.matchAll(/content\s*:\s*((?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[^;}"'])*)/g)) {
        const value = declaration[1] ?? "";
        if (/counter\s*\(/.test(value)) for (const ch of COUNTER_TEXT) chars.add(ch);
        for (const str of value.matchAll(/"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'/g)) {
          for (const ch of cssUnescape(str[1] ?? str[2] ?? "")) if (ch.trim()) chars.add(ch);
        }
      }
    }
  }
  return [...chars].sort().join("");
}

/** The text of each `@page … { … }` block (nested margin-box blocks included). */
function pageBlocks(css: string): string[] {
  const blocks: string[] = [];
  for (const match of css.matchAll(/@page\b[^{]*\{/g)) {
    let depth = 1;
    let i = (match.index ?? 0) + match[0].length;
    const start = i;
    for (; i < css.length && depth > 0; i++) {
      const c = css[i];
      if (c === '"' || c === "'") {
        // Skip the string: a brace inside it is text.
        for (i++; i < css.length && css[i] !== c; i++) if (css[i] === "\\") i++;
      } else if (c === "{") depth++;
      else if (c === "}") depth--;
    }
    blocks.push(css.slice(start, i - 1));
  }
  return blocks;
}

/** A CSS string's value: `\` + 1–6 hex digits (and one white space after) is that code point. */
function cssUnescape(text: string): string {
  return text.replace(/\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\([\s\S])/g, (_, hex: string | undefined, ch: string) => {
    if (hex === undefined) return ch === "\n" ? "" : ch;
    const code = Number.parseInt(hex, 16);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : "\ufffd";
  });
}

/** The faces (family, weight, style) that `@font-face` rules in `css` declare, each once. */
export function declaredFaces(css: string): { family: string; weight: string; style: string }[] {
  const faces = new Map<string, { family: string; weight: string; style: string }>();
  for (const rule of css.matchAll(/@font-face\s*\{([^}]*)\}/g)) {
    const body = rule[1] ?? "";
    const family = /font-family\s*:\s*(?:"([^"]+)"|'([^']+)'|([^;]+))/.exec(body);
    const name = (family?.[1] ?? family?.[2] ?? family?.[3] ?? "").trim();
    if (!name) continue;
    const weight = /font-weight\s*:\s*([^;]+)/.exec(body)?.[1]?.trim().split(/\s+/)[0] ?? "400";
    const style = /font-style\s*:\s*([^;]+)/.exec(body)?.[1]?.trim() ?? "normal";
    faces.set(`${name}|${weight}|${style}`, { family: name, weight, style });
  }
  return [...faces.values()];
}

/**
 * An invisible line (no room taken, nothing printed, hidden from the structure tree) that lays out
 * `text` once in each face: the fonts' slices for it are fetched before the print.
 */
export function fontPreloadHtml(text: string, faces: { family: string; weight: string; style: string }[]): string {
  if (!text || faces.length === 0) return "";
  const escaped = text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const spans = faces
    .map(
      (f) =>
        `<span style="font-family:&quot;${f.family.replace(/[^\w .-]/g, "")}&quot;;font-weight:${f.weight.replace(/[^\w]/g, "")};font-style:${f.style.replace(/[^\w]/g, "")}">${escaped}</span>`,
    )
    .join("");
  return `<div aria-hidden="true" style="position:absolute;top:0;left:0;width:1px;height:1px;overflow:hidden;visibility:hidden;white-space:nowrap">${spans}</div>`;
}
