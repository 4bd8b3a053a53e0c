import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where the project's files are at run time. From the source tree this is the repository root;
 * a Lambda bundle sets REPORT_RENDER_ROOT to the folder it copied templates/ and fonts into.
 */
export const projectRoot: string =
  process.env.REPORT_RENDER_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export const templatesDir: string = join(projectRoot, "templates");

const requireFromRoot = createRequire(join(projectRoot, "package.json"));

/** The folder of an installed npm package (fonts ship as npm packages). */
export function packageDir(name: string): string {
  return dirname(requireFromRoot.resolve(`${name}/package.json`));
}
