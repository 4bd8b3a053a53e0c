import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../functions/core/errors.ts";
import { createTemplateRegistry } from "../../functions/core/template/templates.ts";
import { cnyUpper } from "../../functions/packages/cny-upper.ts";
import { fence } from "../helpers/fence.ts";
import { pageTexts, squash } from "../helpers/pdf.ts";
import { renderer, closeRenderer } from "../helpers/render.ts";

// Money through the package helpers: exact to the fen at every magnitude, whatever a double would
// make of it, and results that other helpers, `eq` and `#if` take as they take the data's numbers.

afterAll(closeRenderer);

let n = 0;

function source(template: string) {
  return fence.uncheckedSource({
    manifest: { id: `money-${++n}`, title: "Money" },
    template,
    partials: {},
    css: "",
    schema: { type: "object" },
    example: {},
    uses: { chart: false, qrcode: false },
  });
}

/** `template` as a package's, rendered as the core renders one (behind the packages' fence). */
function compile(template: string): (data: object) => Promise<string> {
  const src = source(template);
  const compiled = createTemplateRegistry([src]).get(src.definition.id);
  return async (data) => (await compiled.render(data, AbortSignal.timeout(60_000))).html;
}

const render = (template: string, data: object = {}) => compile(template)(data);

async function failure(template: string, data: object = {}): Promise<string> {
  try {
    await render(template, data);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).issues[0]?.message ?? "";
  }
  throw new Error(`${template} rendered`);
}

const BILL = [
  '<p>合计 {{formatNumber (sum items "amount") decimals=2}}</p>',
  '<p>大写 {{cnyUpper (sum items "amount")}}</p>',
  '<p>加 {{add "123456789012345.67" "0.01"}}</p>',
].join("");

describe("the amounts of issue 21, as printed", () => {
  it("a total past 2^53 hundredths is to the fen, in figures and in 大写, in the PDF", async () => {
    const result = await renderer.render(
      { template: "money", data: { items: [{ amount: "90071992547409.90" }, { amount: "0.03" }] } },
      { template: source(BILL) },
    );
    const text = squash((await pageTexts(result.pdf)).join(""));
    expect(text).toContain("合计90,071,992,547,409.93");
    expect(text).toContain("大写玖拾万零柒佰壹拾玖亿玖仟贰佰伍拾肆万柒仟肆佰零玖元玖角叁分");
    expect(text).toContain("加123456789012345.68");
  });
});

/** Fen that 大写 writes (under 10^16 yuan), and that two of them add up to. */
const LARGEST = 5n * 10n ** 17n;

/** An amount of up to 16 digits of yuan and 2 of fen, as a numeric string, with its value in fen. */
const amount = fc.tuple(fc.bigInt({ min: -LARGEST, max: LARGEST }), fc.boolean()).map(([fen, padded]) => {
  const sign = fen < 0n ? "-" : "";
  const digits = (fen < 0n ? -fen : fen).toString().padStart(3, "0");
  const yuan = `${sign}${digits.slice(0, -2)}`;
  const cents = digits.slice(-2);
  // "12.50" as a form sends it, or "12.5" as a program would.
  const text = padded ? `${yuan}.${cents}` : `${yuan}.${cents}`.replace(/\.?0+$/, "") || "0";
  return { text: text === "-0" ? "0" : text, fen };
});

/** Fen as the decimal plain notation writes it: 1230n → "12.3", -5n → "-0.05". */
function yuan(fen: bigint, places = 2): string {
  const sign = fen < 0n ? "-" : "";
  const digits = (fen < 0n ? -fen : fen).toString().padStart(places + 1, "0");
  const fraction = digits.slice(-places).replace(/0+$/, "");
  return `${sign}${digits.slice(0, -places)}${fraction ? `.${fraction}` : ""}`;
}

function grouped(fen: bigint): string {
  const sign = fen < 0n ? "-" : "";
  const digits = (fen < 0n ? -fen : fen).toString().padStart(3, "0");
  return `${sign}${digits.slice(0, -2).replace(/\B(?=(\d{3})+$)/g, ",")}.${digits.slice(-2)}`;
}

