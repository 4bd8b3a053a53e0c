import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "../helpers/examples.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { exampleText, postJson, startTestService, type TestService, waitFor } from "../helpers/local-service.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import {
  attackFiles,
  attackZip,
  HEAVY_PACKAGES,
  MONEY,
  PUBLISHED_ATTACKS,
  type PublishedAttack,
  REFUSED_ATTACKS,
  type RefusedAttack,
} from "./template-attacks.ts";

// Template packages that would stall, starve or mislead the service (issue 21), through every door:
// the check, publishing, POST /v1/render, jobs, uploads and the CLI. Each is refused with its code,
// and meanwhile the service answers /health as usual: a package's templating and schema run in the
// fence's threads, never on the event loop. Times are runaway guards only (npm run bench has the
// tight figures: refusals in well under a second, /health in milliseconds).

/** /health latency while an attack runs: its worst answer, in ms. Without the fence it took 46 s to minutes. */
const HEALTH_GUARD_MS = 5_000;
/** Memory the service process may grow by during the memory attack (it grew by 1.0–1.2 GB). */
const GROWTH_GUARD_BYTES = 400 * 1024 * 1024;

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
}, 120_000);
afterAll(() => service?.stop());

/** Polls /health every 50 ms until stopped; the worst latency seen (and how many answers). */
function watchHealth(): { stop(): Promise<{ worstMs: number; answers: number }> } {
  let running = true;
  let worstMs = 0;
  let answers = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(`${service.url}/health`);
      await response.arrayBuffer();
      if (response.status === 200) answers++;
      worstMs = Math.max(worstMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { worstMs, answers };
    },
  };
}

/** `work` with /health watched meanwhile; asserts it was answered throughout. */
async function whileHealthy<T>(what: string, work: () => Promise<T>): Promise<T> {
  const health = watchHealth();
  // One answer at least even when the attack is refused at once.
  await new Promise((resolve) => setTimeout(resolve, 60));
  const result = await work();
  const { worstMs, answers } = await health.stop();
  expect(answers, what).toBeGreaterThan(0);
  expect(worstMs, `${what}: /health waited`).toBeLessThan(HEALTH_GUARD_MS);
  return result;
}

function sendZip(method: "PUT" | "POST", path: string, zip: Uint8Array): Promise<Response> {
  return fetch(`${service.url}${path}`, {
    method,
    headers: { "content-type": "application/zip", accept: "application/json" },
    body: Buffer.from(zip),
  });
}

async function errorOf(response: Response): Promise<{ status: number; error: string; rules: string[]; bytes: number }> {
  const text = await response.text();
  const body = JSON.parse(text) as { error: string; errors?: { rule: string }[] };
  return {
    status: response.status,
    error: body.error,
    rules: (body.errors ?? []).map((e) => e.rule),
    bytes: text.length,
  };
}

const expectRefused = (
  got: { status?: number; error: string; rules: string[]; bytes?: number },
  attack: PublishedAttack | RefusedAttack,
  errorCode: string = attack.error,
) => {
  expect(got.error, attack.name).toBe(errorCode);
  if (got.status !== undefined) expect(got.status, attack.name).toBe(422);
  if (got.bytes !== undefined) expect(got.bytes, attack.name).toBeLessThan(64 * 1024);
  if (attack.rule && errorCode !== "too_complex") {
    expect(
      got.rules.some((r) => r === attack.rule || r.endsWith(`.${attack.rule}`)),
      `${attack.name}: ${got.rules}`,
    ).toBe(true);
  }
};

describe("packages whose own files are the attack: the check and publishing refuse them", () => {
  it.each(REFUSED_ATTACKS)("$name", async (attack) => {
    const zip = attackZip("attack-refused", attack.files);
    const checked = await whileHealthy(attack.name, () => sendZip("POST", "/v1/templates/check", zip));
    expectRefused(await errorOf(checked), attack);
    const published = await whileHealthy(attack.name, () => sendZip("PUT", "/v1/templates/attack-refused", zip));
    expectRefused(await errorOf(published), attack);
    const listed = (await (await fetch(`${service.url}/v1/templates/attack-refused`)).status) as number;
    expect(listed, attack.name).toBe(404);
  });
});

