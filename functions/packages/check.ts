import { createHash } from "node:crypto";
import { InputError } from "../core/errors.ts";
import { createTemplateRegistry, type TemplateSource } from "../core/templates.ts";
import { assetDataUrl, checkAsset } from "./assets.ts";
import { type AssetRef, scanCss } from "./css-check.ts";
import { checkData } from "./data-check.ts";
import { BUILT_IN_HELPERS, scanTemplate, type TemplateScan } from "./hbs-check.ts";
import { PACKAGE_HELPER_NAMES } from "./helpers.ts";
import { assetName, FILES, partialName, REQUIRED_FILES } from "./layout.ts";
import { type PackageManifest, readManifest } from "./manifest.ts";
import { scanMarkup } from "./markup-check.ts";
import type { ReadResult } from "./package-files.ts";
import { inlineAssets, packageSource } from "./package-source.ts";
import { PACKAGE, type PackageProblem, problemAt, sortProblems } from "./problems.ts";

/** A package that passed every check: what the core registers, and what it is. */
export interface TemplatePackage {
  manifest: PackageManifest;
  /** Register it with createRenderer({ templates: [...] }). */
  source: TemplateSource;
  /** SHA-256 of the package's files (names and bytes): the same files, the same digest. A version's address. */
  digest: string;
}

export type PackageCheck = { ok: true; package: TemplatePackage } | { ok: false; problems: PackageProblem[] };

const KNOWN_HELPERS: ReadonlySet<string> = new Set([...BUILT_IN_HELPERS, ...PACKAGE_HELPER_NAMES]);

/**
 * Every check of a package, in one pass over the files read from a folder or a zip: the layout and
 * limits (already found by the reader), template.json, schema.json, example.json, the Handlebars of
 * template.hbs and partials, anything in the HTML and CSS that would fetch or run, the assets; then,
 * when all of that is clean, the example rendered through the core's own template loading. Either
 * the package, ready to register, or every problem found.
 */
