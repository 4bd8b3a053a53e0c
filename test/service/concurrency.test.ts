import { afterAll, beforeAll, expect, it } from "vitest";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { bytesOf, example, postJson, startTestService, type TestService } from "../helpers/local-service.ts";

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

it("20 concurrent POST /v1/render all succeed, each with its own report", { timeout: 120_000 }, async () => {
  // Each request names a different agency, so a PDF answered to the wrong request would show.
  const agencies = Array.from({ length: 20 }, (_, i) => `并发测试单位${String(i + 1).padStart(2, "0")}号`);
  const responses = await Promise.all(
    agencies.map((agency) => {
      const envelope = example();
      envelope.data.agency = agency;
      return postJson(`${service.url}/v1/render`, envelope, { accept: "application/pdf" });
    }),
  );
  expect(responses.map((r) => r.status)).toEqual(agencies.map(() => 200));

  const pdfs = await Promise.all(responses.map(bytesOf));
  for (const [i, pdf] of pdfs.entries()) {
    const texts = await pageTexts(pdf);
    expect(String(texts.length)).toBe(responses[i]?.headers.get("x-report-pages"));
    const text = squash(texts.join(""));
    expect(text).toContain(agencies[i]);
    for (const [j, other] of agencies.entries()) if (j !== i) expect(text).not.toContain(other);
  }
  expect(new Set(responses.map((r) => r.headers.get("x-request-id"))).size).toBe(20);
});
