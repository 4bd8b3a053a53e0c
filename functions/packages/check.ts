import { createHash } from "node:crypto";
import { InputError, LimitError } from "../core/errors.ts";
import { ImageBudget } from "../../templates/report/budgets.ts";
import { assetDataUrl, assetPixels, checkAsset } from "./assets.ts";
import { type AssetRef, scanCss } from "./css-check.ts";
import { checkData } from "./data-check.ts";
import { declaredFaces, marginBoxText } from "../core/html/index.ts";
import { cssFindings } from "./fence/css-policy.ts";
import { RESERVED } from "./fence/output-marks.ts";
import { compilePackage, KNOWN_HELPERS } from "./fence/package-templating.ts";
import type { CheckedFiles } from "./fence/protocol.ts";
import { scanTemplate, type TemplateScan } from "./hbs-check.ts";
import { assetName, FILES, partialName, REQUIRED_FILES } from "./layout.ts";
import { readManifest } from "./manifest.ts";
import { scanMarkup } from "./markup-check.ts";
import type { ReadResult } from "./package-files.ts";
import { fencedParts, inlineAssets, type PackageParts } from "./package-source.ts";
import { PACKAGE, type PackageProblem, problemAt, sortProblems } from "./problems.ts";
import { writeZip } from "./zip-writer.ts";

/**
 * Every check of a package, in one pass over the files read from a folder or a zip: the layout and
 * limits (already found by the reader), template.json, schema.json, example.json, the Handlebars of
 * template.hbs and partials, anything in the HTML and CSS that would fetch or run, the assets; then,
 * when all of that is clean, the example rendered as every render will be (fence/package-templating.ts),
 * its HTML judged by the same rules. Either what the package is made of, or every problem found.
 * It runs in a fence thread (fence/worker.ts): the service asks for it through fence.check.
 */
export async function checkPackageFiles(read: ReadResult): Promise<CheckedFiles> {
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
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      problems.push({ file: name, rule: "encoding", message: "is not UTF-8 text" });
      continue;
    }
    texts.set(name, text);
    const reserved = text.search(RESERVED);
    if (reserved >= 0) {
      const message = "holds a character of U+FDD0–U+FDEF (noncharacters, reserved by the service)";
      problems.push(problemAt(name, text, reserved, "reserved-character", message));
    }
  }

  const manifestText = texts.get(FILES.manifest);
  const manifest = manifestText === undefined ? undefined : readManifest(manifestText);
  problems.push(...(manifest?.problems ?? []));
  const data = checkData(texts.get(FILES.schema), texts.get(FILES.example));
  problems.push(...data.problems);

  // Assets first: the template and the CSS may refer only to those that passed.
  const assets = new Map<string, string>();
  // Every render prints the package's images: together they keep to one render's budget of pixels.
  const images = new ImageBudget();
  let pixels = 0;
  for (const [name, bytes] of files) {
    const asset = assetName(name);
    if (asset === undefined) continue;
    const assetProblems = checkAsset(asset, bytes);
    const count = assetPixels(asset, bytes);
    pixels += count;
    const overBudget = images.add(name, count, () => name);
    if (overBudget) assetProblems.push({ file: name, rule: overBudget.rule, message: overBudget.message });
    problems.push(...assetProblems);
    if (assetProblems.length === 0) assets.set(asset, assetDataUrl(asset, bytes));
  }
  const assetNames = new Set(assets.keys());

  const templates = [...texts.keys()].filter((name) => name === FILES.template || partialName(name) !== undefined);
  const { scans, refs } = checkTemplates(templates, texts, assetNames, problems);
  const cssText = texts.get(FILES.style) ?? "";
  const css = scanCss(cssText, assetNames);
  for (const f of css.findings) problems.push(problemAt(FILES.style, cssText, f.offset, f.rule, f.message));
  // The same CSS as the browser will tokenize it (its assets as data: URLs): nothing the scan above
  // read differently (case folding, escapes, comments) can fetch.
  if (css.findings.length === 0) {
    const masked = maskAssetRefs(cssText, css.refs);
    for (const f of cssFindings(masked.css, (url) => masked.masks.has(url))) {
      problems.push(problemAt(FILES.style, cssText, f.offset, f.rule, f.message));
    }
  }

  if (problems.length > 0 || !manifest?.manifest || !data.schema || !data.example) {
    return { ok: false, problems: sortProblems(problems) };
  }

  const helpersUsed = new Set([...scans.values()].flatMap((s) => [...s.helpersUsed]));
  const inline = (name: string) => inlineAssets(texts.get(name) ?? "", refs.get(name) ?? [], assets);
  const parts: PackageParts = {
    manifest: manifest.manifest,
    template: inline(FILES.template),
    partials: Object.fromEntries(
      templates.filter((n) => n !== FILES.template).map((n) => [partialName(n) as string, inline(n)]),
    ),
    css: inlineAssets(cssText, css.refs, assets),
    schema: data.schema,
    example: data.example,
    uses: { chart: helpersUsed.has("chart"), qrcode: helpersUsed.has("qrcode") },
    assetPixels: pixels,
    assetUrls: [...assets.values()],
    // Read here, in the fence, so that the service never scans the package's CSS itself.
    cssFound: { marginText: marginBoxText(cssText, ""), faces: declaredFaces(cssText) },
  };
  const rendered = await renderExample(parts, scans);
  if (rendered.length > 0) return { ok: false, problems: rendered };
  return { ok: true, manifest: manifest.manifest, parts, digest: digest(files), zip: writeZip(files) };
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
 * The example through the same templating as every render (a Handlebars error at run time: a field
 * strict mode misses, a helper refusing a value), shown in the file whose mustache it is when its
 * position says which; then its HTML judged by the output rules (fence/output-policy.ts).
 * Too much work is not a problem of the package's files: the LimitError goes to the caller (too_complex).
 */