describe("exact at every magnitude the helpers take", () => {
  const arithmetic = compile(
    "{{add a b}}|{{subtract a b}}|{{multiply a b}}|{{sum list}}|{{formatNumber (add a b) decimals=2}}|{{cnyUpper (subtract a b)}}",
  );

  it("add, subtract, multiply, sum, formatNumber and cnyUpper agree with integer arithmetic in fen", async () => {
    await fc.assert(
      fc.asyncProperty(amount, amount, async (a, b) => {
        const out = (await arithmetic({ a: a.text, b: b.text, list: [a.text, b.text, "0.01"] })).split("|");
        const difference = a.fen - b.fen;
        expect(out).toEqual([
          yuan(a.fen + b.fen),
          yuan(difference),
          yuan(a.fen * b.fen, 4),
          yuan(a.fen + b.fen + 1n),
          grouped(a.fen + b.fen),
          cnyUpper(yuan(difference)),
        ]);
      }),
      { numRuns: 500 },
    );
  });

  it("results print in plain notation, never with an exponent", async () => {
    expect(await render("{{multiply a 10}}|{{divide 1 10000000}}|{{add b 0}}", { a: 1e20, b: 1e-7 })).toBe(
      "1000000000000000000000|0.0000001|0.0000001",
    );
  });

  it("divide keeps 20 places, halves away from zero", async () => {
    expect(await render("{{divide 2 3}}|{{divide -2 3}}|{{divide 1 8}}|{{divide 10 4}}")).toBe(
      "0.66666666666666666667|-0.66666666666666666667|0.125|2.5",
    );
    expect(
      await render("{{formatNumber (multiply (divide 100 3) 3) decimals=2}}|{{percent (divide 1 3) decimals=4}}"),
    ).toBe("100.00|33.3333%");
  });

  it("formatNumber and percent round the decimal as written, not its nearest double", async () => {
    expect(await render('{{formatNumber "90071992547409.925" decimals=2}}|{{formatNumber "1.005" decimals=2}}')).toBe(
      "90,071,992,547,409.93|1.01",
    );
    expect(await render('{{percent "1234567890123.123456789015" decimals=10}}')).toBe(
      "123,456,789,012,312.3456789015%",
    );
    expect(await render('{{percent "1234567890123.1234567890125" decimals=10}}')).toBe(
      "123,456,789,012,312.3456789013%",
    );
    // Numbers of the data are read as they are written too (JSON.parse keeps 15 significant digits exact).
    expect(await render("{{formatNumber x decimals=2}}|{{cnyUpper x}}", { x: 123456789012.345 })).toBe(
      "123,456,789,012.35|壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰元叁角伍分",
    );
  });

  it("a result that rounds to zero is printed without a sign, as 零元整 has none", async () => {
    expect(await render("{{formatNumber -0.001 decimals=2}}|{{percent -0.00001}}|{{cnyUpper -0.001}}")).toBe(
      "0.00|0.0%|零元整",
    );
  });

  it("a result of more than 60 digits is refused, not rounded", async () => {
    expect(await failure("{{multiply a a}}", { a: "123456789012345678901234567890.5" })).toBe(
      "multiply: the result has more than 60 digits",
    );
  });
});

describe("results are numbers when a number holds them exactly, numeric texts otherwise", () => {
  it("so eq, #if and the comparisons take them as the data's own numbers", async () => {
    const rows = "{{#each rows}}{{#if (eq (add @index 1) 3)}}third:{{this}} {{/if}}{{/each}}";
    expect(await render(rows, { rows: ["a", "b", "c", "d"] })).toBe("third:c ");
    expect(await render("{{#if (subtract a a)}}owed{{else}}settled{{/if}}", { a: "90071992547409.93" })).toBe(
      "settled",
    );
    expect(
      await render('{{#if (sum items "amount")}}owed{{else}}settled{{/if}}', {
        items: [{ amount: 0.1 }, { amount: -0.1 }],
      }),
    ).toBe("settled");
    expect(
      await render("{{#if (subtract a b)}}owed {{subtract a b}}{{/if}}", {
        a: "90071992547409.94",
        b: "90071992547409.93",
      }),
    ).toBe("owed 0.01");
    expect(await render('{{#if (gt (add a "0.01") a)}}more{{/if}}', { a: "90071992547409.93" })).toBe("more");
    // Equal results are always written alike (a number, or the same text), so eq holds between them.
    const same = '{{#if (eq (add a "0.01") (subtract b "0.01"))}}same{{else}}differ{{/if}}';
    expect(await render(same, { a: "90071992547409.93", b: "90071992547409.95" })).toBe("same");
    expect(await render(same, { a: "0.1", b: 0.12 })).toBe("same");
    expect(await render(same, { a: "0.1", b: "0.13" })).toBe("differ");
  });

  it("and a result fed to another helper keeps every digit", async () => {
    const data = { items: [{ amount: "90071992547409.90" }, { amount: "0.03" }] };
    expect(await render('{{formatNumber (multiply (sum items "amount") 2) decimals=2}}', data)).toBe(
      "180,143,985,094,819.86",
    );
    expect(await render('{{cnyUpper (subtract (sum items "amount") "90071992547409")}}', data)).toBe("玖角叁分");
  });
});
