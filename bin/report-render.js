#!/usr/bin/env node
// The CLI runs the TypeScript sources directly (tsx), so there is no build step to forget.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../functions/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