export async function checkPackage(read: ReadResult): Promise<PackageCheck> {
  const { files } = read;
  // Refused as a whole (not a zip, too large, too many files): the rest would only be noise.
  if (read.problems.some((p) => p.file === PACKAGE)) return { ok: false, problems: read.problems };
  const problems: PackageProblem[] = [...read.problems];
  const refused = new Set(read.problems.map((p) => p.file));
  for (const required of REQUIRED_FILES) {
    if (!files.has(required) && !refused.has(required)) {
      problems.push({ file: required, rule: "missing", message: "is missing: every package has it" });
    }
  }
  const texts = new Map<string, string>();
  for (const [name, bytes] of files) {
    if (assetName(name) !== undefined) continue;
    try {
      texts.set(name, new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch {
      problems.push({ file: name, rule: "encoding", message: "is not UTF-8 text" });
    }
  }

  const manifestText = texts.get(FILES.manifest);
  const manifest = manifestText === undefined ? undefined : readManifest(manifestText);
  problems.push(...(manifest?.problems ?? []));
  const data = checkData(texts.get(FILES.schema), texts.get(FILES.example));
  problems.push(...data.problems);

  // Assets first: the template and the CSS may refer only to those that passed.
  const assets = new Map<string, string>();
  for (const [name, bytes] of files) {
    const asset = assetName(name);
    if (asset === undefined) continue;
    const assetProblems = checkAsset(asset, bytes);
    problems.push(...assetProblems);
    if (assetProblems.length === 0) assets.set(asset, assetDataUrl(asset, bytes));
  }
  const assetNames = new Set(assets.keys());

  const templates = [...texts.keys()].filter((name) => name === FILES.template || partialName(name) !== undefined);
  const { scans, refs } = checkTemplates(templates, texts, assetNames, problems);
  const cssText = texts.get(FILES.style) ?? "";
  const css = scanCss(cssText, assetNames);
  for (const f of css.findings) problems.push(problemAt(FILES.style, cssText, f.offset, f.rule, f.message));

  if (problems.length > 0 || !manifest?.manifest || !data.schema || !data.example) {
    return { ok: false, problems: sortProblems(problems) };
  }

  const helpersUsed = new Set([...scans.values()].flatMap((s) => [...s.helpersUsed]));
  const inline = (name: string) => inlineAssets(texts.get(name) ?? "", refs.get(name) ?? [], assets);
  const source = packageSource({
    manifest: manifest.manifest,
    template: inline(FILES.template),
    partials: Object.fromEntries(
      templates.filter((n) => n !== FILES.template).map((n) => [partialName(n) as string, inline(n)]),
    ),
    css: inlineAssets(cssText, css.refs, assets),
    schema: data.schema,
    example: data.example,
    uses: { chart: helpersUsed.has("chart"), qrcode: helpersUsed.has("qrcode") },
  });
  const rendered = await renderExample(source, data.example, scans);
  if (rendered) return { ok: false, problems: [rendered] };
  return { ok: true, package: { manifest: manifest.manifest, source, digest: digest(files) } };
}

/**
 * template.hbs and the partials: their Handlebars, then their HTML and CSS (what would fetch or run,
 * which assets they refer to), then the partials they name. Problems are added to `problems`.
 */
function checkTemplates(
  templates: readonly string[],
  texts: ReadonlyMap<string, string>,
  assets: ReadonlySet<string>,
  problems: PackageProblem[],
): { scans: Map<string, TemplateScan>; refs: Map<string, AssetRef[]> } {
  const scans = new Map<string, TemplateScan>();
  const refs = new Map<string, AssetRef[]>();
  for (const name of templates) {
    const source = texts.get(name) ?? "";
    const scan = scanTemplate(name, source, KNOWN_HELPERS);
    scans.set(name, scan);
    problems.push(...scan.problems);
    if (!scan.parsed) continue;
    const markup = scanMarkup(source, { assets, mustaches: scan.mustaches });
    for (const f of markup.findings) problems.push(problemAt(name, source, f.offset, f.rule, f.message));
    refs.set(name, markup.refs);
  }
  const partials = new Set([
    ...templates.map(partialName).filter((n) => n !== undefined),
    ...[...scans.values()].flatMap((s) => s.inlinePartials),
  ]);
  const known = [...partials].sort().join(", ") || "none";
  for (const [name, scan] of scans) {
    for (const ref of scan.partialRefs.filter((r) => !partials.has(r.name))) {
      const message = `unknown partial "${ref.name}"; the package has: ${known}`;
      problems.push(problemAt(name, texts.get(name) ?? "", ref.offset, "unknown-partial", message));
    }
  }
  return { scans, refs };
}

/**
 * The example through the core's own loading and compiling of the template: a Handlebars error at
 * run time (a field strict mode misses, a helper refusing a value) is the package's problem, shown
 * in the file whose mustache it is when its position says which.
 */
async function renderExample(
  source: TemplateSource,
  example: object,
  scans: ReadonlyMap<string, TemplateScan>,
): Promise<PackageProblem | undefined> {
  try {
    const view = await source.definition.view(example, {});
    createTemplateRegistry([source]).get(source.definition.id).render(view);
    return undefined;
  } catch (e) {
    const message = e instanceof InputError ? (e.issues[0]?.message ?? e.message) : String((e as Error)?.message ?? e);
    const text = `the example does not render: ${message.replace(/ - \d+:\d+$/, "")}`;
    const at = / - (\d+):(\d+)$/.exec(message);
    if (!at) return { file: FILES.template, rule: "example-render", message: text };
    const [line, column] = [Number(at[1]), Number(at[2])];
    // Handlebars does not say in which partial: the file with a mustache at that place.
    const file = [...scans].find(([, scan]) => scan.positions.has(`${line}:${column}`))?.[0] ?? FILES.template;
    return { file, line, column: column + 1, rule: "example-render", message: text };
  }
}

function digest(files: ReadonlyMap<string, Uint8Array>): string {
  const hash = createHash("sha256");
  for (const name of [...files.keys()].sort()) {
    const bytes = files.get(name) as Uint8Array;
    hash.update(`${name}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest("hex");
}
