import { describe, expect, it } from "vitest";
import { InputError } from "../../functions/core/errors.ts";
import { createTemplateRegistry } from "../../functions/core/template/templates.ts";
import { cnyUpper } from "../../functions/packages/cny-upper.ts";
import { fence } from "../helpers/fence.ts";

// Every helper a template package can use, rendered as a package renders (the core's template
// loading, behind the packages' fence), and the fences around Object.prototype.

let n = 0;

/** `template` rendered with `data`, as the core renders a published package. */
async function render(template: string, data: object = {}): Promise<string> {
  const id = `helpers-${++n}`;
  const source = fence.uncheckedSource({
    manifest: { id, title: "Helpers" },
    template,
    partials: {},
    css: "",
    schema: {},
    example: data,
    uses: { chart: template.includes("chart"), qrcode: template.includes("qrcode") },
  });
  const view = await source.definition.view(data, {});
  return (await createTemplateRegistry([source]).get(id).render(view, AbortSignal.timeout(60_000))).html;
}

/** The message the render fails with: always an InputError (the input is refused, not our fault). */
async function failure(template: string, data: object = {}): Promise<string> {
  try {
    await render(template, data);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).issues[0]?.message ?? "";
  }
  throw new Error(`${template} rendered`);
}

describe("formatNumber", () => {
  it.each([
    ["{{formatNumber 12345.6 decimals=2}}", "12,345.60"],
    ["{{formatNumber 12345.6}}", "12,345.6"],
    ['{{formatNumber "1234.50"}}', "1,234.50"],
    ["{{formatNumber 1.005 decimals=2}}", "1.01"],
    ["{{formatNumber -1234567.891 decimals=1}}", "-1,234,567.9"],
    ["{{formatNumber 0}}", "0"],
    ["{{formatNumber 2.5 decimals=0}}", "3"],
  ])("%s → %s", async (template, out) => {
    expect(await render(template)).toBe(out);
  });

  it("refuses what is not a number, and odd decimals", async () => {
    expect(await failure('{{formatNumber "12,3"}}')).toBe('formatNumber: "12,3" is not a number');
    expect(await failure("{{formatNumber missing}}")).toBe("formatNumber: undefined is not a number");
    expect(await failure("{{formatNumber 1 decimals=-1}}")).toContain("decimals=-1 is not a whole number");
    expect(await failure("{{formatNumber 1 2}}")).toBe("formatNumber takes 1 argument; it was given 2");
  });
});

describe("percent", () => {
  it.each([
    ["{{percent 0.03}}", "3.0%"],
    ["{{percent 0.1234 decimals=2}}", "12.34%"],
    ["{{percent 1}}", "100.0%"],
    ["{{percent 0.0005}}", "0.1%"],
    ["{{percent -0.125 decimals=0}}", "-13%"],
    ["{{percent 12.5}}", "1,250.0%"],
  ])("%s → %s", async (template, out) => {
    expect(await render(template)).toBe(out);
  });
});

describe("formatDate", () => {
  it.each([
    ['{{formatDate "2026-11-27" "YYYY年M月D日"}}', "2026年11月27日"],
    ['{{formatDate "2026-01-05"}}', "2026年1月5日"],
    ['{{formatDate "2026-01-05" "YYYY-MM-DD"}}', "2026-01-05"],
    ['{{formatDate "2026-01-05" "M/D/YY"}}', "1/5/26"],
    ['{{formatDate "2026-11-27T09:05:07+08:00" "YYYY年M月D日 HH:mm:ss"}}', "2026年11月27日 09:05:07"],
    ['{{formatDate "2024-02-29" "[Day] D, [Month] M"}}', "Day 29, Month 2"],
  ])("%s → %s", async (template, out) => {
    expect(await render(template)).toBe(out);
  });

  it("a date that is no date is a clear error", async () => {
    for (const date of ["2026-02-30", "2026-13-01", "2025-02-29", "yesterday", "27/11/2026", "2026-11-27T25:00"]) {
      expect(await failure("{{formatDate d}}", { d: date })).toBe(
        `formatDate: "${date}" is not a date (YYYY-MM-DD, optionally with a time)`,
      );
    }
    expect(await failure("{{formatDate d}}", { d: 20261127 })).toContain("is not a date");
  });
});

