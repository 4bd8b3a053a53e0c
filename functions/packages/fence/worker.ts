import { parentPort } from "node:worker_threads";
import { checkPackageFiles } from "../check.ts";
import { readPackageZip } from "../read-zip.ts";
import { CompiledPackages } from "./compiled-packages.ts";
import { compilePackage, installMarkedOutput } from "./package-templating.ts";
import { describeError, type FenceTask, type RenderAnswer, type ValidateAnswer } from "./protocol.ts";

/**
 * A fence thread: everything a template package brings runs here and nowhere else (reading its zip,
 * checking it, validating data against its schema, running its Handlebars). The service sends tasks
 * one at a time (fence.ts); a task that runs too long or too large gets this thread terminated.
 */

if (!parentPort) throw new Error("fence/worker.ts runs as a worker thread");
const port = parentPort;

installMarkedOutput();

/** Packages compiled here. */
const compiled = new CompiledPackages(compilePackage);

async function run(task: FenceTask): Promise<unknown> {
  switch (task.kind) {
    case "check-zip":
      return checkPackageFiles(readPackageZip(task.zip, task.limits));
    case "check-files":
      return checkPackageFiles({ files: new Map(task.files), problems: task.problems });
    case "validate": {
      const pkg = compiled.get(task.key, task.parts);
      return (pkg ? { issues: pkg.validate(task.data) } : { missing: true }) satisfies ValidateAnswer;
    }
    case "render": {
      const pkg = compiled.get(task.key, task.parts);
      return (pkg ? { body: await pkg.render(task.data) } : { missing: true }) satisfies RenderAnswer;
    }
  }
}

port.on("message", async ({ id, task }: { id: number; task: FenceTask }) => {
  try {
    port.postMessage({ id, ok: true, value: await run(task) });
  } catch (e) {
    port.postMessage({ id, ok: false, error: describeError(e) });
  }
});
port.postMessage({ ready: true });
