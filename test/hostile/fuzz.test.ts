import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { InputError, LimitError } from "../../functions/core/errors.ts";
import { renderReport, validateReport, closeRenderer } from "../helpers/render.ts";
import { describeFailure } from "../../functions/service/failure.ts";
import { example } from "../helpers/examples.ts";

// Property-based attacks on the envelope and both templates' data: whatever the JSON, the core
// answers with a result or a refusal the doors can describe (never a fault of ours), and a
// refusal is small.
afterAll(() => closeRenderer());

/** A refusal every door can describe (4xx), or rethrow: a fault of ours fails the property. */
function refusedCleanly(e: unknown): true {
  if (!(e instanceof InputError) && !(e instanceof LimitError)) throw e;
  const failure = describeFailure(e);
  expect(failure?.status).toBeGreaterThanOrEqual(400);
  expect(failure?.status).toBeLessThan(500);
  expect(JSON.stringify(failure?.body).length).toBeLessThan(64 * 1024);
  return true;
}

async function validates(input: unknown): Promise<boolean> {
  try {
    await validateReport(input);
    return true;
  } catch (e) {
    return !refusedCleanly(e);
  }
}

/** Replace the value at a random path of `root` with `value` (a mutation of a valid document). */
function mutate(root: unknown, choices: number[], value: unknown): unknown {
  const copy = structuredClone(root);
  let node: unknown = copy;
  for (const choice of choices) {
    if (node === null || typeof node !== "object") break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[choice % keys.length] as string;
    const child = (node as Record<string, unknown>)[key];
    if (child === null || typeof child !== "object" || choice % 3 === 0) {
      (node as Record<string, unknown>)[key] = value;
      return copy;
    }
    node = child;
  }
  return copy;
}

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ unit: "binary", maxLength: 50 }),
  fc.constantFrom(
    1e308,
    -1e308,
    -0,
    1_000_000_000,
    -1,
    0.5,
    "",
    "\ud800",
    "__proto__",
    "../../x",
    "\u0000",
    "<script>",
    null,
  ),
);

describe("fuzzing the core", () => {
  it("any JSON value as an envelope is rendered or refused cleanly", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        await validates(value);
        await validates({ template: "report", data: value });
        await validates({ template: "gov-disclosure-annual-report", data: value });
        await validates({ template: "report", data: { title: "x", blocks: [] }, options: value });
      }),
      { numRuns: 300 },
    );
  });

  for (const [name, file] of [
    ["report", "report-showcase.json"],
    ["gov-disclosure-annual-report", "zhanhe-transport-2020.json"],
  ] as const) {
    it(`mutations of a valid ${name} document are rendered or refused cleanly`, async () => {
      const valid = example(file);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), hostileValue, async (choices, value) => {
          await validates(mutate(valid, choices, value));
        }),
        { numRuns: 400 },
      );
    });
  }

  it("mutated documents that pass validation render to a PDF", async () => {
    const valid = example("report-showcase.json");
    const candidates = fc
      .sample(fc.tuple(fc.array(fc.nat(), { minLength: 2, maxLength: 8 }), hostileValue), { numRuns: 200, seed: 7 })
      .map(([choices, value]) => mutate(valid, choices, value));
    const accepted: unknown[] = [];
    for (const input of candidates) if (accepted.length < 4 && (await validates(input))) accepted.push(input);
    expect(accepted.length).toBeGreaterThan(0);
    for (const input of accepted) {
      const result = await renderReport(input).catch((e: unknown) => refusedCleanly(e));
      if (result !== true) expect(result.pages).toBeGreaterThan(0);
    }
  });
});
