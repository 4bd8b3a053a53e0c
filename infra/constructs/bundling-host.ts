import { createRequire } from "node:module";
import { join } from "node:path";

/** What bundling needs of the machine that runs `cdk synth`/`cdk deploy`. */
export interface BundlingHost {
  /** `process.platform`. */
  platform: NodeJS.Platform;
  /** Resolves a package from the project (throws when it is not installed). */
  resolve(name: string): string;
}

/** This machine, resolving from the project at `projectRoot`. */
export function thisHost(projectRoot: string): BundlingHost {
  const require = createRequire(join(projectRoot, "package.json"));
  return { platform: process.platform, resolve: (name) => require.resolve(name) };
}

/**
 * Throws, saying what to do, when the functions cannot be bundled here as they must be: with the
 * project's own esbuild (without it CDK silently bundles in Docker, which needs a Docker daemon and
 * gives other bundles) and with a POSIX shell (the bundling's commands are `mkdir -p`, `cp`, `rm`,
 * which cmd.exe, where CDK runs them on Windows, does not have).
 */
export function checkBundlingHost(host: BundlingHost): void {
  if (host.platform === "win32") {
    throw new Error(
      "report-render bundles its functions with POSIX shell commands (mkdir -p, cp, rm), which Windows' cmd.exe " +
        "does not have: run `npx cdk synth` / `npx cdk deploy` in WSL (or on Linux or macOS)",
    );
  }
  try {
    host.resolve("esbuild");
  } catch {
    throw new Error(
      "esbuild is not installed in this project (npm ci installs it): without it CDK would bundle the functions " +
        "in Docker instead, which this project does not use. Run `npm ci`, then synth again",
    );
  }
}