async function renderExample(parts: PackageParts, scans: ReadonlyMap<string, TemplateScan>): Promise<PackageProblem[]> {
  try {
    await compilePackage(fencedParts(parts)).render(parts.example);
    return [];
  } catch (e) {
    if (e instanceof LimitError) throw e;
    if (e instanceof InputError && e.issues.every((i) => i.rule === "template-output")) {
      return e.issues.map((i) => ({ file: FILES.template, rule: "example-output", message: i.message }));
    }
    const message = e instanceof InputError ? (e.issues[0]?.message ?? e.message) : String((e as Error)?.message ?? e);
    const text = `the example does not render: ${message.replace(/ - \d+:\d+$/, "")}`;
    const at = / - (\d+):(\d+)$/.exec(message);
    if (!at) return [{ file: FILES.template, rule: "example-render", message: text }];
    const [line, column] = [Number(at[1]), Number(at[2])];
    // Handlebars does not say in which partial: the file with a mustache at that place.
    const file = [...scans].find(([, scan]) => scan.positions.has(`${line}:${column}`))?.[0] ?? FILES.template;
    return [{ file, line, column: column + 1, rule: "example-render", message: text }];
  }
}

/**
 * `css` with each asset reference's span as a data: URL of the same length (`masks`), so that
 * offsets stay those of the file.
 */
function maskAssetRefs(css: string, refs: readonly AssetRef[]): { css: string; masks: Set<string> } {
  const masks = new Set<string>();
  let out = "";
  let at = 0;
  for (const ref of [...refs].sort((a, b) => a.start - b.start)) {
    if (ref.start < at) continue;
    const span = css.slice(ref.start, ref.end);
    const quote = span[0] === '"' || span[0] === "'" ? span[0] : "";
    const inner = span.length - 2 * quote.length;
    // An asset's name is at least "assets/x": longer than "data:".
    const mask = `data:${"x".repeat(Math.max(0, inner - 5))}`;
    masks.add(mask);
    out += `${css.slice(at, ref.start)}${quote}${mask}${quote}`;
    at = ref.end;
  }
  return { css: out + css.slice(at), masks };
}

function digest(files: ReadonlyMap<string, Uint8Array>): string {
  const hash = createHash("sha256");
  for (const name of [...files.keys()].sort()) {
    const bytes = files.get(name) as Uint8Array;
    hash.update(`${name}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest("hex");
}
