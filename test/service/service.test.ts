import { describe, expect, it } from "vitest";
import { loadConfig, withOverrides } from "../../functions/service/settings.ts";
import { negotiate } from "../../functions/http/accept.ts";
import { contentDisposition } from "../../functions/service/storage/content-disposition.ts";
import {
  batchLineOf,
  batchLinePdfKey,
  classifyInputKey,
  decodeEventKey,
  encodeEventKey,
  jobPdfKey,
  jobRequestKey,
  jobStatusKey,
} from "../../functions/service/storage/keys.ts";

describe("S3 keys", () => {
  it("maps incoming/<path>.json to <path>.pdf, .result.json and .error.json", () => {
    expect(classifyInputKey("incoming/a/b/report.json")).toEqual({
      kind: "report",
      inputKey: "incoming/a/b/report.json",
      pdfKey: "a/b/report.pdf",
      resultKey: "a/b/report.result.json",
      errorKey: "a/b/report.error.json",
    });
    expect(classifyInputKey("incoming/年报 2020.json")).toMatchObject({ pdfKey: "年报 2020.pdf" });
  });

  it("maps incoming/<batch>.jsonl to batches/<batch>/<n>.pdf and <batch>.summary.json", () => {
    expect(classifyInputKey("incoming/q3/all.jsonl")).toEqual({
      kind: "batch",
      inputKey: "incoming/q3/all.jsonl",
      batch: "q3/all",
      summaryKey: "q3/all.summary.json",
    });
    expect(batchLinePdfKey("q3/all", 12)).toBe("batches/q3/all/12.pdf");
    expect(batchLineOf("q3/all", "batches/q3/all/12.pdf")).toBe(12);
    expect(batchLineOf("q3/all", "q3/all/12.pdf")).toBeUndefined();
    expect(batchLineOf("q3/all", "batches/q3/all/other.pdf")).toBeUndefined();
    expect(batchLineOf("q3/all", "batches/q3/allx/1.pdf")).toBeUndefined();
  });

  it("lets names that only start like the service's folders through: their outputs are not under them", () => {
    for (const key of ["incoming/jobs.json", "incoming/renders.json", "incoming/batches.jsonl"]) {
      expect(classifyInputKey(key).kind, key).not.toBe("ignored");
    }
  });

  it("knows job keys", () => {
    const id = "0b6c3c1e-8d43-4f7e-9d0a-1f2e3d4c5b6a";
    expect(classifyInputKey(jobRequestKey(id))).toEqual({ kind: "job", inputKey: `jobs/${id}.json`, jobId: id });
    expect(jobStatusKey(id)).toBe(`jobs/${id}/status.json`);
    expect(jobPdfKey(id, "r.pdf")).toBe(`jobs/${id}/r.pdf`);
    expect(classifyInputKey("jobs/not-a-uuid.json").kind).toBe("ignored");
  });

  it("ignores other objects, and uploads whose outputs would land on the service's own keys", () => {
    for (const key of [
      "incoming/x.txt",
      "incoming/.json",
      "incoming/dir/.json",
      "other/x.json",
      "incoming/jobs/x.json",
      "incoming/renders/a.jsonl",
      "incoming/batches/x.json",
      "incoming/a\\..\\x.json", // a path out of "a" for Windows tools
      "incoming/report\u202Egpj.json", // a right-to-left override that disguises the name
      "incoming/c1\u0085.json", // a C1 control character
    ]) {
      expect(classifyInputKey(key).kind, key).toBe("ignored");
    }
    expect(classifyInputKey("incoming/jobsite/x.json").kind).toBe("report");
  });

  it("decodes keys as S3 notifications encode them, and back", () => {
    expect(decodeEventKey("incoming/my+report%E5%B9%B4.json")).toBe("incoming/my report年.json");
    expect(decodeEventKey("incoming/a%2Bb.json")).toBe("incoming/a+b.json");
    for (const key of ["incoming/a b+c/年报.json", "incoming/100%.json"])
      expect(decodeEventKey(encodeEventKey(key))).toBe(key);
  });
});

describe("Accept negotiation", () => {
  const offers = ["application/pdf", "application/json"] as const;
  it("prefers what the client asks for, by q", () => {
    expect(negotiate(undefined, offers)).toBe("application/pdf");
    expect(negotiate("*/*", offers)).toBe("application/pdf");
    expect(negotiate("application/json", offers)).toBe("application/json");
    expect(negotiate("application/json, application/pdf;q=0.5", offers)).toBe("application/json");
    expect(negotiate("application/*;q=0.2, application/json;q=0.9", offers)).toBe("application/json");
    expect(negotiate("application/pdf;q=0, */*", offers)).toBe("application/json");
    expect(negotiate("text/html", offers)).toBeUndefined();
  });
});

describe("config", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      presignTtlSeconds: 900,
      maxBodyBytes: 5 * 1024 * 1024,
      maxPages: 500,
      renderTimeoutMs: 50_000,
      maxResponseBytes: 6 * 1024 * 1024,
      s3: { endpoint: undefined, forcePathStyle: false, credentials: undefined },
    });
  });

  it("reads the environment, and refuses a limit that is not a positive number", () => {
    const config = loadConfig({
      S3_ENDPOINT: "http://127.0.0.1:4569",
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      MAX_PAGES: "10",
    });
    expect(config.s3).toMatchObject({
      endpoint: "http://127.0.0.1:4569",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER" },
    });
    expect(config.maxPages).toBe(10);
    expect(() => loadConfig({ MAX_BODY_BYTES: "5MB" })).toThrow(/MAX_BODY_BYTES/);
    expect(withOverrides(config, { s3: { region: "eu-west-1" } }).s3).toMatchObject({
      region: "eu-west-1",
      forcePathStyle: true,
    });
  });
});

describe("Content-Disposition", () => {
  it("carries any file name in filename*, with an ASCII fallback", () => {
    expect(contentDisposition("attachment", "湛河区-2020-年报.pdf")).toBe(
      `attachment; filename="2020.pdf"; filename*=UTF-8''${encodeURIComponent("湛河区-2020-年报.pdf")}`,
    );
    expect(contentDisposition("inline", 'a "b".pdf')).toBe(
      `inline; filename="a b.pdf"; filename*=UTF-8''a%20%22b%22.pdf`,
    );
    expect(contentDisposition("attachment", "年报.pdf")).toMatch(/filename="download\.pdf"/);
  });
});
