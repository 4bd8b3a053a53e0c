import { join } from "node:path";
import { afterAll, it } from "vitest";
import { renderReport, closeRenderer } from "../helpers/render.ts";
import { example } from "../helpers/examples.ts";
import { expectPagesMatchGoldens } from "../helpers/goldens.ts";

afterAll(closeRenderer);

const goldens = join(import.meta.dirname, "goldens");

it("every page of the 湛河区 example matches its golden image", async () => {
  const result = await renderReport(example("zhanhe-transport-2020.json"));
  await expectPagesMatchGoldens(result.pdf, result.pages, goldens, "zhanhe-transport-2020");
});

it("every page of the 2021-format sample matches its golden image", async () => {
  const result = await renderReport(example("gov-disclosure-2021-sample.json"));
  await expectPagesMatchGoldens(result.pdf, result.pages, goldens, "gov-disclosure-2021-sample");
});
