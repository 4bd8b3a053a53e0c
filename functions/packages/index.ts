/**
 * Template packages: a folder (or a zip of it) of template.json, template.hbs, partials/, style.css,
 * schema.json, example.json and assets/, checked and turned into what the render core registers.
 *
 *   const read = await readPackageDir(dir);          // or readPackageZip(bytes)
 *   const checked = await checkPackage(read);
 *   if (checked.ok) createRenderer({ templates: [checked.package.source], … });
 *   else for (const p of checked.problems) console.log(formatProblem(p));
 */
export { checkPackage, type PackageCheck, type TemplatePackage } from "./check.ts";
export { defaultPackageLimits, type PackageLimits } from "./limits.ts";
export type { PackageManifest } from "./manifest.ts";
export type { ReadResult } from "./package-files.ts";
export { formatProblem, PACKAGE, type PackageProblem } from "./problems.ts";
export { readPackageDir } from "./read-dir.ts";
export { readPackageZip } from "./read-zip.ts";
export { writeZip } from "./zip-writer.ts";
