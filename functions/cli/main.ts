import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { closeBrowser } from "../core/browser.ts";
import { parseJson } from "../core/envelope.ts";
import { describeFailure } from "../service/failure.ts";
import { backgroundLimits, builtInRenderer } from "../service/service.ts";
import { loadConfig } from "../service/settings.ts";

const USAGE = "usage: report-render <input.json|-> [-o out.pdf] [--html out.html] [--validation strict|warn]";

function parseCliArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      html: { type: "string" },
      validation: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** argv → render core → files. Exit 0 done, 2 invalid input (errors as JSON on stderr), 1 anything else. */
export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseCliArgs>;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 1;
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const input = positionals[0];
  if (positionals.length !== 1 || input === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  if (values.validation !== undefined && !["strict", "warn"].includes(values.validation)) {
    process.stderr.write(`--validation must be strict or warn\n${USAGE}\n`);
    return 1;
  }

  const started = performance.now();
  try {
    const text = input === "-" ? await readStdin() : await readFile(input, "utf8");
    const envelope = parseJson(text);
    if (values.validation && isObject(envelope)) {
      const options = isObject(envelope.options) ? envelope.options : {};
      envelope.options = { ...options, validation: values.validation };
    }
    const config = loadConfig();
    const result = await builtInRenderer(config).render(envelope, { limits: backgroundLimits(config) });
    // Without -o: beside the input file, or in the working folder under the report's own name, which
    // safeFileName (core/filename.ts) made a single file name: it can never leave that folder.
    const out = resolve(
      values.output ??
        (input === "-" ? result.filename : join(dirname(input), `${basename(input, extname(input))}.pdf`)),
    );
    await writeFile(out, result.pdf);
    if (values.html) await writeFile(values.html, result.html);
    for (const w of result.warnings) process.stderr.write(`warning: ${w.rule} ${w.path}: ${w.message}\n`);
    const ms = Math.round(performance.now() - started);
    process.stdout.write(`${out}: ${result.pages} pages, ${result.bytes} bytes, ${ms} ms\n`);
    return 0;
  } catch (e) {
    const failure = describeFailure(e);
    if (failure) {
      process.stderr.write(`${JSON.stringify(failure.body, null, 2)}\n`);
      return 2;
    }
    process.stderr.write(`report-render: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await closeBrowser();
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
