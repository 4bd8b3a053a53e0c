import { Validations, type App } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ReportRenderStack } from "./report-render-stack.ts";

/** The stack's name unless `-c stackName=…` says otherwise (one deployment per name and region). */
const DEFAULT_STACK_NAME = "ReportRender";

/**
 * The app's contents: the stack (its settings from CDK context), and cdk-nag's AwsSolutions checks
 * as a validation plugin (an unacknowledged finding fails the synth).
 */
export function buildApp(app: App): ReportRenderStack {
  const stackName = (app.node.tryGetContext("stackName") as string | undefined) ?? DEFAULT_STACK_NAME;
  const stack = new ReportRenderStack(app, stackName);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}
