import { describe, expect, it } from "vitest";
import {
  batchLineOf,
  batchLinePdfKey,
  batchLinesPrefix,
  classifyInputKey,
  type InputObject,
  MAX_KEY_BYTES,
} from "../../functions/service/storage/keys.ts";

// classifyInputKey is the one place output keys are decided: these are the keys it must never make.

const ignoredBecause = (key: string) => {
  const target: InputObject = classifyInputKey(key);
  return target.kind === "ignored" ? target.reason : `not ignored: ${target.kind}`;
};

describe("batch outputs live under batches/, where no single upload can write", () => {
  it("puts line PDFs at batches/<batch>/<n>.pdf and the summary at <batch>.summary.json", () => {
    expect(classifyInputKey("incoming/a.jsonl")).toEqual({
      kind: "batch",
      inputKey: "incoming/a.jsonl",
      batch: "a",
      summaryKey: "a.summary.json",
    });
    expect(batchLinesPrefix("q3/all")).toBe("batches/q3/all/");
    expect(batchLinePdfKey("q3/all", 12)).toBe("batches/q3/all/12.pdf");
  });

  it("recognises only batches/<batch>/<n>.pdf as a line PDF of <batch>", () => {
    expect(batchLineOf("a", "batches/a/1.pdf")).toBe(1);
    expect(batchLineOf("a", "batches/a/12.pdf")).toBe(12);
    for (const key of [
      "a/1.pdf",
      "a/3.pdf",
      "batches/a/1/1.pdf",
      "batches/a/x.pdf",
      "batches/a/0.pdf",
      "batches/ab/1.pdf",
      "batches/a/1.result.json",
    ]) {
      expect(batchLineOf("a", key), key).toBeUndefined();
    }
  });

  it("ignores uploads whose outputs would land under batches/, jobs/ or renders/", () => {
    for (const key of [
      "incoming/batches/x.json",
      "incoming/batches/a/1.json",
      "incoming/batches/b.jsonl",
      "incoming/jobs/x.json",
      "incoming/renders/a.jsonl",
    ]) {
      expect(ignoredBecause(key), key).toMatch(/service's own (batches|jobs|renders)\/$/);
    }
    expect(classifyInputKey("incoming/batchesx/1.json").kind).toBe("report");
  });

  it("never gives two inputs the same output key", () => {
    const inputs = [
      "a.json",
      "a.jsonl",
      "a/1.json",
      "a/3.json",
      "a.summary.json",
      "a.result.json",
      "a.error.json",
      "a/1.pdf.json",
      "x.jsonl",
      "x/1.jsonl",
    ];
    const owners = new Map<string, string>();
    for (const input of inputs) {
      const target = classifyInputKey(`incoming/${input}`);
      const outputs =
        target.kind === "report"
          ? [target.pdfKey, target.resultKey, target.errorKey]
          : target.kind === "batch"
            ? [target.summaryKey, batchLinePdfKey(target.batch, 1), batchLinePdfKey(target.batch, 3)]
            : [];
      expect(outputs.length, input).toBeGreaterThan(0);
      for (const key of outputs) {
        expect(owners.get(key), `${key} of ${input}`).toBeUndefined();
        owners.set(key, input);
      }
    }
  });
});

describe("unsafe keys are ignored with a reason, never turned into output keys", () => {
  it("refuses . and .. segments, in the key or in the output path", () => {
    expect(ignoredBecause("incoming/x/../y.json")).toBe('the key has a ".." path segment');
    expect(ignoredBecause("incoming/../y.json")).toBe('the key has a ".." path segment');
    expect(ignoredBecause("incoming/./y.jsonl")).toBe('the key has a "." path segment');
    expect(ignoredBecause("incoming/a/..json")).toBe('the key has a "." path segment');
    expect(ignoredBecause("incoming/a/...json")).toBe('the key has a ".." path segment');
    expect(ignoredBecause("jobs/../jobs/x.json")).toBe('the key has a ".." path segment');
    // Dots inside a name are fine.
    expect(classifyInputKey("incoming/v1.2/..x.json")).toMatchObject({ kind: "report", pdfKey: "v1.2/..x.pdf" });
  });

  it("refuses empty segments", () => {
    for (const key of ["incoming//y.json", "incoming/a//y.json", "/incoming/y.json"]) {
      expect(ignoredBecause(key), key).toMatch(/empty path segment/);
    }
  });

  it("refuses control characters, U+0000–U+001F and U+007F", () => {
    expect(ignoredBecause("incoming/a\u0000b.json")).toBe("the key contains the control character U+0000");
    expect(ignoredBecause("incoming/a\nb.json")).toBe("the key contains the control character U+000A");
    expect(ignoredBecause("incoming/a\u001fb.jsonl")).toBe("the key contains the control character U+001F");
    expect(ignoredBecause("incoming/a\u007fb.json")).toBe("the key contains the control character U+007F");
    expect(classifyInputKey("incoming/年报 2020 (终稿).json").kind).toBe("report");
  });

  it("refuses a key whose outputs would be longer than S3's 1024 bytes", () => {
    // A single upload's outputs are 2 bytes shorter than its key, which S3 already caps.
    const longest = `incoming/${"x".repeat(MAX_KEY_BYTES - "incoming/".length - ".json".length)}.json`;
    expect(Buffer.byteLength(longest)).toBe(MAX_KEY_BYTES);
    expect(classifyInputKey(longest).kind).toBe("report");
    expect(ignoredBecause(`${longest.slice(0, -5)}xxxx.json`)).toBe(
      "its outputs' keys would be up to 1026 bytes long; S3 allows 1024",
    );

    // A batch's line PDFs are longer than its key: batches/ and /<n>.pdf.
    const batch = (bytes: number) => `incoming/${"年".repeat(bytes / 3)}.jsonl`;
    expect(classifyInputKey(batch(900)).kind).toBe("batch");
    expect(ignoredBecause(batch(1005))).toMatch(/outputs' keys would be up to \d+ bytes long; S3 allows 1024/);
  });
});
