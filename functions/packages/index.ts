/**
 * Template packages: a folder (or a zip of it) of template.json, template.hbs, partials/, style.css,
 * schema.json, example.json and assets/, checked and turned into what the render core registers.
 *
 * Everything a package brings runs behind a fence (fence/): worker threads with their own heap and a
 * time limit per task, never the service's event loop.
 *
 *   const fence = createTemplateFence();
 *   const checked = await fence.check(await readPackageDir(dir));   // or fence.checkZip(bytes)
 *   if (checked.ok) createRenderer({ templates: [checked.package.source], … });
 *   else for (const p of checked.problems) console.log(formatProblem(p));
 */
export type { PackageCheck, TemplatePackage } from "./package-source.ts";
export { createTemplateFence, type TemplateFence } from "./fence/fence.ts";
export { FILES } from "./layout.ts";
export { defaultPackageLimits, type PackageLimits } from "./limits.ts";
export type { ReadResult } from "./package-files.ts";
export { formatProblem, PACKAGE, type PackageProblem } from "./problems.ts";
export { readPackageDir } from "./read-dir.ts";
export { readPackageZip } from "./read-zip.ts";
export { writeZip } from "./zip-writer.ts";
