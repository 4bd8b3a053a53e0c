import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { bytesOf, exampleText, postJson, startTestService, type TestService } from "../helpers/local-service.ts";
import { attacks } from "./attacks.ts";

// Every attack through POST /v1/render of the local server (npm start): an answer, never a 5xx, a
// small refusal, quickly; and the same server renders a normal report right after.
let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

const REFUSAL_MS = 2_000;
const countOf = (text: string, letter: string) => text.split(letter).length - 1;
const REFUSAL_BYTES = 64 * 1024;

describe("POST /v1/render under attack", () => {
  for (const attack of attacks) {
    it(`${attack.name}: ${attack.status}${attack.error ? ` ${attack.error}` : ""}`, async () => {
      const started = performance.now();
      const response = await postJson(`${service.url}/v1/render`, attack.body, { accept: "application/pdf" });
      const body = await bytesOf(response);
      const ms = performance.now() - started;
      expect(response.status).toBe(attack.status);
      if (attack.status === 200) {
        // The file name is one safe segment whatever the input said.
        const disposition = response.headers.get("content-disposition") ?? "";
        const name = decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(disposition)?.[1] ?? "");
        expect(name).toMatch(/\.pdf$/);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may be in a file name
        expect(name).not.toMatch(/[/\\\u0000-\u001f]|^\./);
        const text = squash((await pageTexts(body)).join(""));
        for (const wanted of attack.contains ?? []) expect(text).toContain(squash(wanted));
        for (const run of attack.printed ?? []) expect(countOf(text, run[0]!)).toBeGreaterThanOrEqual(run.length);
      } else {
        expect(ms).toBeLessThan(REFUSAL_MS);
        expect(body.byteLength).toBeLessThan(REFUSAL_BYTES);
        const refusal = JSON.parse(Buffer.from(body).toString("utf8")) as {
          error: string;
          errors: unknown[];
          truncated?: number;
        };
        expect(refusal.error).toBe(attack.error);
        expect(refusal.errors.length).toBeGreaterThan(0);
        expect(refusal.errors.length).toBeLessThanOrEqual(100);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  it("lists the first 100 of 90,000 schema errors and counts the rest", async () => {
    const attack = attacks.find((a) => a.name.includes("90,000"))!;
    const response = await postJson(`${service.url}/v1/render`, attack.body);
    const refusal = (await response.json()) as { errors: unknown[]; truncated: number; message: string };
    expect(refusal.errors).toHaveLength(100);
    expect(refusal.truncated).toBe(89_900);
    expect(refusal.message).toContain("90000 errors");
  });

  it("still answers /health and renders a normal report afterwards", async () => {
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    const response = await postJson(`${service.url}/v1/render`, exampleText, { accept: "application/pdf" });
    expect(response.status).toBe(200);
    expect((await pageTexts(await bytesOf(response))).length).toBe(7);
  });
});
