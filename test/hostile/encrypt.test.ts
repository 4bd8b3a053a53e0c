import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getDocument, PasswordResponses } from "pdfjs-dist/legacy/build/pdf.mjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "../helpers/examples.ts";
import { bytesOf, postJson, startTestService, type TestService, waitFor } from "../helpers/local-service.ts";
import { tempDir } from "../helpers/temp-dir.ts";

// options.pdf.encrypt through every way in that takes an envelope (POST /v1/render, POST /v1/jobs,
// the CLI): bad passwords and permissions are refused with the path that is wrong, good ones give a
// file only they open, and no password ever comes back, in an answer, a log line, a job state or
// anything else written to the output bucket.

const BODY = "Sealed quarterly figures for the board.";
const envelope = (pdf: unknown) => ({
  template: "report",
  data: { title: "Sealed", lang: "en-GB", blocks: [{ type: "paragraph", text: BODY }] },
  options: { pdf },
});

/** pdf.js's text of every page, or the PasswordException's code. */
async function textWith(pdf: Uint8Array, password?: string): Promise<string | number> {
  try {
    const doc = await getDocument({ data: new Uint8Array(pdf), password, verbosity: 0, isEvalSupported: false })
      .promise;
    let text = "";
    for (let i = 1; i <= doc.numPages; i++) {
      const content = await (await doc.getPage(i)).getTextContent();
      text += content.items.map((item) => ("str" in item ? item.str : "")).join("");
    }
    await doc.destroy();
    return text;
  } catch (e) {
    if ((e as Error).name !== "PasswordException") throw e;
    return (e as { code: number }).code;
  }
}

/** Passwords (and wrong-typed values in their place) that must never be seen again: each unique. */
const SECRET = {
  long: `long-${"x".repeat(123)}`, // 128 characters
  number: 918_273_645,
  bell: "bell\u0007-secret-4471",
  mixed: "abc-secret-אבג",
  lone: "lone-\uD800-secret-5823",
  same: "same-secret-9961",
  pdfa: "pdfa-secret-3307",
  whole: "whole-secret-7719",
};

interface Refusal {
  name: string;
  pdf: unknown;
  status: number;
  error: string;
  path: string;
  secret?: string | number;
}

const refusals: Refusal[] = [
  {
    name: "a user password of 128 characters",
    pdf: { encrypt: { userPassword: SECRET.long } },
    status: 400,
    error: "invalid_envelope",
    path: "/options/pdf/encrypt/userPassword",
    secret: SECRET.long,
  },
  {
    name: "an empty owner password",
    pdf: { encrypt: { ownerPassword: "" } },
    status: 400,
    error: "invalid_envelope",
    path: "/options/pdf/encrypt/ownerPassword",
  },
  {
    name: "a password that is a number",
    pdf: { encrypt: { userPassword: SECRET.number } },
    status: 400,
    error: "invalid_envelope",
    path: "/options/pdf/encrypt/userPassword",
    secret: SECRET.number,
  },
  {
    name: "encrypt given as a password string",
    pdf: { encrypt: SECRET.whole },
    status: 400,
    error: "invalid_envelope",
    path: "/options/pdf/encrypt",
    secret: SECRET.whole,
  },
  {
    name: "encrypt without a password or permissions",
    pdf: { encrypt: {} },
    status: 400,
    error: "invalid_envelope",
    path: "/options/pdf/encrypt",
  },
  {
    name: "a permission that is not a boolean",
    pdf: { encrypt: { userPassword: "u", permissions: { print: "yes" } } },
    status: 400,
    error: "invalid_envelope",
    path: "/options/pdf/encrypt/permissions/print",
  },
  {
    name: "a permission the service does not know",
    pdf: { encrypt: { userPassword: "u", permissions: { annotate: false } } },
    status: 400,
    error: "invalid_envelope",
    path: "/options/pdf/encrypt/permissions/annotate",
  },
  {
    name: "encryption with PDF/A",
    pdf: { standard: "PDF/A-2b", encrypt: { userPassword: SECRET.pdfa } },
    status: 422,
    error: "invalid_options",
    path: "/options/pdf/encrypt",
    secret: SECRET.pdfa,
  },
  {
    name: "a control character SASLprep prohibits",
    pdf: { encrypt: { userPassword: SECRET.bell } },
    status: 422,
    error: "invalid_options",
    path: "/options/pdf/encrypt/userPassword",
    secret: SECRET.bell,
  },
  {
    name: "left-to-right and right-to-left letters mixed",
    pdf: { encrypt: { ownerPassword: SECRET.mixed } },
    status: 422,
    error: "invalid_options",
    path: "/options/pdf/encrypt/ownerPassword",
    secret: SECRET.mixed,
  },
  {
    // JSON may carry a lone surrogate; it is repaired to U+FFFD, which SASLprep prohibits.
    name: "an unpaired surrogate",
    pdf: { encrypt: { userPassword: SECRET.lone } },
    status: 422,
    error: "invalid_options",
    path: "/options/pdf/encrypt/userPassword",
    secret: SECRET.lone.replace("\uD800", "\uFFFD"),
  },
  {
    name: "an owner password SASLprep leaves empty (soft hyphens)",
    pdf: { encrypt: { userPassword: "u", ownerPassword: "\u00AD\u00AD" } },
    status: 422,
    error: "invalid_options",
    path: "/options/pdf/encrypt/ownerPassword",
  },
  {
    name: "the owner password equal to the user password, permissions withheld",
    pdf: { encrypt: { userPassword: SECRET.same, ownerPassword: SECRET.same, permissions: { copy: false } } },
    status: 422,
    error: "invalid_options",
    path: "/options/pdf/encrypt/ownerPassword",
    secret: SECRET.same,
  },
];