describe("cnyUpper (人民币大写)", () => {
  it.each([
    [0, "零元整"],
    [0.05, "伍分"],
    [0.5, "伍角"],
    [0.55, "伍角伍分"],
    [10, "壹拾元整"],
    ["10.00", "壹拾元整"],
    [110, "壹佰壹拾元整"],
    [1010, "壹仟零壹拾元整"],
    [20000, "贰万元整"],
    [20001, "贰万零壹元整"],
    [100000000, "壹亿元整"],
    [100010000, "壹亿零壹万元整"],
    [100001000, "壹亿零壹仟元整"],
    [1e12, "壹万亿元整"],
    [12345.6, "壹万贰仟叁佰肆拾伍元陆角"],
    [1005.07, "壹仟零伍元零柒分"],
    // The examples of the People's Bank of China's rules:
    [1409.5, "壹仟肆佰零玖元伍角"],
    [6007.14, "陆仟零柒元壹角肆分"],
    [1680.32, "壹仟陆佰捌拾元零叁角贰分"],
    [107000.53, "壹拾万柒仟元零伍角叁分"],
    [16409.02, "壹万陆仟肆佰零玖元零贰分"],
    [325.04, "叁佰贰拾伍元零肆分"],
    [123456789012.34, "壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰元叁角肆分"],
    // Negative amounts, rounding to the fen (halves away from zero, from the decimal as written):
    [-12.5, "负壹拾贰元伍角"],
    [1.005, "壹元零壹分"],
    [0.004, "零元整"],
    [-0.004, "零元整"],
    [0.005, "壹分"],
    ["9999999999999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"],
  ])("%s → %s", (amount, upper) => {
    expect(cnyUpper(amount)).toBe(upper);
  });

  it("as a helper, with an exact sum", async () => {
    const data = { items: [{ amount: 0.1 }, { amount: 0.2 }, { amount: 12345.3 }] };
    expect(await render('人民币{{cnyUpper (sum items "amount")}}', data)).toBe("人民币壹万贰仟叁佰肆拾伍元陆角");
  });

  it("refuses what is no amount, and amounts of 10^16 yuan or more", async () => {
    expect(() => cnyUpper("1e16")).toThrow(/too large/);
    expect(() => cnyUpper(Number.NaN)).toThrow("cnyUpper: null is not an amount");
    expect(await failure("{{cnyUpper x}}", { x: "一百" })).toBe('cnyUpper: "一百" is not an amount');
    expect(await failure("{{cnyUpper x}}", { x: null })).toBe("cnyUpper: null is not an amount");
  });
});

describe("arithmetic", () => {
  it.each([
    ["{{add 0.1 0.2}}", "0.3"],
    ["{{add @index 1}}", "1"],
    ["{{subtract 10 0.3}}", "9.7"],
    ["{{multiply 19.99 3}}", "59.97"],
    ["{{divide 1 4}}", "0.25"],
    ["{{sum list}}", "6.75"],
    ['{{sum items "amount"}}', "0.3"],
    ['{{sum items "price.value"}}', "3"],
    ["{{sum empty}}", "0"],
  ])("%s → %s", async (template, out) => {
    const data = {
      list: [1, 2.5, "3.25"],
      items: [
        { amount: 0.1, price: { value: 1 } },
        { amount: 0.2, price: { value: 2 } },
      ],
      empty: [],
    };
    expect(await render(template.replace("@index", "0"), data)).toBe(out);
  });

  it("division by zero, and values that are not numbers, are clear errors", async () => {
    expect(await failure("{{divide 5 0}}")).toBe("divide: division of 5 by zero");
    expect(await failure('{{add "x" 1}}')).toBe('add: "x" is not a number');
    expect(await failure('{{sum items "amount"}}', { items: [{ amount: 1 }, { amount: "n/a" }] })).toBe(
      'sum: item 1\'s amount ("n/a") is not a number',
    );
    expect(await failure("{{sum items}}", { items: "1,2" })).toBe('sum: "1,2" is not a list');
    // Only own properties: the prototype's are not fields.
    expect(await failure('{{sum items "constructor"}}', { items: [{}] })).toContain("is not a number");
  });
});

