// A new Lambda instance of the HTTP function, as `cdk synth` bundles it: a fresh Node process running
// the asset's handler with an empty temp folder (Chromium not yet inflated), then its first request.
// Prints { lambdaInitMs, lambdaFirstRequestMs, lambdaColdStartMs } (init: loading the module, which
// inflates Chromium from the asset's pack and starts it; first request: the render that follows), and
// lambdaUnpackMs: the part of init spent inflating the pack (the function's chromium.unpacked log line).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpEvent } from "../../test/helpers/lambda-events.ts";
import { synthLambdaAssets } from "../../test/helpers/lambda-assets.ts";
import { startLambdaProcess } from "../../test/helpers/lambda-process.ts";

const work = mkdtempSync(join(tmpdir(), "report-render-lambda-bench-"));
try {
  const { assets } = await synthLambdaAssets(join(work, "cdk.out"), { input: "bench-input", output: "bench-output" });
  const asset = assets.find((a) => a.name === "HttpFunction");
  if (!asset) throw new Error("no HttpFunction asset");
  const tmp = mkdtempSync(join(work, "tmp-"));
  const started = performance.now();
  const fn = await startLambdaProcess({
    assetDir: asset.assetDir,
    handler: asset.handler,
    workDir: join(work, "runtime"),
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: tmp,
      TMPDIR: tmp,
      LAMBDA_TASK_ROOT: asset.assetDir,
      AWS_REGION: "us-east-1",
      ...asset.env,
    },
  });
  const ready = performance.now();
  const body = readFileSync("examples/zhanhe-transport-2020.json", "utf8");
  const result = await fn.invoke<{ statusCode: number }>(
    httpEvent("POST", "/v1/render", { body, headers: { accept: "application/pdf" } }),
    120_000,
  );
  const done = performance.now();
  await fn.stop();
  if (result.statusCode !== 200)
    throw new Error(`the first request answered ${result.statusCode}\n${fn.output().slice(-2000)}`);
  const unpacked = fn
    .output()
    .split("\n")
    .find((line) => line.includes('"message":"chromium.unpacked"'));
  const unpackMs = (JSON.parse(unpacked ?? "{}") as { durations?: { unpackMs?: number } }).durations?.unpackMs;
  const round = (ms: number) => Math.round(ms);
  console.log(
    JSON.stringify({
      lambdaInitMs: round(ready - started),
      lambdaFirstRequestMs: round(done - ready),
      lambdaColdStartMs: round(done - started),
      lambdaUnpackMs: round(unpackMs ?? Number.NaN),
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
