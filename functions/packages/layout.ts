import { BIDI_CONTROLS } from "./problems.ts";

/**
 * The names a template package may hold, and the names that are unsafe whatever they hold. A
 * package is never extracted to disk, but a name that climbs out of its folder, is absolute, uses a
 * backslash or hides a control character is refused all the same: whatever reads the zip next (a
 * person, another tool) must not be misled by it.
 */

/** The top-level files, by role. template.json, template.hbs, schema.json and example.json are required. */
export const FILES = {
  manifest: "template.json",
  template: "template.hbs",
  style: "style.css",
  schema: "schema.json",
  example: "example.json",
} as const;

export const REQUIRED_FILES = [FILES.manifest, FILES.template, FILES.schema, FILES.example] as const;

const TOP_LEVEL = new Set<string>(Object.values(FILES));

/** Names of Object.prototype's members: a partial of that name would be looked up on the prototype. */
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

const PARTIAL = /^partials\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.hbs$/;
const ASSET = /^assets\/([A-Za-z0-9][A-Za-z0-9._-]{0,99})$/;
/** The longest name a package file may have (a zip allows 65,535 bytes). */
const MAX_NAME = 200;

/** Characters that make a name read in another order than it is written (core/filename.ts removes them too). */
const BIDI_CONTROL = new RegExp(`[${BIDI_CONTROLS}]`);

/** Why `name` (a path inside the package, `/`-separated) is unsafe, or undefined when it is not. */
export function unsafeName(name: string): string | undefined {
  if (name === "") return "an empty name";
  if (name.length > MAX_NAME) return `a name longer than ${MAX_NAME} characters`;
  if (name.includes("\\")) return "a backslash in the name (paths in a package use /)";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return "a control character in the name";
  if (BIDI_CONTROL.test(name)) return "a bidirectional control character in the name";
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return "an absolute path";
  const segments = name.replace(/\/$/, "").split("/");
  if (segments.includes("..")) return "a '..' segment (it would climb out of the package)";
  if (segments.some((s) => s === "" || s === ".")) return "an empty or '.' segment";
  return undefined;
}

/**
 * Files that archivers and file managers add on their own (macOS's __MACOSX/ and .DS_Store, any
 * hidden file, Windows' Thumbs.db): skipped, never read. Their names are checked all the same
 * (unsafeName first): no archiver writes an unsafe one, and whoever unzips the zip extracts them too.
 */
export function isIgnored(name: string): boolean {
  const segments = name.split("/");
  return (
    segments[0] === "__MACOSX" ||
    segments.some((s) => s.startsWith(".")) ||
    ["Thumbs.db", "desktop.ini"].includes(segments.at(-1) ?? "")
  );
}

/** Folders a package may hold (a zip may list them as entries of their own). */
export function isKnownFolder(name: string): boolean {
  return name === "partials/" || name === "assets/";
}

/** Whether a file name is part of the package format (top-level files, partials/<name>.hbs, assets/<file>). */
export function isKnownFile(name: string): boolean {
  if (TOP_LEVEL.has(name) || ASSET.test(name)) return true;
  const partial = PARTIAL.exec(name)?.[1];
  return partial !== undefined && !PROTOTYPE_NAMES.has(partial);
}

/** The partial's name of `partials/<name>.hbs`, or undefined. */
export function partialName(file: string): string | undefined {
  const name = PARTIAL.exec(file)?.[1];
  return name !== undefined && !PROTOTYPE_NAMES.has(name) ? name : undefined;
}

/** The asset's file name of `assets/<file>`, or undefined. */
export function assetName(file: string): string | undefined {
  return ASSET.exec(file)?.[1];
}

/** What a file outside the layout is told. */
export const LAYOUT_MESSAGE =
  "is not part of a template package: template.json, template.hbs, style.css, schema.json, example.json, partials/<name>.hbs and assets/<file> only";
