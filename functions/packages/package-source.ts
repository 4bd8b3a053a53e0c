import { safeFileName } from "../core/input/index.ts";
import { defineTemplate, type TemplateDefinition } from "../core/template/index.ts";
import type { FoundInBody, TemplateBody, TemplateSource } from "../core/template/index.ts";
import type { Issue } from "../core/types.ts";
import type { AssetRef } from "./css-check.ts";
import { type PackageManifest, pageDefaults } from "./manifest.ts";
import type { PackageProblem } from "./problems.ts";

/** A package's files once checked, with its assets already inlined. */
export interface PackageParts {
  manifest: PackageManifest;
  template: string;
  partials: Record<string, string>;
  css: string;
  schema: object;
  example: object;
  /** Helpers that need work before a render (drawing charts, loading the QR library). */
  uses: { chart: boolean; qrcode: boolean };
  /** Pixels of its images (assets/), which count against each render's budget. */
  assetPixels: number;
  /** Its assets as inlined (data: URLs): the only URLs its HTML and CSS may hold, but #id. */
  assetUrls: string[];
  /** What its CSS declares (its faces, its margin boxes' text), read in the fence. */
  cssFound: Omit<FoundInBody, "headings">;
}

/** A package that passed every check: what the core registers, and what it is. */
export interface TemplatePackage {
  manifest: PackageManifest;
  /** Register it with createRenderer({ templates: [...] }). */
  source: TemplateSource;
  /** SHA-256 of the package's files (names and bytes): the same files, the same digest. A version's address. */
  digest: string;
  /** Its example.json: data that passes its schema and renders. */
  example: object;
  /**
   * Its files as the checks read them (no wrapping folder, no __MACOSX/ or .DS_Store), zipped
   * canonically (zip-writer.ts): the same files, the same bytes, whatever zip brought them.
   */
  zip: Uint8Array;
}

export type PackageCheck = { ok: true; package: TemplatePackage } | { ok: false; problems: PackageProblem[] };

/** How a package's template source reaches the fence (below). */
export interface FenceRunner {
  validate(key: string, parts: FencedParts, data: unknown, signal: AbortSignal): Promise<Issue[]>;
  render(key: string, parts: FencedParts, data: object, signal: AbortSignal): Promise<TemplateBody>;
}

/**
 * What every package's CSS starts with: the bundled text face, and no faked bold or italic (Chromium
 * would embed a synthesised face as a Type 3 font). The package's own rules follow and may override.
 */
const BASE_CSS = `html { font-family: "Noto Serif SC", HanaMin; font-synthesis: none; -webkit-print-color-adjust: exact; print-color-adjust: exact; }`;

/** What a fence thread needs of a checked package to validate and render with it. */
export interface FencedParts {
  /** For messages only. */
  id: string;
  lang: string;
  /** template.hbs, its assets already inlined. */
  template: string;
  /** Partial name → its Handlebars, assets inlined. */
  partials: Record<string, string>;
  schema: object;
  /** Helpers that need work before a render (drawing charts, loading the QR library). */
  uses: { chart: boolean; qrcode: boolean };
  /** Pixels of the package's own images: the data's (dataImage) count on from there. */
  assetPixels: number;
  /** The package's assets as inlined (data: URLs): the only URLs its HTML may hold, but #id. */
  assetUrls: string[];
  /** What the package's CSS declares (read at its check). */
  cssFound: Omit<FoundInBody, "headings">;
}

/** What a fence thread needs to validate and render with the package (not its CSS, which may hold fonts). */
export function fencedParts(parts: PackageParts): FencedParts {
  const { manifest, template, partials, schema, uses, assetPixels, assetUrls, cssFound } = parts;
  const lang = manifest.lang ?? "zh-CN";
  return { id: manifest.id, lang, template, partials, schema, uses, assetPixels, assetUrls, cssFound };
}

/**
 * The TemplateSource the core registers for a package: a definition made of no code of the package
 * (its data is the view; the helpers are the service's), whose schema and Handlebars run behind the
 * fence (fence/fence.ts) under `key` (the package's digest: the same files, the same key).
 */
export function packageSource(parts: PackageParts, fence: { key: string; runner: FenceRunner }): TemplateSource {
  const { manifest } = parts;
  const { key, runner } = fence;
  const fenced = fencedParts(parts);
  const definition = defineTemplate<object>({
    id: manifest.id,
    title: manifest.title,
    page: pageDefaults(manifest),
    view: (data) => data,
    metadata: () => ({ title: manifest.title, subject: manifest.description, lang: fenced.lang }),
    filename: () => safeFileName(manifest.title),
  });
  return {
    definition: definition as TemplateDefinition,
    fenced: {
      schema: parts.schema,
      css: `${BASE_CSS}\n${parts.css}`,
      example: parts.example,
      validate: (data, signal) => runner.validate(key, fenced, data, signal),
      render: (data, signal) => runner.render(key, fenced, data as object, signal),
    },
  };
}

/** `text` with each referenced asset replaced by its data: URL. */
export function inlineAssets(text: string, refs: readonly AssetRef[], urls: ReadonlyMap<string, string>): string {
  let out = "";
  let at = 0;
  const sorted = [...refs].sort((a, b) => a.start - b.start);
  for (const ref of sorted) {
    if (ref.start < at) continue; // the same reference seen twice (a tag inside an attribute value)
    out += text.slice(at, ref.start) + (urls.get(ref.asset) ?? "");
    at = ref.end;
  }
  return out + text.slice(at);
}
