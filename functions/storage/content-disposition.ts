/**
 * A Content-Disposition header value that carries any file name (RFC 6266 / RFC 8187): an ASCII
 * fallback in `filename` for old clients and the exact UTF-8 name in `filename*`. Header values must
 * be ASCII, and report names are usually Chinese.
 */
export function contentDisposition(type: "attachment" | "inline", filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
