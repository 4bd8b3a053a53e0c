import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { parseJson } from "../core/input/index.ts";
import type { Issue } from "../core/types.ts";
import { describeFailure, type FailureBody } from "../service/failure.ts";
import type { Renderer } from "../core/render.ts";
import { backgroundLimits, builtInRenderer } from "../service/service.ts";
import { loadConfig } from "../service/settings.ts";
import { batchLinePdfOf, countLines, type InputItem, isBatch, isBlank, pdfOf, readLines } from "./inputs.ts";
import { createReporter, type Reporter } from "./progress.ts";
import { writeWhole } from "../service/write-whole.ts";

const USAGE = `usage: report-render <input.json|batch.jsonl|->... [-o out.pdf|folder] [--html out.html] [--validation strict|warn] [--sign-p12 key.p12]
       report-render template check|render|pack DIR ... (report-render template --help)`;

const HELP = `${USAGE}

Renders each input (a report envelope as JSON, or a JSON Lines batch: one envelope a line) to a PDF.
  a.json         → a.pdf beside it
  batch.jsonl    → batch-<n>.pdf beside it for each line n that is not blank (n from 1)
  -              → standard input (one JSON envelope), named after the report, in the working folder
  -o out.pdf     one input only: the PDF's path (an existing folder, or a path ending in /, is a folder)
  -o folder      several outputs (several inputs, or a batch): every PDF goes into the folder (created)
  --html file    one input only: also the HTML that Chromium printed
  --validation   strict (default) or warn: render anyway, listing the template's rule failures
  --sign-p12 f   sign every PDF (PAdES) with the key and certificates of the PKCS#12 file f; its
                 password from the SIGN_P12_PASSWORD environment variable (never an argument)
Exit 0 when every input rendered, 2 when an input was refused (invalid) and none failed otherwise,
1 when anything else failed.

Template packages (a folder of template.json, template.hbs, style.css, schema.json, example.json…):
  report-render template check DIR                      every problem as file:line:column: message
  report-render template render DIR [data.json] [-o out.pdf]
  report-render template pack DIR [-o package.zip]`;

/** Reports rendering at once: enough to keep Chromium busy while the next one is read and templated. */
const IN_FLIGHT = 2;

function parseCliArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      html: { type: "string" },
      validation: { type: "string" },
      "sign-p12": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** Where the PDFs go: the `-o` file (one input), the `-o` folder, or beside each input. */
type Target = { kind: "file"; path: string } | { kind: "folder"; path: string } | { kind: "beside" };

type Outcome =
  | { kind: "done"; label: string; out: string; pages: number; bytes: number; ms: number; warnings: Issue[] }
  | { kind: "refused"; label: string; body: FailureBody }
  | { kind: "failed"; label: string; message: string };

/**
 * argv → render core → files. Several inputs share one renderer (one Chromium), closed once at the
 * end. Exit 0 when every input rendered, 2 when some input was refused (errors as JSON on stderr) and
 * nothing else failed, 1 otherwise.
 */