describe("published packages whose data is the attack: every door refuses the render", () => {
  beforeAll(async () => {
    for (const attack of PUBLISHED_ATTACKS) {
      const response = await sendZip("PUT", `/v1/templates/${attack.id}`, attackZip(attack.id, attack.files));
      expect(response.status, `${attack.name}: ${await response.clone().text()}`).toBe(201);
    }
  }, 120_000);

  it.each(PUBLISHED_ATTACKS)("POST /v1/render: $name", async (attack) => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    const response = await whileHealthy(attack.name, () =>
      postJson(`${service.url}/v1/render`, { template: attack.id, data: attack.data() }, { accept: "application/pdf" }),
    );
    clearInterval(sampler);
    expectRefused(await errorOf(response), attack);
    expect(peak - before, `${attack.name}: the process grew by`).toBeLessThan(GROWTH_GUARD_BYTES);
  });

  it.each(PUBLISHED_ATTACKS)("POST /v1/jobs: $name", async (attack) => {
    const accepted = await postJson(`${service.url}/v1/jobs`, { template: attack.id, data: attack.data() });
    if (accepted.status === 422) {
      // Refused at once: the schema runs before a job is queued.
      expectRefused(await errorOf(accepted), attack);
      return;
    }
    expect(accepted.status, attack.name).toBe(202);
    const { statusUrl } = (await accepted.json()) as { statusUrl: string };
    const state = await whileHealthy(attack.name, () =>
      waitFor(async () => {
        const body = (await (await fetch(statusUrl)).json()) as {
          status: string;
          error?: string;
          errors?: { rule: string }[];
        };
        return body.status === "failed" || body.status === "done" ? body : undefined;
      }, 120_000),
    );
    expect(state.status, attack.name).toBe("failed");
    expectRefused({ error: state.error ?? "", rules: (state.errors ?? []).map((e) => e.rule) }, attack);
  });

  it("uploads: each attack's JSON gets a small error file, no PDF", async () => {
    const { inputBucket, outputBucket } = service.config;
    for (const attack of PUBLISHED_ATTACKS) {
      const body = JSON.stringify({ template: attack.id, data: attack.data() });
      await service.storage.put(inputBucket, `incoming/fence/${attack.id}.json`, body);
    }
    await whileHealthy("uploads", () => service.uploadsIdle());
    for (const attack of PUBLISHED_ATTACKS) {
      const got = await service.storage.get(outputBucket, `fence/${attack.id}.error.json`);
      expect(got.found && "body" in got, attack.name).toBe(true);
      if (!got.found || !("body" in got)) continue;
      expect(got.body.byteLength, attack.name).toBeLessThan(64 * 1024);
      const error = JSON.parse(got.body.toString("utf8")) as { error: string; errors?: { rule: string }[] };
      expectRefused({ error: error.error, rules: (error.errors ?? []).map((e) => e.rule) }, attack);
      const pdf = await service.storage.get(outputBucket, `fence/${attack.id}.pdf`);
      expect(pdf.found, attack.name).toBe(false);
    }
  });

  it("afterwards the service renders as before: a built-in report, and each attack package with its example", async () => {
    const response = await postJson(`${service.url}/v1/render`, exampleText, { accept: "application/pdf" });
    expect(response.status).toBe(200);
    for (const attack of PUBLISHED_ATTACKS) {
      const example = JSON.parse(attack.files["example.json"] as string) as object;
      const rendered = await postJson(
        `${service.url}/v1/render`,
        { template: attack.id, data: example },
        { accept: "application/pdf" },
      );
      expect(rendered.status, attack.name).toBe(200);
    }
    const styled = await postJson(
      `${service.url}/v1/render`,
      { template: "attack-style-split", data: { evil: false, x: "none" } },
      { accept: "application/pdf" },
    );
    expect(squash((await pageTexts(new Uint8Array(await styled.arrayBuffer()))).join(""))).toContain("shown");
  });
});

describe("HTML that made the service's own scans of it quadratic", () => {
  it.each(HEAVY_PACKAGES)("$name: checked while /health is answered", async ({ name, files }) => {
    const response = await whileHealthy(name, () => sendZip("POST", "/v1/templates/check", attackZip("heavy", files)));
    expect([200, 422], `${name}: ${response.status}`).toContain(response.status);
  });
});