describe("comparisons and logic", () => {
  it.each([
    ['{{#if (eq s "paid")}}y{{else}}n{{/if}}', "y"],
    ['{{#if (ne s "paid")}}y{{else}}n{{/if}}', "n"],
    ["{{#if (gt a 10000)}}y{{else}}n{{/if}}", "y"],
    ['{{#if (gte a "12000.5")}}y{{else}}n{{/if}}', "y"],
    ['{{#if (lt d "2026-12-01")}}y{{else}}n{{/if}}', "y"],
    ["{{#if (lte a 0)}}y{{else}}n{{/if}}", "n"],
    ["{{#if (and s a list)}}y{{else}}n{{/if}}", "y"],
    ["{{#if (and s none)}}y{{else}}n{{/if}}", "n"],
    ["{{#if (or none zero s)}}y{{else}}n{{/if}}", "y"],
    ["{{#if (not none)}}y{{else}}n{{/if}}", "y"],
    ['{{default missing "无"}}|{{default blank "无"}}|{{default zero "无"}}|{{default s "无"}}', "无|无|0|paid"],
    ['{{join names}}|{{join names ", "}}', "张三、李四|张三, 李四"],
  ])("%s → %s", async (template, out) => {
    const data = {
      s: "paid",
      a: 12000.5,
      d: "2026-11-27",
      list: [1],
      none: [],
      zero: 0,
      blank: "",
      names: ["张三", "李四"],
    };
    expect(await render(template, data)).toBe(out);
  });

  it("comparing a number with a text is an error, not a guess", async () => {
    expect(await failure('{{#if (gt 1 "abc")}}y{{/if}}')).toBe(
      'gt: cannot compare 1 with "abc" (two numbers, or two texts)',
    );
  });

  it("a plain helper used as a block is an error at run time too", async () => {
    expect(await failure("{{#eq 1 1}}y{{/eq}}")).toBe("eq is not a block helper: write {{#if (eq …)}}");
  });

  it("log writes nothing (it would write data into the service's log)", async () => {
    expect(await render('a{{log "secret"}}b')).toBe("ab");
  });
});

describe("qrcode", () => {
  it("an inline SVG, the same for the same text, with the size asked for", async () => {
    const svg = await render('{{qrcode "https://pay.example.cn/NT-1" size="28mm"}}');
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="qrcode" viewBox="0 0 (\d+) \1" width="28mm" height="28mm"/,
    );
    expect(svg).toMatch(/<path fill="#000" d="(M\d+ \d+h\d+v1h-\d+z)+"\/><\/svg>$/);
    expect(await render('{{qrcode "https://pay.example.cn/NT-1" size="28mm"}}')).toBe(svg);
    expect(await render('{{qrcode "https://pay.example.cn/NT-2" size="28mm"}}')).not.toBe(svg);
    // Version 1 (21 modules) with the default quiet zone of 4: 29 modules a side.
    expect(await render('{{qrcode "1"}}')).toContain('viewBox="0 0 29 29" width="30mm"');
  });

  it("refuses text too long for a QR code, and odd options", async () => {
    expect(await failure("{{qrcode t}}", { t: "x".repeat(5000) })).toMatch(/^qrcode: /);
    expect(await failure('{{qrcode "x" size="big"}}')).toContain('size="big" is not a length');
    expect(await failure('{{qrcode "x" level="Z"}}')).toContain('level="Z" is not L, M, Q or H');
  });
});

