import { createTemplateFence } from "../../functions/packages/index.ts";

/**
 * The packages' fence the tests share (test files of the shared project share modules, so one fence
 * a test process): its threads start on first need and never keep the process alive.
 */
export const fence = createTemplateFence();
