import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseJson } from "../core/input/index.ts";
import { LimitError } from "../core/errors.ts";
import {
  createTemplateFence,
  FILES,
  formatProblem,
  type PackageCheck,
  type ReadResult,
  readPackageDir,
  type TemplateFence,
  type TemplatePackage,
} from "../packages/index.ts";
import { describeFailure } from "../service/failure.ts";
import { backgroundLimits, builtInRenderer } from "../service/service.ts";
import { loadConfig } from "../service/settings.ts";
import { writeWhole } from "../service/write-whole.ts";

export const TEMPLATE_USAGE = `usage: report-render template check DIR
       report-render template render DIR [data.json] [-o out.pdf] [--html out.html]
       report-render template pack DIR [-o package.zip]`;

const TEMPLATE_HELP = `${TEMPLATE_USAGE}

A template package is a folder: template.json, template.hbs, partials/<name>.hbs, style.css,
schema.json, example.json, assets/<file> (see README.md, "Template packages").
  check DIR     check everything a publication would: prints "ok" (exit 0), or every problem on its own
                line as file:line:column: message (exit 2)
  render DIR    check it, then render data.json (default: DIR/example.json, the data alone, not an
                envelope) with it to out.pdf (default: <id>.pdf in the working folder)
  pack DIR      check it, then zip it for publication (default: <id>.zip in the working folder)
Exit 0 when done, 2 when the package or the data was refused, 1 when anything else failed.`;

/** `report-render template …`: exit code. */
export async function templateCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    return usageError(messageOf(e));
  }
  const { values, positionals } = parsed;
  const [command, dir, data, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(`${TEMPLATE_HELP}\n`);
    return 0;
  }
  if (!command || !dir) return usageError();
  const takesData = command === "render";
  if (extra.length > 0 || (data !== undefined && !takesData)) return usageError("too many arguments");
  if (values.html !== undefined && command !== "render") return usageError("--html goes with render");
  if (!["check", "render", "pack"].includes(command)) return usageError(`unknown command "template ${command}"`);

  // The package's checks, schema and templating run in threads of their own, as in the service.
  const fence = createTemplateFence();
  try {
    return await withPackage(command, dir, data, values, fence);
  } finally {
    await fence.close();
  }
}

async function withPackage(
  command: string,
  dir: string,
  data: string | undefined,
  values: ReturnType<typeof parse>["values"],
  fence: TemplateFence,
): Promise<number> {
  let read: ReadResult;
  let checked: PackageCheck;
  try {
    read = await readPackageDir(dir);
    checked = await fence.check(read);
  } catch (e) {
    if (e instanceof LimitError) {
      // As the endpoint answers it (too_complex): the package's example is more work than a render may be.
      process.stderr.write(`${FILES.template}: ${e.message} [too-complex]\n`);
      return 2;
    }
    process.stderr.write(`report-render: ${messageOf(e)}\n`);
    return 1;
  }
  if (!checked.ok) {
    for (const problem of checked.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    return 2;
  }
  const pkg = checked.package;
  try {
    switch (command) {
      case "check":
        process.stdout.write("ok\n");
        return 0;
      case "pack":
        return await pack(pkg, read, values.output);
      default:
        return await render(pkg, data ?? resolve(dir, "example.json"), values.output, values.html);
    }
  } catch (e) {
    process.stderr.write(`report-render: ${messageOf(e)}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      html: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** The package registered alone with a renderer of its own, as the service registers it beside the built-in ones. */
async function render(pkg: TemplatePackage, dataFile: string, output?: string, html?: string): Promise<number> {
  const started = performance.now();
  const config = loadConfig();
  const out = resolve(output ?? `${pkg.manifest.id}.pdf`);
  if ((await stat(out).catch(() => undefined))?.isDirectory()) {
    return usageError(`-o ${output}: a folder; name the PDF`);
  }
  // The service's renderer (its Chromium, fonts and settings); the package is rendered without being registered.
  const renderer = builtInRenderer(config);
  try {
    const envelope = { template: pkg.manifest.id, data: parseJson(await readFile(dataFile, "utf8")), options: {} };
    const result = await renderer.render(envelope, { limits: backgroundLimits(config), template: pkg.source });
    await writeWhole(out, result.pdf);
    if (html !== undefined) await writeWhole(html, result.html);
    const ms = Math.round(performance.now() - started);
    process.stdout.write(`${out}: ${result.pages} pages, ${result.bytes} bytes, ${ms} ms\n`);
    return 0;
  } catch (e) {
    const failure = describeFailure(e);
    if (!failure) throw e;
    // As the endpoint would refuse it: the error list, as JSON.
    process.stderr.write(`${JSON.stringify(failure.body, null, 2)}\n`);
    return 2;
  } finally {
    await renderer.close();
  }
}

async function pack(pkg: TemplatePackage, read: ReadResult, output?: string): Promise<number> {
  const { zip } = pkg;
  const out = resolve(output ?? `${pkg.manifest.id}.zip`);
  await writeWhole(out, zip);
  process.stdout.write(
    `${out}: ${read.files.size} files, ${zip.byteLength} bytes (sha256 of the files ${pkg.digest})\n`,
  );
  return 0;
}

function usageError(message?: string): number {
  process.stderr.write(`${message ? `${message}\n` : ""}${TEMPLATE_USAGE}\n`);
  return 1;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
