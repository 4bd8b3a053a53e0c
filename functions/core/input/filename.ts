/**
 * The one place a file name is made from user text (a title, an agency's name, options.filename).
 * The result is a single path segment that is safe as a file name on Linux, macOS and Windows, as
 * the last segment of an S3 key and in a Content-Disposition header:
 * - no folder separators, no control or bidirectional-override characters, none of <>:"|?*;
 * - no leading dots or spaces (so never "." or ".."), no trailing dots or spaces;
 * - not a Windows device name (CON, NUL, COM1, …);
 * - at most 150 characters and 200 UTF-8 bytes before the extension (file systems allow 255 bytes);
 * - always ending in `extension`; `fallback` when nothing usable is left.
 */
export function safeFileName(name: string, extension = ".pdf", fallback = "report"): string {
  let stem = name.toWellFormed().normalize("NFC");
  if (stem.toLowerCase().endsWith(extension)) stem = stem.slice(0, -extension.length);
  stem = stem
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/[/\\<>:"|?*]+/g, "-")
    .replace(/\s+/g, " ")
    .replace(/-{2,}/g, "-")
    .replace(/^[\s.-]+|[\s.]+$/g, "");
  stem = truncate(stem, 150, 200).replace(/[\s.]+$/, "");
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(stem)) stem = `_${stem}`;
  return `${stem || fallback}${extension}`;
}

/** At most `chars` code points and `bytes` UTF-8 bytes, never splitting a character. */
function truncate(text: string, chars: number, bytes: number): string {
  let out = "";
  let size = 0;
  for (const ch of [...text].slice(0, chars)) {
    size += Buffer.byteLength(ch, "utf8");
    if (size > bytes) break;
    out += ch;
  }
  return out;
}