describe("chart", () => {
  const spec = (title: string) => ({
    kind: "bar",
    title,
    categories: ["一月", "二月", "三月"],
    series: [{ name: "收入", data: [120, 98.5, 143] }],
    unit: "万元",
  });

  it("the report template's server-side SVG charts, each with ids of its own", async () => {
    const html = await render("{{chart a}}<hr>{{chart b width=400 height=200}}", { a: spec("甲"), b: spec("乙") });
    const svgs = html.split("<hr>");
    expect(svgs).toHaveLength(2);
    expect(svgs[0]).toMatch(/^<svg [^>]*width="600" height="300"/);
    expect(svgs[1]).toMatch(/^<svg [^>]*width="400" height="200"/);
    expect(svgs[0]).toContain("甲");
    expect(svgs[1]).toContain("乙");
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(html).not.toMatch(/<script|href="http/);
  });

  it("refuses a spec the report template would refuse", async () => {
    const bad = { ...spec("x"), series: [{ name: "s", data: [1, 2] }] };
    expect(await failure("{{chart c}}", { c: bad })).toBe("chart: series[0] has 2 values for 3 categories");
    expect(await failure("{{chart c}}", { c: { ...spec("x"), kind: "radar" } })).toBe(
      'chart: kind is "bar", "line" or "pie"',
    );
  });
});

describe("CSS and image helpers", () => {
  it("cssString escapes everything but letters and digits, in single quotes", async () => {
    const out = await render("{{cssString t}}", { t: 'No.1 "x"\';}</style>' });
    expect(out).toBe("'No\\00002e1\\000020\\000022x\\000022\\000027\\00003b\\00007d\\00003c\\00002fstyle\\00003e'");
  });

  it("cssValue takes plain values only", async () => {
    expect(await render("{{cssValue v}}", { v: "50%" })).toBe("50%");
    expect(await render("{{cssValue v}}", { v: "#b3261e" })).toBe("#b3261e");
    expect(await failure("{{cssValue v}}", { v: "url(http://127.0.0.1/)" })).toBe(
      'cssValue: "url(http://127.0.0.1/)" is not a plain CSS value',
    );
  });

  it("dataImage takes png, jpeg and webp data: URLs within the pixel limits", async () => {
    const png = (w: number, h: number) => {
      const bytes = Buffer.alloc(33);
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).copy(bytes);
      bytes.write("IHDR", 12, "latin1");
      bytes.writeUInt32BE(w, 16);
      bytes.writeUInt32BE(h, 20);
      return `data:image/png;base64,${bytes.toString("base64")}`;
    };
    expect(await render('<img src="{{dataImage s}}">', { s: png(10, 10) })).toBe(
      `<img src="${png(10, 10).replace(/=/g, "&#x3D;")}">`,
    );
    expect(await failure("{{dataImage s}}", { s: png(30000, 30000) })).toBe(
      "dataImage: the image is 30000 × 30000 pixels, too large",
    );
    expect(await failure("{{dataImage s}}", { s: "http://127.0.0.1/x.png" })).toContain("is not a data:image");
    expect(await failure("{{dataImage s}}", { s: "data:image/svg+xml;base64,PHN2Zz4=" })).toContain(
      "is not a data:image",
    );
  });
});

describe("prototype access is fenced", () => {
  it.each([
    "{{constructor}}",
    "{{this.constructor}}",
    "{{__proto__}}",
    "{{this.__proto__}}",
    '{{lookup this "__proto__"}}',
    '{{lookup this "constructor"}}',
    "{{toString}}",
    "{{a.hasOwnProperty}}",
    '{{#with (lookup this "constructor")}}[{{this}}]{{/with}}',
    '{{#each (lookup this "__proto__")}}[{{@key}}]{{/each}}',
  ])("%s yields nothing", async (template) => {
    const out = await render(template, { a: {} }).catch((e: unknown) => {
      // Strict mode may instead refuse the input; either way nothing of the prototype is shown.
      expect(e).toBeInstanceOf(InputError);
      return "";
    });
    expect(out).toBe("");
  });

  it("data's own __proto__ key is only data, and pollutes nothing", async () => {
    const data = JSON.parse('{ "__proto__": { "polluted": "yes" }, "name": "x" }') as object;
    expect(await render('{{name}} {{lookup (lookup this "__proto__") "polluted"}}', data)).toBe("x yes");
    expect(await failure("{{polluted}}", data)).toContain('"polluted" not defined');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
