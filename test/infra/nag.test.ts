import { Validations, type App, type Stack } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeAssemblies, synthesize } from "../helpers/synth.ts";

/**
 * cdk-nag's AwsSolutions pack: no finding is left unacknowledged, every acknowledgement has a
 * written reason, and none is stale (each one silences a finding that is really there).
 */

/** The pack's findings with acknowledgements honoured (as the synth sees them) or ignored. */
function findings(
  scope: IConstruct,
  honourAcknowledgements: boolean,
): { rule: string; path: string; severity: string }[] {
  const pack = new AwsSolutionsChecks();
  if (!honourAcknowledgements) {
    (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  }
  return pack
    .validateScope(scope)
    .violations.flatMap((v) =>
      v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? "", severity: v.severity ?? "" })),
    );
}

/** Every acknowledgement in the tree: the construct's path, the rule id, the reason. */
function acknowledgements(scope: IConstruct): { path: string; rule: string; reason: string }[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([rule, reason]) => ({
          path: c.node.path,
          rule: rule.replace(/^annotation::/i, ""),
          reason,
        })),
      ),
  );
}

afterAll(removeAssemblies);

const variants: [string, Record<string, unknown>][] = [
  ["defaults (IAM auth)", {}],
  [
    "every option (JWT, CORS, reserved concurrency, alarm e-mail, outputs kept, callbacks, the buckets' own key, uploads kept)",
    {
      jwtIssuer: "https://login.example.org",
      jwtAudience: "portal",
      corsAllowedOrigins: "https://portal.example.org",
      httpReservedConcurrency: 25,
      uploadReservedConcurrency: 30,
      batchLineMaxConcurrency: 20,
      alarmEmail: "ops@example.org",
      outputExpirationDays: 0,
      callbackAllowedHosts: "hooks.example.org,hooks.example.org:8443",
      bucketKmsKey: "true",
      uploadExpirationDays: 0,
    },
  ],
  ["unreserved (the account's pool)", { httpReservedConcurrency: "none", uploadReservedConcurrency: "none" }],
  ["web sign-in with the stack's user pool", { webSignIn: "true", corsAllowedOrigins: "https://portal.example.org" }],
  [
    "web sign-in with your own provider",
    {
      webSignIn: true,
      jwtIssuer: "https://login.example.org/realms/portal",
      jwtAudience: "portal-web",
      webSignInAuthorizeUrl: "https://login.example.org/realms/portal/protocol/openid-connect/auth",
      webSignInTokenUrl: "https://login.example.org/realms/portal/protocol/openid-connect/token",
    },
  ],
];

describe.each(variants)("cdk-nag AwsSolutions: %s", (_name, context) => {
  let app: App;
  let stack: Stack;
  beforeAll(() => {
    ({ app, stack } = synthesize(context));
  });

  it("has no unacknowledged finding, error or warning", () => {
    expect(findings(stack, true)).toEqual([]);
  });

  it("acknowledges each finding with a written reason, and nothing that is not a finding", () => {
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.rule).toMatch(/^AwsSolutions-/);
      expect(ack.reason.length, `${ack.rule} on ${ack.path}`).toBeGreaterThan(80);
    }
    const raw = findings(stack, false);
    // Each raw finding is acknowledged on its resource or an ancestor of it …
    for (const finding of raw) {
      const covered = acks.some(
        (a) => a.rule === finding.rule && (finding.path === a.path || finding.path.startsWith(`${a.path}/`)),
      );
      expect(covered, `${finding.rule} on ${finding.path}`).toBe(true);
    }
    // … and each acknowledgement silences at least one raw finding.
    for (const ack of acks) {
      const used = raw.some((f) => f.rule === ack.rule && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)));
      expect(used, `stale acknowledgement ${ack.rule} on ${ack.path}`).toBe(true);
    }
    console.log(
      `cdk-nag: ${raw.length} findings, all acknowledged: ${acks.map((a) => `${a.rule} @ ${a.path}`).join("; ")}`,
    );
  });

  it("runs as a validation plugin of the app: the synth succeeds", () => {
    // synthesize() already synthesized once through Template.fromStack; a failing plugin would have thrown.
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});

describe("cdk-nag in the app", () => {
  it("fails the synth on an unacknowledged finding", async () => {
    const { app, stack } = synthesize();
    const { Bucket } = await import("aws-cdk-lib/aws-s3");
    new Bucket(stack, "Careless");
    expect(() => app.synth({ force: true })).toThrow(/AwsSolutions-S1[\s\S]*ReportRender\/Careless/);
  });
});
