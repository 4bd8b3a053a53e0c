import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchSummary } from "../../functions/upload/batch.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { exampleText, startTestService, type TestService } from "../helpers/local-service.ts";
import { attacks } from "./attacks.ts";

// Every attack as an uploaded file and as the lines of one batch: each gets its PDF or a small error
// file, the upload path stays up, and a normal upload right after renders.
let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

const safeName = (name: string) => name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();

async function output(key: string): Promise<Buffer | undefined> {
  const got = await service.storage.get(service.config.outputBucket, key);
  return got.found && !("tooLarge" in got) ? got.body : undefined;
}

describe("uploads under attack", () => {
  it("every attack uploaded as a file gets its PDF or a small error file", async () => {
    const { inputBucket } = service.config;
    for (const attack of attacks) {
      await service.storage.put(inputBucket, `incoming/hostile/${safeName(attack.name)}.json`, attack.body);
    }
    await service.uploadsIdle();
    for (const attack of attacks) {
      const path = `hostile/${safeName(attack.name)}`;
      if (attack.status === 200) {
        const pdf = await output(`${path}.pdf`);
        expect(pdf, attack.name).toBeDefined();
        const text = squash((await pageTexts(new Uint8Array(pdf!))).join(""));
        for (const wanted of attack.contains ?? []) expect(text, attack.name).toContain(squash(wanted));
      } else {
        const error = await output(`${path}.error.json`);
        expect(error, attack.name).toBeDefined();
        expect(error!.byteLength, attack.name).toBeLessThan(64 * 1024);
        expect(JSON.parse(error!.toString("utf8")), attack.name).toMatchObject({ error: attack.error });
        expect(await output(`${path}.pdf`), attack.name).toBeUndefined();
      }
    }
  });

  it("every attack as a line of one batch: a summary with an entry for every line, under 64 KB a refusal", async () => {
    const lines = attacks.map((a) => a.body.replace(/^\uFEFF/, "")).filter((body) => !body.includes("\n"));
    await service.storage.put(
      service.config.inputBucket,
      "incoming/hostile-batch.jsonl",
      `\uFEFF${lines.join("\n")}\n`,
    );
    await service.uploadsIdle();
    const summary = JSON.parse((await output("hostile-batch.summary.json"))!.toString("utf8")) as BatchSummary;
    expect(summary.lines).toBe(lines.length);
    expect(summary.items).toHaveLength(lines.length);
    for (const item of summary.items) {
      if (item.status === "failed") expect(JSON.stringify(item).length).toBeLessThan(64 * 1024);
    }
    expect(summary.rendered).toBe(attacks.filter((a) => a.status === 200).length);
  });

  it("a JSONL of 1,000,000 short lines (2 MB): the first 1,000 answered, the rest in one entry, quickly", async () => {
    const started = performance.now();
    await service.storage.put(service.config.inputBucket, "incoming/million.jsonl", "x\n".repeat(1_000_000));
    await service.uploadsIdle();
    const summary = JSON.parse((await output("million.summary.json"))!.toString("utf8")) as BatchSummary;
    expect(summary.lines).toBe(1_000_000);
    expect(summary.items).toHaveLength(1_001);
    expect(summary.items[1_000]).toMatchObject({ line: 1_001, status: "failed", error: "body_too_large" });
    expect(JSON.stringify(summary.items[1_000])).toContain("lines 1001 to 1000000 were not rendered");
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it("renders a normal upload right after", async () => {
    await service.storage.put(service.config.inputBucket, "incoming/after.json", exampleText);
    await service.uploadsIdle();
    expect((await pageTexts(new Uint8Array((await output("after.pdf"))!))).length).toBe(7);
  });
});