/** JSON text as a string would appear in any answer, log or file: raw, and JSON-escaped. */
function forms(secret: string | number): string[] {
  const text = String(secret);
  return [text, JSON.stringify(text).slice(1, -1)];
}

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.stop());

describe("POST /v1/render with options.pdf.encrypt", () => {
  for (const refusal of refusals) {
    it(`${refusal.name}: ${refusal.status} ${refusal.error} at ${refusal.path}, the password not repeated`, async () => {
      const response = await postJson(`${service.url}/v1/render`, envelope(refusal.pdf), {
        accept: "application/pdf",
      });
      const text = Buffer.from(await bytesOf(response)).toString("utf8");
      expect(response.status, text).toBe(refusal.status);
      const body = JSON.parse(text) as { error: string; errors: { path: string }[] };
      expect(body.error).toBe(refusal.error);
      expect(body.errors.map((e) => e.path)).toContain(refusal.path);
      if (refusal.secret !== undefined) {
        const seen = `${text}\n${[...response.headers].join("\n")}\n${JSON.stringify(service.logs)}`;
        for (const form of forms(refusal.secret)) expect(seen).not.toContain(form);
      }
    });
  }

  it("takes a 127-character password, one outside the BMP, and an empty user password beside an owner's", async () => {
    const cases: [unknown, string | undefined][] = [
      [{ userPassword: "p".repeat(127) }, "p".repeat(127)],
      [{ userPassword: "🔐𠀋-pw" }, "🔐𠀋-pw"],
      [{ userPassword: "", ownerPassword: "owner-pw", permissions: { copy: false } }, undefined],
    ];
    for (const [encrypt, password] of cases) {
      const response = await postJson(`${service.url}/v1/render`, envelope({ encrypt }), {
        accept: "application/pdf",
      });
      expect(response.status).toBe(200);
      const pdf = await bytesOf(response);
      expect(response.headers.get("x-report-sha256")).toMatch(/^[0-9a-f]{64}$/);
      expect(await textWith(pdf, password)).toContain(BODY);
      if (password) expect(await textWith(pdf)).toBe(PasswordResponses.NEED_PASSWORD);
    }
  });
});

describe("a job with options.pdf.encrypt", () => {
  it("renders a file only the password opens; its state, its logs and the output bucket never hold the password", async () => {
    const password = "job-secret-6402";
    const response = await postJson(`${service.url}/v1/jobs`, envelope({ encrypt: { userPassword: password } }));
    expect(response.status).toBe(202);
    const { statusUrl } = (await response.json()) as { statusUrl: string };
    const state = await waitFor(async () => {
      const text = await (await fetch(statusUrl)).text();
      const status = (JSON.parse(text) as { status: string }).status;
      return status === "done" || status === "failed" ? text : undefined;
    });
    const done = JSON.parse(state) as { status: string; url: string };
    expect(done.status).toBe("done");
    const pdf = await bytesOf(await fetch(done.url));
    expect(await textWith(pdf, password)).toContain(BODY);
    expect(await textWith(pdf)).toBe(PasswordResponses.NEED_PASSWORD);

    expect(state).not.toContain(password);
    expect(JSON.stringify(service.logs)).not.toContain(password);
    // Everything the service wrote to its output bucket (job states, PDFs, sidecars), byte for byte.
    const output = join(service.dir, "s3", service.config.outputBucket);
    const files = readdirSync(output, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(readFileSync(join(f.parentPath, f.name)).includes(password), f.name).toBe(false);
    }
  });
});

describe("the CLI with options.pdf.encrypt", () => {
  const bin = join(root, "bin", "report-render.js");
  const cwd = tempDir("report-render-hostile-encrypt-");
  const cli = (input: unknown, args: string[] = []) => {
    const run = spawnSync(process.execPath, [bin, "-", ...args], {
      cwd,
      input: JSON.stringify(input),
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: run.status, out: `${run.stdout}\n${run.stderr}` };
  };
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "ignore" });
  });

  it("writes a file only the password opens, and never prints the password", async () => {
    const password = "cli-secret-1187";
    const file = join(cwd, "sealed.pdf");
    const { code, out } = cli(envelope({ encrypt: { userPassword: password } }), ["-o", file]);
    expect(code, out).toBe(0);
    expect(out).not.toContain(password);
    const pdf = new Uint8Array(readFileSync(file));
    expect(await textWith(pdf, password)).toContain(BODY);
    expect(await textWith(pdf, "cli-secret-1188")).toBe(PasswordResponses.INCORRECT_PASSWORD);
  });

  for (const refusal of refusals.filter((r) => r.secret !== undefined)) {
    it(`${refusal.name}: exit 2, ${refusal.error} at ${refusal.path}, the password not printed`, () => {
      const { code, out } = cli(envelope(refusal.pdf));
      expect(code, out).toBe(2);
      expect(out).toContain(refusal.error);
      expect(out).toContain(refusal.path);
      for (const form of forms(refusal.secret as string | number)) expect(out).not.toContain(form);
    });
  }
});
