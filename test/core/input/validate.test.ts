import { readFileSync } from "node:fs";
import { join } from "node:path";
import addFormatsModule, { type FormatsPlugin } from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkSchema } from "../../../functions/core/input/validate.ts";
import { schemaPatterns } from "../../../functions/packages/schema-patterns.ts";
import { root } from "../../helpers/examples.ts";

// The core's schema checks: patterns on a linear-time engine (RE2) that answer as ECMAScript's
// RegExp does, uniqueItems and the formats that took more than linear time, each with the answers
// it gave before.

const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

const matches = (pattern: string, text: string) => checkSchema({ type: "string", pattern }, text).length === 0;

/** The indices of `texts` that a pattern refuses, all in one validation. */
function refusedIndices(pattern: string, texts: string[]): number[] {
  const issues = checkSchema({ type: "array", items: { type: "string", pattern } }, texts);
  return issues.map((i) => Number(i.path.slice(1)));
}

describe("schema patterns", () => {
  it("answer as JavaScript's RegExp with the u flag does, on generated patterns and texts", () => {
    const atoms = [
      ...[
        "a",
        "b",
        "é",
        "😀",
        ".",
        "-",
        " ",
        "\u3000",
        "^",
        "$",
        "\\b",
        "\\B",
        "\\d",
        "\\D",
        "\\w",
        "\\W",
        "\\s",
        "\\S",
      ],
      ...[
        "[ab]",
        "[^a]",
        "[]",
        "[^]",
        "[\\s]",
        "[\\S]",
        "[^\\s]",
        "[^\\S.]",
        "[a-c]",
        "[\\d-]",
        "[-a]",
        "[\\-\\]]",
        "[\\b]",
      ],
      ...[
        "\\u0041",
        "\\u{1F600}",
        "\\uD83D\\uDE00",
        "\\uD83D",
        "\\x41",
        "\\t",
        "\\n",
        "\\r",
        "\\v",
        "\\f",
        "\\0",
        "\\cJ",
      ],
      ...[
        "\\.",
        "\\/",
        "\\\\",
        "\\(",
        "\\[",
        "\\]",
        "\\{",
        "\\}",
        "\\|",
        "\\^",
        "\\$",
        "\\*",
        "\\+",
        "\\?",
        "[😀]",
        "[.]",
      ],
      ...[
        "\\p{L}",
        "\\P{L}",
        "\\p{Lu}",
        "\\p{sc=Han}",
        "\\p{Script=Latin}",
        "[\\p{Nd}x]",
        "[^\\u{1F600}]",
        "(?<name>a)",
      ],
    ];
    const quantifiers = ["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "+?"];
    const term = fc
      .tuple(fc.constantFrom(...atoms), fc.constantFrom(...quantifiers))
      .map(([atom, q]) => (/^(\^|\$|\\b|\\B)$/.test(atom) ? atom : atom + q));
    // Groups are not repeated: the reference, a backtracking engine, would take minutes on some.
    const sequence = fc.array(term, { maxLength: 4 }).map((terms) => terms.join(""));
    const group = fc.tuple(sequence, sequence, fc.constantFrom("(", "(?:")).map(([a, b, open]) => `${open}${a}|${b})?`);
    const pattern = fc.array(fc.oneof(term, group), { maxLength: 4 }).map((parts) => parts.join(""));
    const chars = [
      "a",
      "b",
      "A",
      "é",
      "😀",
      "\ud83d",
      "1",
      "٣",
      "_",
      " ",
      "\u3000",
      "\u00a0",
      "\t",
      "\n",
      "\r",
      "\u2028",
    ];
    const text = fc.array(fc.constantFrom(...chars, "\u000b", "\ufeff", "-", ".", "]", "中", "\u0008", "\0"), {
      maxLength: 6,
    });
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 4, maxLength: 4 }), (p, texts) => {
        const strings = texts.map((chars) => chars.join(""));
        let native: RegExp;
        try {
          native = new RegExp(p, "u");
        } catch {
          expect(() => refusedIndices(p, strings)).toThrow(/not an ECMAScript regular expression/);
          return;
        }
        const expected = strings.flatMap((t, i) => (native.test(t) ? [] : [i]));
        expect(refusedIndices(p, strings), `${p} on ${JSON.stringify(strings)}`).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("\\s, \\S and . mean what they mean in ECMAScript for every character of the BMP (RE2's own differ)", () => {
    const bmp = Array.from({ length: 0x10000 }, (_, i) => String.fromCharCode(i));
    for (const pattern of ["^\\s$", "^\\S$", "^.$", "^[^\\S\\n]$"]) {
      const native = new RegExp(pattern, "u");
      const expected = bmp.flatMap((c, i) => (native.test(c) ? [] : [i]));
      expect(refusedIndices(pattern, bmp), pattern).toEqual(expected);
    }
    // The ideographic space is a space; RE2's \S would have let a title of only U+3000 through.
    expect(matches("\\S", "\u3000\u3000")).toBe(false);
    expect(matches("^.$", "😀")).toBe(true);
  });

  it("the built-in templates' patterns answer as before", () => {
    const probes = [
      ...[
        "",
        " ",
        "\u3000",
        "\u00a0",
        "\ufeff",
        "\u2028",
        "a\u3000",
        "\t",
        "\n",
        "x",
        "zh-CN",
        "en",
        "e",
        "zh-Hans-CN",
      ],
      ...["zh--CN", "zh-CN-", "ab-ABCDEFGH", "abc-123456789", "12mm", "12.5%", "12.3456mm", "1e3mm", "１２mm", "٣mm"],
      ...["12 mm", "0", "5pt", "9999.999px", "10000px", "😀", "\ud800", "Ａ", "toolongtoolongtoolongtoolongtoolong1"],
    ];
    const patterns = ["report", "gov-disclosure-annual-report"].flatMap((t) =>
      schemaPatterns(JSON.parse(readFileSync(join(root, "templates", t, "schema.json"), "utf8"))).map((p) => p.pattern),
    );
    expect(patterns.length).toBeGreaterThanOrEqual(3);
    for (const pattern of patterns) {
      const native = new RegExp(pattern, "u");
      expect(refusedIndices(pattern, probes), pattern).toEqual(probes.flatMap((p, i) => (native.test(p) ? [] : [i])));
    }
  });

  it("a pattern that would backtrack exponentially answers in time linear in the text", () => {
    const schema = { type: "object", properties: { x: { type: "string", pattern: "^(a|a)*$" } } };
    const started = performance.now();
    for (const x of [`${"a".repeat(34)}!`, `${"a".repeat(5_000_000)}!`]) {
      expect(checkSchema(schema, { x })).toMatchObject([{ path: "/x", message: 'must match pattern "^(a|a)*$"' }]);
    }
    expect(checkSchema(schema, { x: "a".repeat(5_000_000) })).toEqual([]);
    // About 0.3 s here; the 34 letters alone took 117 s on a backtracking engine.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("patternProperties run on it too, and property names are not tried against them while compiling", () => {
    const evil = "^(a|a)*$";
    const started = performance.now();
    const issues = checkSchema(
      { type: "object", patternProperties: { [evil]: { type: "number" } } },
      { ["a".repeat(34)]: "x", [`${"a".repeat(34)}!`]: "y" },
    );
    expect(issues).toMatchObject([{ path: `/${"a".repeat(34)}`, message: "must be number" }]);
    // Strict mode used to test each name of `properties` against each pattern while compiling.
    const both = { type: "object", properties: { [`${"a".repeat(34)}!`]: {} }, patternProperties: { [evil]: {} } };
    expect(checkSchema(both, {})).toEqual([]);
    expect(performance.now() - started).toBeLessThan(20_000); // a runaway guard: it took 2 minutes
  });

  it("a pattern RE2 cannot run is refused when compiled, saying why", () => {
    const refusal = (pattern: string) => () => checkSchema({ type: "string", pattern }, "");
    expect(refusal("^(?=.*\\d).+$")).toThrow(/a lookahead "\(\?=" cannot run on the engine/);
    expect(refusal("(?<!x)y")).toThrow(/a lookbehind "\(\?<!"/);
    expect(refusal("(a)\\1")).toThrow(/a backreference \(\\1\)/);
    expect(refusal("(?<q>a)\\k<q>")).toThrow(/a backreference \(\\k<…>\)/);
    expect(refusal("\\p{Letter}")).toThrow(/the property \\p\{Letter\} is not one RE2/);
    expect(refusal("a{1001}")).toThrow(/the repeat \{1001\} is over 1000/);
    expect(refusal("(a{40}){30}")).toThrow(/repeats multiply past the 1000/);
    expect(refusal("(")).toThrow(/not an ECMAScript regular expression/);
    // Seven characters that RE2 compiles to 1,000 steps: 7 KB of them took 3 s and 450 MB to compile.
    const started = performance.now();
    expect(refusal("a{1000}".repeat(1000))).toThrow(
      /takes up to 1000002 steps for each character of the text, more than the 5000/,
    );
    expect(performance.now() - started).toBeLessThan(2_500); // milliseconds here; the compile took 3 s
  });
});

describe("uniqueItems", () => {
  const unique = { type: "object", properties: { list: { type: "array", uniqueItems: true } } };
  const duplicate = (list: unknown[]) => checkSchema(unique, { list }, "/data");

  it("finds items equal as JSON Schema says: members in any order, 1 and 1.0", () => {
    expect(duplicate([{ a: 1, b: [2, { c: 3, d: 4 }] }, 5, { b: [2, { d: 4, c: 3 }], a: 1 }])).toEqual([
      { rule: "schema", path: "/data/list", message: "must NOT have duplicate items (items ## 0 and 2 are identical)" },
    ]);
    expect(duplicate(JSON.parse("[[1, 2], [1.0, 2e0]]"))).toHaveLength(1);
    expect(duplicate(JSON.parse("[0, -0]"))).toHaveLength(1);
    expect(duplicate(["a", "b", "a"])[0]?.message).toBe(
      "must NOT have duplicate items (items ## 0 and 2 are identical)",
    );
  });

  it("tells apart items that only look alike", () => {
    const distinct = [
      1,
      "1",
      [1],
      { 1: 1 },
      null,
      "null",
      true,
      1.5,
      [1, 2],
      [2, 1],
      { a: 1 },
      { a: 1, b: null },
      [[1]],
    ];
    expect(duplicate(distinct)).toEqual([]);
  });

  it("takes linear time: 32,000 small arrays or objects", () => {
    const arrays = Array.from({ length: 32_000 }, (_, i) => [i % 7, i]);
    const objects = Array.from({ length: 32_000 }, (_, i) => ({ n: i, s: "x" }));
    const started = performance.now();
    expect(duplicate(arrays)).toEqual([]);
    expect(duplicate(objects)).toEqual([]);
    expect(duplicate([[-1], ...arrays, [-1]])[0]?.message).toBe(
      "must NOT have duplicate items (items ## 0 and 32001 are identical)",
    );
    // About 0.2 s here; comparing pairs took 13 s for the arrays and 64 s for the objects.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("keeps its place among the array's errors", () => {
    const schema = {
      type: "array",
      maxItems: 1,
      items: { type: "number" },
      contains: { type: "string" },
      uniqueItems: true,
    };
    expect(checkSchema(schema, [1, 1]).map((i) => i.message)).toEqual([
      "must NOT have more than 1 items",
      "must be string",
      "must be string",
      "must contain at least 1 valid item(s)",
      "must NOT have duplicate items (items ## 0 and 1 are identical)",
    ]);
  });
});

describe("formats", () => {
  const schemas = new Map<string, object>(); // one per format: checkSchema compiles once per schema object
  const valid = (format: string, text: string) => {
    const schema = schemas.get(format) ?? { type: "string", format };
    schemas.set(format, schema);
    return checkSchema(schema, text).length === 0;
  };
  const reference = (format: "url" | "byte" | "date-time" | "iso-date-time") => {
    const f = addFormats.get(format);
    const check = typeof f === "object" && !(f instanceof RegExp) ? f.validate : f;
    return (text: string) => {
      if (check instanceof RegExp) {
        check.lastIndex = 0;
        return check.test(text);
      }
      return (check as (text: string) => boolean)(text);
    };
  };

  it("url answers as ajv-formats' does, private IPv4 addresses included", () => {
    const url = reference("url");
    const octets = ["0", "1", "9", "10", "01", "016", "16", "31", "32", "99", "100", "126", "127", "128", "168"];
    const hosts = octets.flatMap((a) => octets.map((b) => `${a}.${b}`));
    for (const first of [...octets, "169", "172", "192", "223", "224", "254", "255", "256"])
      for (const host of [...hosts, "254.0", "168.0", "255.255"]) {
        for (const text of [
          `http://${first}.${host}.1`,
          `http://${first}.${host}.255`,
          `https://u@${first}.${host}.9:80/x`,
        ])
          expect(valid("url", text), text).toBe(url(text));
      }
    const piece = fc.constantFrom(
      ...[
        "a",
        "B",
        "0",
        "9",
        ".",
        "-",
        ":",
        "/",
        "@",
        "?",
        "#",
        "%",
        " ",
        "\u3000",
        "é",
        "\u212a",
        "😀",
        "\ud83d",
        "\n",
      ],
      ...["com", "xn--p1ai", "中国", "127.0.0.1", "192.168.0.1", ":8080", "user:pw@"],
    );
    const prefix = fc.constantFrom("http://", "https://", "ftp://", "HTTP://", "http:/", "mailto:", "", "http://a@");
    fc.assert(
      fc.property(prefix, fc.array(piece, { maxLength: 10 }), (p, pieces) => {
        const text = p + pieces.join("");
        expect(valid("url", text), text).toBe(url(text));
      }),
      { numRuns: 3000 },
    );
  });

  it("byte, date-time and iso-date-time answer as ajv-formats' do", () => {
    const b64 = fc.constantFrom("A", "z", "0", "+", "/", "=", "\n", "\r", "\u2028", " ", "-");
    fc.assert(
      fc.property(fc.array(b64, { maxLength: 12 }), (chars) => {
        const text = chars.join("");
        expect(valid("byte", text), text).toBe(reference("byte")(text));
      }),
      { numRuns: 3000 },
    );
    const part = fc.constantFrom(
      ...[
        "2020-01-01",
        "2020-02-30",
        "T",
        "t",
        " ",
        "\n",
        "\u3000",
        "12:00:00",
        "23:59:60",
        "Z",
        "+01:00",
        "-0130",
        ".5",
      ],
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 6 }), (parts) => {
        const text = parts.join("");
        for (const format of ["date-time", "iso-date-time"] as const)
          expect(valid(format, text), `${format} ${text}`).toBe(reference(format)(text));
      }),
      { numRuns: 3000 },
    );
  });

  it("on texts of megabytes, url, byte and date-time answer within seconds and never throw", () => {
    const started = performance.now();
    // 100,000 ":" after the scheme: ajv-formats' url backtracks through every pair (15 s or more).
    expect(valid("url", `http://a:${":".repeat(100_000)}=`)).toBe(false);
    // ajv-formats' byte overflowed V8's stack: the validation threw a RangeError.
    expect(valid("byte", `${"AAAA".repeat(1_250_000)}!`)).toBe(false);
    expect(valid("byte", "AAAA".repeat(1_250_000))).toBe(true);
    // Split at every "t": 1.5 s and 5 million strings for each.
    const dates = { type: "array", items: { type: "string", format: "date-time" } };
    expect(checkSchema(dates, Array(4).fill("t".repeat(5_000_000)))).toHaveLength(4);
    // About 0.3 s here.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
