import { App } from "aws-cdk-lib";
import { buildApp } from "./report-render-app.ts";

// `npx cdk synth` / `npx cdk deploy` run this (cdk.json "app"). No account or region is looked up.
buildApp(new App());
