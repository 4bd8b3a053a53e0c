import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../infra/report-render-app.ts";
import type { ReportRenderStack } from "../../infra/report-render-stack.ts";

export const root = join(import.meta.dirname, "..", "..");

/** The context `npx cdk synth` gives the app: cdk.json's feature flags and settings. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(root, "cdk.json"), "utf8")) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/** The cloud assemblies of this test file (call `removeAssemblies` in its afterAll). */
let outdirs: string | undefined;
let synths = 0;

export function removeAssemblies(): void {
  if (outdirs) rmSync(outdirs, { recursive: true, force: true });
  outdirs = undefined;
}

/** An App as `cdk synth` builds it (cdk.json's context, then `context`), not bundling the functions. */
export function testApp(context: Record<string, unknown> = {}): App {
  outdirs ??= mkdtempSync(join(tmpdir(), "report-render-synth-"));
  return new App({
    outdir: join(outdirs, String(++synths)),
    context: {
      ...cdkJsonContext(),
      ...context,
      "aws:cdk:bundling-stacks": [],
      "aws:cdk:enable-path-metadata": true,
    },
  });
}

export interface Synthesized {
  app: App;
  stack: ReportRenderStack;
  template: Template;
}

/**
 * The app as `cdk synth` builds it, with `context` as if given with -c, synthesized without bundling
 * the functions (the assertions look at the template; test/infra/artifact.test.ts checks the bundles).
 */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const app = testApp(context);
  const stack = buildApp(app);
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
>;

/** The one resource of `type` whose construct path contains `pathPart`: [logicalId, properties]. */
export function resourceAt(template: Template, type: string, pathPart: string): [string, Record<string, unknown>] {
  const resources = template.toJSON().Resources as Resources;
  const found = Object.entries(resources).filter(
    ([, r]) => r.Type === type && String(r.Metadata?.["aws:cdk:path"] ?? "").includes(pathPart),
  );
  if (found.length !== 1) throw new Error(`expected one ${type} at *${pathPart}*, found ${found.length}`);
  const [id, resource] = found[0] as [string, Resources[string]];
  return [id, resource.Properties ?? {}];
}

/** Every resource of `type`: logicalId → properties. */
export function resourcesOf(template: Template, type: string): Record<string, Record<string, unknown>> {
  const resources = template.toJSON().Resources as Resources;
  return Object.fromEntries(
    Object.entries(resources)
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => [id, r.Properties ?? {}]),
  );
}

/**
 * A CloudFormation value as text, to compare with a string: Ref → <Id>, GetAtt → <Id.Attribute>,
 * joins concatenated, Select and Split → <selected>; anything else as JSON.
 */
export function cfnText(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if (v.Ref) return `<${String(v.Ref)}>`;
  if (v["Fn::GetAtt"]) return `<${(v["Fn::GetAtt"] as string[]).join(".")}>`;
  if (v["Fn::Join"]) {
    const [sep, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map(cfnText).join(sep);
  }
  if (v["Fn::Select"] || v["Fn::Split"]) return "<selected>";
  return JSON.stringify(value);
}

/** Web sign-in through an OpenID provider of one's own (not the stack's user pool), as context settings. */
export const OWN_PROVIDER_SETTINGS = {
  webSignIn: "true",
  jwtIssuer: "https://login.example.org",
  jwtAudience: "web",
  webSignInAuthorizeUrl: "https://login.example.org/authorize",
  webSignInTokenUrl: "https://login.example.org/token",
} as const;

/** Logical ids of the stack's main resources in a synthesized template (each must exist once). */
export function stackIds(template: Template) {
  const id = (type: string, path: string) => resourceAt(template, type, path)[0];
  return {
    input: id("AWS::S3::Bucket", "/Buckets/Input/"),
    output: id("AWS::S3::Bucket", "/Buckets/Output/"),
    accessLogs: id("AWS::S3::Bucket", "/Buckets/AccessLogs/"),
    queue: id("AWS::SQS::Queue", "/Uploads/Uploads/"),
    dlq: id("AWS::SQS::Queue", "/Uploads/DeadLetters/"),
    lines: id("AWS::SQS::Queue", "/Uploads/Lines/"),
    lineDlq: id("AWS::SQS::Queue", "/Uploads/LineDeadLetters/"),
    http: id("AWS::Lambda::Function", "/HttpFunction/"),
    upload: id("AWS::Lambda::Function", "/UploadFunction/"),
    api: id("AWS::ApiGatewayV2::Api", "/Endpoint/Api/"),
  };
}
