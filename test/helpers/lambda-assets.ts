import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { root } from "./synth.ts";

/** A function of the synthesized stack: its asset folder (what Lambda unpacks into /var/task) and how it is run. */
export interface LambdaAsset {
  name: "HttpFunction" | "UploadFunction" | "PageFunction";
  assetDir: string;
  /** The function's Handler setting, e.g. "index.handler". */
  handler: string;
  /** Its environment as Lambda would give it: bucket references resolved, /var/task where the asset is. */
  env: Record<string, string>;
}

/**
 * `cdk synth` as `npm run synth` runs it (the CDK CLI, cdk.json, esbuild on this machine; no Docker,
 * no AWS credentials, no telemetry) into `out`, and the two functions' assets in it. The buckets'
 * references become `buckets`' names.
 */
export async function synthLambdaAssets(
  out: string,
  buckets: { input: string; output: string },
): Promise<{ assets: LambdaAsset[]; page: LambdaAsset; synthSeconds: number }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_)/.test(k) && k !== "NODE_OPTIONS" && k !== "VITEST"),
  ) as Record<string, string>;
  Object.assign(env, {
    CDK_DISABLE_VERSION_CHECK: "1",
    CDK_DISABLE_CLI_TELEMETRY: "1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(out, "..", "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(out, "..", "no-aws-credentials"),
  });
  const started = performance.now();
  await promisify(execFile)(
    process.execPath,
    [join(root, "node_modules/aws-cdk/bin/cdk"), "synth", "--quiet", "--output", out],
    {
      cwd: root,
      env,
      maxBuffer: 64 * 1024 * 1024,
    },
  ).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`cdk synth failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  });
  const synthSeconds = (performance.now() - started) / 1000;

  const template = JSON.parse(readFileSync(join(out, "ReportRender.template.json"), "utf8")) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }>;
  };
  const logicalIdAt = (type: string, path: string) =>
    Object.entries(template.Resources).find(
      ([, r]) => r.Type === type && r.Metadata?.["aws:cdk:path"]?.includes(path),
    )?.[0];
  const refs: Record<string, string> = {
    [logicalIdAt("AWS::S3::Bucket", "/Buckets/Input/") ?? "?"]: buckets.input,
    [logicalIdAt("AWS::S3::Bucket", "/Buckets/Output/") ?? "?"]: buckets.output,
    [logicalIdAt("AWS::SecretsManager::Secret", "/Callbacks/") ?? "?"]:
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:CallbacksSecret-AbCdEf",
  };

  const assets: LambdaAsset[] = [];
  for (const name of ["HttpFunction", "UploadFunction", "PageFunction"] as const) {
    const id = logicalIdAt("AWS::Lambda::Function", `/${name}/Function/`);
    const fn = id ? template.Resources[id] : undefined;
    if (!fn?.Metadata?.["aws:asset:path"]) throw new Error(`no ${name} with an asset in the template`);
    const assetDir = resolve(out, fn.Metadata["aws:asset:path"]);
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // The environment as Lambda would see it: bucket references resolved (here: s3rver's buckets),
    // /var/task being where the asset is unpacked.
    const resolved = Object.fromEntries(
      Object.entries(variables).map(([k, v]) => {
        if (typeof v === "string") return [k, v.replace(/^\/var\/task(?=\/|$)/, assetDir)];
        const ref = (v as { Ref?: string }).Ref;
        if (ref && refs[ref]) return [k, refs[ref]];
        throw new Error(`${name}: unexpected environment value ${k}=${JSON.stringify(v)}`);
      }),
    );
    assets.push({ name, assetDir, handler: String(fn.Properties.Handler), env: resolved });
  }
  // The render functions, and the web page's (which has no Chromium and no bucket).
  const page = assets.pop() as LambdaAsset;
  return { assets, page, synthSeconds };
}
