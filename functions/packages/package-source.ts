import Handlebars from "handlebars";
import { InputError, LimitError } from "../core/errors.ts";
import { safeFileName } from "../core/filename.ts";
import { defineTemplate, type TemplateDefinition } from "../core/template-definition.ts";
import { countBlockRuns, type TemplateSource, withinBlockBudget } from "../core/templates.ts";
import type { AssetRef } from "./css-check.ts";
import { packageHelpers } from "./helpers.ts";
import { type PackageManifest, pageDefaults } from "./manifest.ts";
import { prepareCharts } from "./package-charts.ts";
import { loadQrCodes } from "./qr-svg.ts";

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
}

/**
 * What every package's CSS starts with: the bundled text face, and no faked bold or italic (Chromium
 * would embed a synthesised face as a Type 3 font). The package's own rules follow and may override.
 */
const BASE_CSS = `html { font-family: "Noto Serif SC", HanaMin; font-synthesis: none; -webkit-print-color-adjust: exact; print-color-adjust: exact; }`;

/**
 * The TemplateSource the core registers for a package: a definition made of no code of the package
 * (its data is the view; the helpers are the service's) and its files in memory.
 */
export function packageSource(parts: PackageParts): TemplateSource {
  const { manifest } = parts;
  const lang = manifest.lang ?? "zh-CN";
  const helpers = packageHelpers();
  // The first pass of a template that draws charts (package-charts.ts): the same template, helpers and partials.
  let firstPass: ((data: object) => string) | undefined;
  const compileFirstPass = () => {
    const hbs = Handlebars.create();
    countBlockRuns(hbs);
    for (const [name, helper] of Object.entries(helpers)) hbs.registerHelper(name, helper);
    for (const [name, partial] of Object.entries(parts.partials)) hbs.registerPartial(name, partial);
    return hbs.compile(parts.template, { strict: true, noEscape: false });
  };

  const definition = defineTemplate<object>({
    id: manifest.id,
    title: manifest.title,
    page: pageDefaults(manifest),
    view: async (data) => {
      if (parts.uses.qrcode) await loadQrCodes();
      if (parts.uses.chart) {
        firstPass ??= compileFirstPass();
        const render = firstPass;
        await prepareCharts(data, lang, () => asInputError(() => withinBlockBudget(() => render(data))));
      }
      return data;
    },
    metadata: () => ({ title: manifest.title, subject: manifest.description, lang }),
    filename: () => safeFileName(manifest.title),
    helpers,
  });
  return {
    definition: definition as TemplateDefinition,
    files: {
      template: parts.template,
      partials: parts.partials,
      css: `${BASE_CSS}\n${parts.css}`,
      schema: parts.schema,
      example: parts.example,
    },
  };
}

/** As the core's render of a package: its template's failures on valid data refuse the input. */
function asInputError(work: () => void): void {
  try {
    work();
  } catch (e) {
    if (e instanceof InputError || e instanceof LimitError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new InputError("invalid_data", [{ rule: "template-render", path: "", message }]);
  }
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
