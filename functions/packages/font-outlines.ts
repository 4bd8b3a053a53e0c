/**
 * Which outlines a font carries, from its table directory alone. Chromium's PDF backend (Skia)
 * embeds TrueType outlines ('glyf') as TrueType subsets, but CFF outlines ('CFF ', 'CFF2': most .otf
 * files) as Type 3 fonts: bitmaps-in-spirit that print poorly and cannot be searched reliably. So
 * only TrueType-outline fonts are accepted, as .ttf or .woff2.
 */
export type Outlines = "truetype" | "cff" | "none";

export type FontVerdict = { outlines: Outlines } | { error: string };

/** Known table tags of WOFF2's table directory, by index (WOFF2 §5.1). */
const WOFF2_TAGS = (
  "cmap|head|hhea|hmtx|maxp|name|OS/2|post|cvt |fpgm|glyf|loca|prep|CFF |VORG|EBDT|EBLC|gasp|hdmx|kern|" +
  "LTSH|PCLT|VDMX|vhea|vmtx|BASE|GDEF|GPOS|GSUB|EBSC|JSTF|MATH|CBDT|CBLC|COLR|CPAL|SVG |sbix|acnt|avar|" +
  "bdat|bloc|bsln|cvar|fdsc|feat|fmtx|fvar|gvar|hsty|just|lcar|mort|morx|opbd|prop|trak|Zapf|Silf|Glat|" +
  "Gloc|Feat|Sill"
).split("|");

export function fontOutlines(bytes: Uint8Array, kind: "ttf" | "woff2"): FontVerdict {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const tags = kind === "ttf" ? sfntTags(view) : woff2Tags(view);
    if ("error" in tags) return tags;
    if (tags.tags.includes("glyf")) return { outlines: "truetype" };
    if (tags.tags.includes("CFF ") || tags.tags.includes("CFF2")) return { outlines: "cff" };
    return { outlines: "none" };
  } catch {
    return { error: "its table directory is cut short" };
  }
}

function tag(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

function sfntTags(view: DataView): { tags: string[] } | { error: string } {
  const version = view.getUint32(0);
  if (version === 0x4f54544f) return { tags: ["CFF "] }; // 'OTTO': CFF outlines by definition
  if (tag(view, 0) === "ttcf") return { error: "font collections (.ttc) are not accepted: one font a file" };
  if (version !== 0x00010000 && tag(view, 0) !== "true") return { error: "is not a TrueType font" };
  const count = view.getUint16(4);
  const tags: string[] = [];
  for (let i = 0; i < count; i++) tags.push(tag(view, 12 + 16 * i));
  return { tags };
}

function woff2Tags(view: DataView): { tags: string[] } | { error: string } {
  if (tag(view, 0) !== "wOF2") return { error: "is not a WOFF2 font" };
  const flavor = tag(view, 4);
  if (flavor === "OTTO") return { tags: ["CFF "] };
  if (flavor === "ttcf") return { error: "font collections are not accepted: one font a file" };
  const count = view.getUint16(12);
  const tags: string[] = [];
  let at = 48;
  for (let i = 0; i < count; i++) {
    const flags = view.getUint8(at++);
    const index = flags & 0x3f;
    let name: string;
    if (index === 63) {
      name = tag(view, at);
      at += 4;
    } else {
      name = WOFF2_TAGS[index] ?? "????";
    }
    at = skipBase128(view, at); // origLength
    const transform = flags >> 6;
    // glyf and loca are transformed by default (version 0); other tables only with a non-zero version.
    const transformed = name === "glyf" || name === "loca" ? transform === 0 : transform !== 0;
    if (transformed) at = skipBase128(view, at); // transformLength
    tags.push(name);
  }
  return { tags };
}

/** Past a UIntBase128 (WOFF2 §4.1): at most five bytes, the last without its high bit. */
function skipBase128(view: DataView, at: number): number {
  for (let i = 0; i < 5; i++) if ((view.getUint8(at + i) & 0x80) === 0) return at + i + 1;
  throw new Error("bad UIntBase128");
}
