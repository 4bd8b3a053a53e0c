import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A Lambda function's asset run the way the Node.js runtime runs it: a fresh `node` process whose
 * working folder is the asset, loading the handler module from it and calling the handler with one
 * event at a time. Only the asset is on its module path; the environment is exactly the one given.
 */
export interface LambdaProcess {
  invoke<T = unknown>(event: unknown, timeoutMs?: number): Promise<T>;
  /** What the function wrote (its JSON log lines), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The bootstrap, kept outside the source tree: it imports nothing but the handler module. */
const RUNNER = `import { pathToFileURL } from "node:url";
const [modulePath, exportName] = process.argv.slice(2);
const mod = await import(pathToFileURL(modulePath).href);
const handler = mod[exportName];
if (typeof handler !== "function") throw new Error(exportName + " is not exported by " + modulePath);
// The context object Lambda passes, as far as the runtime fills it in from its environment.
const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "function";
const context = (awsRequestId) => ({
  awsRequestId,
  functionName: name,
  functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:" + name,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? "2048",
  logGroupName: "/aws/lambda/" + name,
  getRemainingTimeInMillis: () => 30000,
});
process.on("message", async ({ id, event }) => {
  try {
    process.send({ id, result: await handler(event, context(id)) });
  } catch (e) {
    process.send({ id, error: String((e && e.stack) || e) });
  }
});
process.send({ ready: true });
`;

export async function startLambdaProcess(options: {
  /** The asset folder (the function's /var/task). */
  assetDir: string;
  /** The function's Handler setting, e.g. "index.handler". */
  handler: string;
  env: Record<string, string>;
  /** A folder of its own for the runner script. */
  workDir: string;
}): Promise<LambdaProcess> {
  const [file, exportName] = options.handler.split(".") as [string, string];
  const modulePath = [".mjs", ".js", ".cjs"].map((ext) => join(options.assetDir, file + ext)).find(existsSync);
  if (!modulePath) throw new Error(`no ${file}.mjs/.js in ${options.assetDir}`);
  mkdirSync(options.workDir, { recursive: true });
  const runner = join(options.workDir, "runner.mjs");
  writeFileSync(runner, RUNNER);

  let output = "";
  const child: ChildProcess = fork(runner, [modulePath, exportName], {
    cwd: options.assetDir,
    env: options.env,
    execArgv: [],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));

  const pending = new Map<string, { resolve: (value: unknown) => void; reject: (e: Error) => void }>();
  let exited: Error | undefined;
  child.on("exit", (code, signal) => {
    exited = new Error(`the function process exited (${code ?? signal}):\n${output}`);
    for (const p of pending.values()) p.reject(exited);
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", () => reject(exited));
  });
  child.on("message", (message: { id: string; result?: unknown; error?: string }) => {
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.error !== undefined) p.reject(new Error(`the handler threw: ${message.error}\n${output}`));
    else p.resolve(message.result);
  });

  let counter = 0;
  return {
    invoke<T>(event: unknown, timeoutMs = 90_000): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = `invocation-${++counter}`;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`no answer within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, event });
      });
    },
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
