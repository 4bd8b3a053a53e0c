import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Match } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, describe, expect, it } from "vitest";
import { ENV } from "../../functions/service/settings.ts";
import { CERTIFICATE_PATH } from "../../infra/constructs/signing.ts";
import { opensslIdentity } from "../helpers/pades.ts";
import { removeAssemblies, resourceAt, resourcesOf, synthesize } from "../helpers/synth.ts";

// The `signing` setting: a KMS key the two functions may only sign with, and the certificate chain
// they are given once `signingCertificate` names it.

afterAll(removeAssemblies);

const rsa = opensslIdentity("rsa", "/CN=Stack Signer/O=Example");

type Env = { Variables: Record<string, unknown> };
const envOf = (props: Record<string, unknown>) => (props.Environment as Env).Variables;

describe("signing in the stack", () => {
  it("is off by default: no key, no signing variables", () => {
    const { template } = synthesize();
    expect(Object.keys(resourcesOf(template, "AWS::KMS::Key"))).toEqual([]);
    for (const path of ["/HttpFunction/", "/UploadFunction/"]) {
      const env = envOf(resourceAt(template, "AWS::Lambda::Function", path)[1]);
      expect(env[ENV.signKmsKeyId]).toBeUndefined();
    }
  }, 120_000);

  it("makes an RSA_2048 SIGN_VERIFY key, retained, with an alias, that only the functions may sign with (one algorithm), administrators only manage", () => {
    const { template } = synthesize({ signing: "true" });
    const [keyId, key] = resourceAt(template, "AWS::KMS::Key", "/Signing/Key/");
    expect(key).toMatchObject({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" });
    template.hasResource("AWS::KMS::Key", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    const policies = Object.values(resourcesOf(template, "AWS::IAM::Policy"));
    const kmsStatements = policies.flatMap((p) =>
      ((p.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement ?? []).filter((s) =>
        JSON.stringify(s.Action).includes("kms:"),
      ),
    );
    // No IAM policy grants the key: its own policy names who may do what.
    expect(kmsStatements).toEqual([]);
    const statements = (key.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    const bySid = new Map(statements.map((st) => [st.Sid, st]));
    expect([...bySid.keys()].sort()).toEqual([
      "AdministratorsManageButDoNotSign",
      "TheFunctionsReadThePublicKey",
      "TheFunctionsSignWithOneAlgorithm",
    ]);
    const roles = ["/HttpFunction/", "/UploadFunction/"].map((path) => ({
      "Fn::GetAtt": [resourceAt(template, "AWS::IAM::Role", `${path}Role/`)[0], "Arn"],
    }));
    expect(bySid.get("TheFunctionsSignWithOneAlgorithm")).toMatchObject({
      Effect: "Allow",
      Action: "kms:Sign",
      Principal: { AWS: roles },
      Condition: { StringEquals: { "kms:SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256" } },
    });
    expect(bySid.get("TheFunctionsReadThePublicKey")).toMatchObject({
      Action: "kms:GetPublicKey",
      Principal: { AWS: roles },
    });
    // The account's administrators manage the key but never sign, nor grant signing, nor kms:*.
    const admin = bySid.get("AdministratorsManageButDoNotSign") as { Action: string[]; Principal: unknown };
    expect(JSON.stringify(admin.Principal)).toContain(":root");
    const matches = (action: string) => admin.Action.some((a) => new RegExp(`^${a.replace("*", ".*")}$`).test(action));
    for (const denied of ["kms:Sign", "kms:CreateGrant", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey"]) {
      expect(matches(denied), denied).toBe(false);
    }
    for (const allowed of ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DescribeKey", "kms:DisableKey"]) {
      expect(matches(allowed), allowed).toBe(true);
    }
    for (const st of statements) expect(JSON.stringify(st.Action)).not.toContain("kms:*");
    template.hasResourceProperties("AWS::KMS::Alias", {
      AliasName: "alias/ReportRender-signing",
      TargetKeyId: { "Fn::GetAtt": [keyId, "Arn"] },
    });
    for (const path of ["/HttpFunction/", "/UploadFunction/"]) {
      const [, fn] = resourceAt(template, "AWS::Lambda::Function", path);
      expect(envOf(fn)[ENV.signKmsKeyId]).toEqual({ Ref: keyId });
      // No certificate yet: no file named, no layer; the functions refuse signed renders, saying why.
      expect(envOf(fn)[ENV.signCertificateFile]).toBeUndefined();
      expect(fn.Layers).toBeUndefined();
    }
    template.hasOutput("*", { Value: { Ref: keyId } });
  }, 120_000);

  it("gives both functions the certificate chain in a layer, and its path", () => {
    const file = join(rsa.dir, "chain.pem");
    writeFileSync(file, `subject=CN=Stack Signer\n${rsa.certPem}`);
    const { template } = synthesize({ signing: "true", signingCertificate: file });
    const [layerId] = resourceAt(template, "AWS::Lambda::LayerVersion", "/Signing/Certificate/");
    for (const path of ["/HttpFunction/", "/UploadFunction/"]) {
      const [, fn] = resourceAt(template, "AWS::Lambda::Function", path);
      expect(envOf(fn)[ENV.signCertificateFile]).toBe(CERTIFICATE_PATH);
      expect(fn.Layers).toEqual([{ Ref: layerId }]);
    }
    template.hasResourceProperties("AWS::Lambda::LayerVersion", {
      CompatibleRuntimes: Match.arrayWith(["nodejs22.x"]),
    });
  }, 120_000);

  it("stops the synth, naming the setting, for a certificate it cannot use", () => {
    expect(() => synthesize({ signingCertificate: join(rsa.dir, "cert.pem") })).toThrow(
      "setting signingCertificate needs signing=true",
    );
    expect(() => synthesize({ signing: "true", signingCertificate: "/nonexistent.pem" })).toThrow(
      /setting signingCertificate: .*ENOENT/,
    );
    expect(() => synthesize({ signing: "true", signingCertificate: join(rsa.dir, "key.pem") })).toThrow(
      /setting signingCertificate: .* holds a private key/,
    );
    const ec = opensslIdentity("ec");
    expect(() => synthesize({ signing: "true", signingCertificate: join(ec.dir, "cert.pem") })).toThrow(
      /must be the RSA key's/,
    );
    expect(() => synthesize({ signing: "maybe" })).toThrow(/setting signing must be true or false/);
  }, 120_000);

  it("leaves cdk-nag's AwsSolutions pack nothing to find", () => {
    const file = join(rsa.dir, "cert.pem");
    const { stack } = synthesize({ signing: "true", signingCertificate: file });
    const findings = new AwsSolutionsChecks()
      .validateScope(stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ""}`))
      .filter((f) => f.includes("/Signing/"));
    expect(findings).toEqual([]);
  }, 120_000);
});