describe("the service's own HTML after a template's (font preload, watermark)", () => {
  const watermarked = async (id: string, template: string, watermark: string) => {
    const published = await sendZip("PUT", `/v1/templates/${id}`, attackZip(id, { "template.hbs": template }));
    expect(published.status).toBe(201);
    const response = await postJson(
      `${service.url}/v1/render`,
      { template: id, data: { title: "x" }, options: { watermark: { text: watermark } } },
      { accept: "application/pdf" },
    );
    expect(response.status).toBe(200);
    return squash((await pageTexts(new Uint8Array(await response.arrayBuffer()))).join(""));
  };

  it("is not swallowed by a <template> the template leaves open", async () => {
    expect(await watermarked("open-template", "<p>shown {{title}}</p><template>", "COPY-ONLY")).toContain("COPY-ONLY");
  });

  it("nor by a <style> left open: a caller's watermark text does not become CSS", async () => {
    const text = await watermarked("open-style", "<p>shown {{title}}</p><style>", "{} p { display: none }");
    expect(text).toContain("shown");
  });
});

describe("money is exact at every magnitude", () => {
  it("published and rendered over HTTP: the sum to the fen, its 人民币大写, a 17-digit addition", async () => {
    const published = await sendZip("PUT", `/v1/templates/${MONEY.id}`, attackZip(MONEY.id, MONEY.files));
    expect(published.status).toBe(201);
    const data = JSON.parse(MONEY.files["example.json"]) as object;
    const response = await postJson(
      `${service.url}/v1/render`,
      { template: MONEY.id, data },
      { accept: "application/pdf" },
    );
    expect(response.status).toBe(200);
    const printed = squash((await pageTexts(new Uint8Array(await response.arrayBuffer()))).join(""));
    for (const wanted of MONEY.printed) expect(printed).toContain(squash(wanted));
  });
});

// Each command is a process of its own that starts no Chromium for a refusal: they run side by side.
describe.concurrent("the CLI: template check and template render", () => {
  const work = tempDir("report-render-fence-cli-");
  const bin = join(root, "bin", "report-render.js");
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [bin, ...args],
        { cwd: work, encoding: "utf8", timeout: 120_000 },
        (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
  const folder = (name: string, files: Map<string, Uint8Array>) => {
    const dir = join(work, name);
    for (const [file, bytes] of files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), bytes);
    }
    return dir;
  };

  beforeAll(() => {
    execFileSync(process.execPath, [join(root, "bin", "build-cli.js")], { stdio: "inherit" });
  });

  it.each(REFUSED_ATTACKS)("template check: $name", async (attack) => {
    const dir = folder(`refused-${REFUSED_ATTACKS.indexOf(attack)}`, attackFiles("attack-refused", attack.files));
    const { code, stderr } = await cli(["template", "check", dir]);
    expect(code, `${attack.name}: ${stderr}`).toBe(2);
    expect(stderr.length).toBeLessThan(64 * 1024);
    expect(stderr, attack.name).toContain(attack.error === "too_complex" ? "[too-complex]" : `[${attack.rule ?? ""}`);
  });

  it("template render prints exact money", async () => {
    const dir = folder(MONEY.id, attackFiles(MONEY.id, MONEY.files));
    const out = join(work, "money.pdf");
    const { code, stderr } = await cli(["template", "render", dir, "-o", out]);
    expect(code, stderr).toBe(0);
    const printed = squash((await pageTexts(new Uint8Array(readFileSync(out)))).join(""));
    for (const wanted of MONEY.printed) expect(printed).toContain(squash(wanted));
  });

  it.each(PUBLISHED_ATTACKS)("template render: $name", async (attack) => {
    const dir = folder(attack.id, attackFiles(attack.id, attack.files));
    const data = join(work, `${attack.id}.data.json`);
    writeFileSync(data, JSON.stringify(attack.data()));
    const { code, stderr } = await cli(["template", "render", dir, data, "-o", join(work, `${attack.id}.pdf`)]);
    expect(code, `${attack.name}: ${stderr}`).toBe(2);
    const refusal = JSON.parse(stderr) as { error: string; errors?: { rule: string }[] };
    expectRefused({ error: refusal.error, rules: (refusal.errors ?? []).map((e) => e.rule) }, attack);
  });
});
