import { afterAll, describe, expect, it } from "vitest";
import { defineTemplate } from "../../../functions/core/kit.ts";
import type { TemplateDefinition } from "../../../functions/core/kit.ts";
import type { TemplateSource } from "../../../functions/core/template/templates.ts";
import { pageTexts, squash } from "../../helpers/pdf.ts";
import { renderer, closeRenderer } from "../../helpers/render.ts";

afterAll(closeRenderer);

/** A template of its own, in memory: `body` is its whole template.hbs. */
function templateOf(body: string): TemplateSource {
  const definition = defineTemplate<object>({
    id: "page-refs-test",
    title: "Page references",
    page: { size: "A4", orientation: "portrait", margin: { top: "20mm", right: "20mm", bottom: "20mm", left: "20mm" } },
    view: (data) => data,
    metadata: () => ({ title: "Page references", lang: "en" }),
    filename: () => "page-refs.pdf",
  }) as TemplateDefinition;
  const css = `body { font-family: "Noto Serif SC"; }`;
  return { definition, files: { template: body, partials: {}, css, schema: { type: "object" }, example: {} } };
}

const render = (body: string) =>
  renderer.render({ template: "page-refs-test", data: {} }, { template: templateOf(body) });

describe("<page-ref> in any template", () => {
  it("fills in the page of the element, after one print", async () => {
    const result = await render(
      `<p>Chapter two begins on page <page-ref for="two"></page-ref>.</p>
       <h1 style="break-before: page">One</h1><h1 id="two" style="break-before: page">Two</h1>`,
    );
    expect(result.prints).toBe(1);
    expect(squash((await pageTexts(result.pdf))[0] ?? "")).toContain("Chaptertwobeginsonpage3.");
  });

  it("prints the numbers as text when a placeholder is not painted, and they are still right", async () => {
    // The hidden reference's placeholder never reaches the PDF: nothing is patched, the body is
    // printed again with the numbers as text, in the same room.
    const result = await render(
      `<p>See page <page-ref for="end"></page-ref>.</p>
       <div style="display: none"><page-ref for="end"></page-ref></div>
       <h1 style="break-before: page">Middle</h1><h1 id="end" style="break-before: page">End</h1>`,
    );
    expect(result.prints).toBe(2);
    expect(squash((await pageTexts(result.pdf))[0] ?? "")).toContain("Seepage3.");
  });

  it("refuses a reference to an element the document does not have (422, not a fault of the service)", async () => {
    await expect(render(`<p><page-ref for="nowhere"></page-ref></p>`)).rejects.toMatchObject({
      code: "invalid_data",
      issues: [expect.objectContaining({ rule: "page-ref" })],
    });
  });
});
