import { defineConfig } from "vitest/config";

/** Files that replace modules (vi.mock): they need modules of their own, loaded fresh. */
export const mocking = ["test/http/abort.test.ts"];

export default defineConfig({
  test: {
    // Each file drives real Chromium; two at a time suits the 2-core machines CI runs on.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One temp folder for the run's test folders, removed at its end (test/helpers/temp-dir.ts).
    globalSetup: ["test/helpers/temp-root.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "shared",
          include: ["test/**/*.test.ts"],
          exclude: mocking,
          // A worker keeps the modules it loaded for its next file: loading puppeteer, the AWS SDK
          // and the CDK again for each of 77 files took 89 s of the suite's CPU. So every file leaves
          // the process as it found it, as each must (browsers closed, variables restored, servers
          // stopped): the next file in that worker starts from it.
          isolate: false,
        },
      },
      { extends: true, test: { name: "isolated", include: mocking } },
    ],
  },
});
