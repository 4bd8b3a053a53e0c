/**
 * A Content-Disposition header value that carries any file name (RFC 6266 / RFC 8187): the exact
 * UTF-8 name in `filename*`, which every current browser and curl -J use, and an ASCII-only
 * approximation in `filename` for the rest. Header values must be ASCII, and report names are
 * usually Chinese.
 */
export function contentDisposition(type: "attachment" | "inline", filename: string): string {
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${asciiFallback(filename)}"; filename*=UTF-8''${encoded}`;
}

/** "湛河区交通运输局-2020-年度报告.pdf" → "2020.pdf": the ASCII left, or "download" + extension. */
function asciiFallback(filename: string): string {
  const dot = filename.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [filename.slice(0, dot), filename.slice(dot)] : [filename, ""];
  const ascii = (s: string) => s.replace(/[^\x20-\x7e]+/g, "").replace(/["\\]/g, "");
  const kept = ascii(stem)
    .replace(/^[\s_.-]+|[\s_.-]+$/g, "")
    .replace(/-{2,}/g, "-");
  return `${kept || "download"}${ascii(ext)}`;
}