export async function main(argv: string[]): Promise<number> {
  // Loaded only for this command: rendering reports never pays for the package checks.
  if (argv[0] === "template") return (await import("./template-command.ts")).templateCommand(argv.slice(1));
  let args: ReturnType<typeof parseCliArgs>;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    return usageError(messageOf(e));
  }
  const { values, positionals: inputs } = args;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (inputs.length === 0) return usageError();
  if (inputs.filter((i) => i === "-").length > 1) return usageError("standard input (-) can be read only once");
  if (values.validation !== undefined && !["strict", "warn"].includes(values.validation)) {
    return usageError("--validation must be strict or warn");
  }
  // One input gives one output, except a batch; everything else names a folder with -o.
  const several = inputs.length > 1 || inputs.some(isBatch);
  if (several && values.html !== undefined) return usageError("--html takes a single input (one report)");

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`report-render: ${messageOf(e)}\n`);
    return 1;
  }
  let target: Target;
  try {
    target = await outputTarget(values.output, several);
  } catch (e) {
    return usageError(messageOf(e));
  }

  const started = performance.now();
  const reporter = createReporter(process.stdout, process.stderr, several && process.stderr.isTTY === true);
  const tally = { done: 0, refused: 0, failed: 0 };
  /** Closed at the end, however the run ends. */
  let opened: Renderer | undefined;
  try {
    const total = process.stderr.isTTY && several ? await countItems(inputs) : 0;
    reporter.progress(0, total, "");
    const p12 = values["sign-p12"];
    // Loaded only to sign: PKCS#12 and CMS code is no cost to other runs.
    const signing = p12 ? await import("../service/signing/p12.ts") : undefined;
    const signer = p12 ? await signing?.pkcs12Signer(p12, config.signing.p12Password) : undefined;
    // Without --sign-p12, the settings' signer (a KMS key), if any.
    const renderer = builtInRenderer(config, undefined, undefined, signer);
    opened = renderer;
    const limits = backgroundLimits(config);
    /** Every PDF path written in this run, and for which input: none is written twice. */
    const written = new Map<string, string>();
    const claim = (out: string, label: string) => {
      const other = written.get(out);
      if (other !== undefined) throw new Error(`${out} is the output of ${other} too: not written twice`);
      written.set(out, label);
    };

    const renderItem = async (item: InputItem): Promise<Outcome> => {
      const itemStarted = performance.now();
      try {
        if (item.output !== undefined) claim(item.output, item.label);
        const envelope = parseJson(await item.text());
        if (values.validation && isObject(envelope)) {
          const options = isObject(envelope.options) ? envelope.options : {};
          envelope.options = { ...options, validation: values.validation };
        }
        if (p12 && isObject(envelope)) {
          // --sign-p12 signs every report: with the envelope's own reason, location and contact, if any.
          const options = isObject(envelope.options) ? envelope.options : {};
          const pdf = isObject(options.pdf) ? options.pdf : {};
          if (options.pdf === undefined || isObject(options.pdf))
            envelope.options = { ...options, pdf: { sign: {}, ...pdf } };
        }
        const result = await renderer.render(envelope, { limits });
        // Named after the report (standard input): safeFileName (core/filename.ts) made it a single
        // file name, so it can never leave the folder.
        let out = item.output;
        if (out === undefined) {
          out = resolve(target.kind === "folder" ? target.path : ".", result.filename);
          claim(out, item.label);
        }
        await writeWhole(out, result.pdf);
        if (values.html !== undefined) await writeWhole(values.html, result.html);
        const ms = Math.round(performance.now() - itemStarted);
        return {
          kind: "done",
          label: item.label,
          out,
          pages: result.pages,
          bytes: result.bytes,
          ms,
          warnings: result.warnings,
        };
      } catch (e) {
        const failure = describeFailure(e);
        if (failure) return { kind: "refused", label: item.label, body: failure.body };
        return { kind: "failed", label: item.label, message: messageOf(e) };
      }
    };

    const report = (outcome: Outcome) => {
      tally[outcome.kind] += 1;
      tell(reporter, outcome, several);
      reporter.progress(tally.done + tally.refused + tally.failed, total, outcome.label);
    };

    // In input order, IN_FLIGHT at a time: a PDF is written as soon as it is made and not kept, so a
    // batch of any length holds at most IN_FLIGHT reports in memory.
    const window = Math.min(IN_FLIGHT, config.renderConcurrency);
    const inFlight: Promise<Outcome>[] = [];
    for await (const item of inputItems(inputs, target)) {
      inFlight.push(renderItem(item));
      if (inFlight.length >= window) report(await (inFlight.shift() as Promise<Outcome>));
    }
    for (const outcome of inFlight) report(await outcome);
  } catch (e) {
    // Not about one input (the renderer could not be set up): no stack, the message.
    reporter.end();
    process.stderr.write(`report-render: ${messageOf(e)}\n`);
    return 1;
  } finally {
    reporter.end();
    await opened?.close();
  }

  if (several) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const count = tally.done + tally.refused + tally.failed;
    process.stderr.write(
      `report-render: ${count} ${count === 1 ? "report" : "reports"}: ${tally.done} rendered, ${tally.refused} refused, ${tally.failed} failed (${seconds} s)\n`,
    );
  }
  if (tally.failed > 0) return 1;
  if (tally.refused > 0) return 2;
  return 0;
}

