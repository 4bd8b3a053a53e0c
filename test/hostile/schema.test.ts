import { describe, expect, it } from "vitest";
import { readPackageZip, writeZip } from "../../functions/packages/index.ts";
import { describeFailure } from "../../functions/service/failure.ts";
import { fence } from "../helpers/fence.ts";
import { baseFiles } from "../helpers/package-zips.ts";
import { renderer } from "../helpers/render.ts";

// A template package's schema is written by whoever publishes it, and its data by whoever renders:
// together they must not hold a process. Patterns run on RE2 (no backtracking) and uniqueItems in
// linear time, so each attack is refused as the README promises: a 422 within 2 s.

/** A package with `schema` (for `{{title}}` and whatever else), checked as a publication would be. */
async function published(schema: object, example: object) {
  const checked = await fence.check(
    readPackageZip(
      writeZip(baseFiles({ "schema.json": JSON.stringify(schema), "example.json": JSON.stringify(example) })),
    ),
  );
  expect(checked.ok ? [] : checked.problems).toEqual([]);
  if (!checked.ok) throw new Error("the package was refused");
  return checked.package.source;
}

/** Renders `data` with the package; the failure as a door would answer it, and how long it took. */
async function refusal(source: Awaited<ReturnType<typeof published>>, data: object) {
  const started = performance.now();
  const answer = await renderer
    .render({ template: "hostile", data }, { template: source })
    .then(() => undefined)
    .catch((e: unknown) => describeFailure(e));
  return { answer, ms: performance.now() - started };
}

describe("a published schema with a pattern that backtracks exponentially", () => {
  it("publishes, and its data of 34 letters and a '!' is refused (422) within seconds, not after minutes", async () => {
    const source = await published(
      { type: "object", properties: { title: { type: "string", pattern: "^(a|a)*$" } } },
      { title: "aaa" },
    );
    const { answer, ms } = await refusal(source, { title: `${"a".repeat(34)}!` });
    expect(answer).toMatchObject({
      status: 422,
      body: { error: "invalid_data", errors: [{ path: "/title", message: 'must match pattern "^(a|a)*$"' }] },
    });
    // A few ms of matching (a thread may start first: 0.6 s); a backtracking engine took 117 s.
    expect(ms).toBeLessThan(10_000);
  });

  it("as a patternProperties name beside a property name it would backtrack on, publishes within seconds", async () => {
    const name = `${"a".repeat(34)}!`;
    const started = performance.now();
    const source = await published(
      {
        type: "object",
        properties: { title: { type: "string" }, [name]: { type: "string" } },
        patternProperties: { "^(a|a)*$": { type: "number" } },
      },
      { title: "x" },
    );
    // About 0.3 s (the check's thread starts); strict mode tried the name against the pattern: minutes.
    expect(performance.now() - started).toBeLessThan(5_000);
    const { answer, ms } = await refusal(source, { title: "x", [name.slice(0, -1)]: "not a number" });
    expect(answer).toMatchObject({
      status: 422,
      body: { errors: [{ path: `/${"a".repeat(34)}`, message: "must be number" }] },
    });
    expect(ms).toBeLessThan(10_000);
  });
});

describe("uniqueItems over many small objects", () => {
  it("a duplicate among 32,000 small objects is found (422) within seconds, not after comparing every pair", async () => {
    const source = await published(
      { type: "object", properties: { title: { type: "string" }, rows: { type: "array", uniqueItems: true } } },
      { title: "x", rows: [{ n: 1 }, { n: 2 }] },
    );
    // The pair up front: ajv compared each item with every earlier one, from the end (a minute).
    const rows = [{ n: -1 }, { n: -1 }, ...Array.from({ length: 32_000 }, (_, i) => ({ n: i }))];
    const { answer, ms } = await refusal(source, { title: "x", rows });
    expect(answer).toMatchObject({
      status: 422,
      body: {
        error: "invalid_data",
        errors: [{ path: "/rows", message: "must NOT have duplicate items (items ## 0 and 1 are identical)" }],
      },
    });
    // About 0.4 s here: the data goes to a thread and is checked against the limits first.
    expect(ms).toBeLessThan(5_000);
  });
});
