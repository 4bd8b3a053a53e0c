import { join } from "node:path";
import { afterAll, it } from "vitest";
import { renderReport, closeRenderer } from "../helpers/render.ts";
import { example } from "../helpers/examples.ts";
import { expectPagesMatchGoldens } from "../helpers/goldens.ts";

afterAll(closeRenderer);

// npm run test:update-goldens rewrites test/visual/goldens/.
it("every page of the report showcase matches its golden image", async () => {
  const result = await renderReport(example("report-showcase.json"));
  await expectPagesMatchGoldens(result.pdf, result.pages, join(import.meta.dirname, "goldens"), "report-showcase");
});