/** One finished input, told as the single-input CLI always has, or prefixed with the input's label. */
function tell(reporter: Reporter, outcome: Outcome, several: boolean): void {
  const prefix = several ? `${outcome.label}: ` : "";
  switch (outcome.kind) {
    case "done":
      for (const w of outcome.warnings) reporter.err(`${prefix}warning: ${w.rule} ${w.path}: ${w.message}`);
      reporter.out(`${outcome.out}: ${outcome.pages} pages, ${outcome.bytes} bytes, ${outcome.ms} ms`);
      return;
    case "refused":
      // One input: the error body as the endpoint sends it, indented. Several: one line each.
      reporter.err(several ? `${prefix}${JSON.stringify(outcome.body)}` : JSON.stringify(outcome.body, null, 2));
      return;
    case "failed":
      reporter.err(several ? `${prefix}${outcome.message}` : `report-render: ${outcome.message}`);
      return;
  }
}

/**
 * `-o` with several outputs names a folder (made if missing; `x.pdf` is refused as a likely mistake);
 * with one, a file, unless it is an existing folder or ends with a separator.
 */
async function outputTarget(output: string | undefined, several: boolean): Promise<Target> {
  if (output === undefined) return { kind: "beside" };
  const path = resolve(output);
  const existing = await stat(path).catch(() => undefined);
  const folder = existing?.isDirectory() || output.endsWith("/") || output.endsWith(sep);
  if (!several && !folder) return { kind: "file", path };
  if (existing && !existing.isDirectory()) {
    throw new Error(`-o ${output}: not a folder; with several outputs (several inputs, or a batch) -o names a folder`);
  }
  if (!existing && output.toLowerCase().endsWith(".pdf")) {
    throw new Error(`-o ${output}: with several outputs (several inputs, or a batch) -o names a folder, not a PDF`);
  }
  await mkdir(path, { recursive: true });
  return { kind: "folder", path };
}

/** The reports to render, in order: each file, standard input, each batch's lines that are not blank. */
async function* inputItems(inputs: string[], target: Target): AsyncGenerator<InputItem> {
  const folder = (input: string) => (target.kind === "folder" ? target.path : dirname(input));
  for (const input of inputs) {
    if (input === "-") {
      yield { label: "<stdin>", text: readStdin, output: target.kind === "file" ? target.path : undefined };
    } else if (!isBatch(input)) {
      const output = target.kind === "file" ? target.path : resolve(pdfOf(input, folder(input)));
      yield { label: input, text: () => readFile(input, "utf8"), output };
    } else {
      try {
        for await (const { line, text } of readLines(input)) {
          if (isBlank(text)) continue;
          yield {
            label: `${input}:${line}`,
            text: async () => text,
            output: resolve(batchLinePdfOf(input, line, folder(input))),
          };
        }
      } catch (e) {
        // The batch could not be read (missing, a folder, unreadable): one failure for the file.
        yield { label: input, text: () => Promise.reject(e) };
      }
    }
  }
}

/** How many reports there are, for the progress bar (a batch file is read once more for it). */
async function countItems(inputs: string[]): Promise<number> {
  let total = 0;
  for (const input of inputs) total += isBatch(input) ? await countLines(input) : 1;
  return total;
}

function usageError(message?: string): number {
  process.stderr.write(`${message ? `${message}\n` : ""}${USAGE}\n`);
  return 1;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
