import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRenderer, type Renderer } from "../../functions/core/render.ts";
import type { RenderResult } from "../../functions/core/types.ts";
import { readPackageDir } from "../../functions/packages/index.ts";
import { fence } from "../helpers/fence.ts";
import { chromiumLocator } from "../../functions/service/chromium.ts";
import { backgroundLimits } from "../../functions/service/service.ts";
import { loadConfig } from "../../functions/service/settings.ts";
import { producer } from "../../functions/service/version.ts";
import { root } from "../helpers/examples.ts";
import { expectPagesMatchGoldens } from "../helpers/goldens.ts";
import { fonts, pageTexts, squash } from "../helpers/pdf.ts";

// The example package as a portal publishes it: read from its folder, checked, registered alone with
// a renderer of its own (as `report-render template render` does), rendered with its example.json.
const dir = join(root, "examples/packages/payment-notice");
const config = loadConfig();

let result: RenderResult;
let texts: string[];
let renderer: Renderer | undefined;

beforeAll(async () => {
  const checked = await fence.check(await readPackageDir(dir));
  if (!checked.ok) throw new Error(`the example package does not pass its checks: ${JSON.stringify(checked.problems)}`);
  renderer = createRenderer({
    templates: [checked.package.source],
    packagesRoot: config.runtimeRoot,
    producer,
    concurrency: 1,
    browsers: 1,
    browserEnvironment: config.browserEnvironment,
    chromium: chromiumLocator(config),
  });
  const data = JSON.parse(readFileSync(join(dir, "example.json"), "utf8")) as object;
  result = await renderer.render(
    { template: checked.package.manifest.id, data, options: {} },
    { limits: backgroundLimits(config) },
  );
  texts = (await pageTexts(result.pdf)).map(squash);
});

afterAll(() => renderer?.close());

// npm run test:update-goldens rewrites test/visual/goldens/.
it("every page of the example package matches its golden image", async () => {
  await expectPagesMatchGoldens(
    result.pdf,
    result.pages,
    join(import.meta.dirname, "goldens"),
    "package-payment-notice",
  );
});

describe("what a reader of the example package's PDF sees", () => {
  it("one page per 联, each the whole notice", () => {
    expect(result.pages).toBe(2);
    expect(texts[0]).toContain("第一联缴款人收执");
    expect(texts[1]).toContain("第二联执收单位留存");
    for (const text of texts) {
      expect(text).toContain("非税收入缴款通知书");
      expect(text).toContain("示例市恒信建材有限公司");
      expect(text).toContain("土地复垦费");
      expect(text).toContain("扫码缴款");
    }
  });

  it("the total in figures and in 大写 (8,000 + 550 + 30 + 3,765.60)", () => {
    for (const text of texts) {
      expect(text).toContain("¥12,345.60");
      expect(text).toContain("人民币壹万贰仟叁佰肆拾伍元陆角");
    }
  });

  it("the running header and 第 X 页 共 Y 页 in each page's margin boxes", () => {
    texts.forEach((text, i) => {
      expect(text).toContain(`第${i + 1}页共${result.pages}页`);
      expect(text).toContain("示例市自然资源和规划局");
      expect(text).toContain("编号NT-2026-000123");
    });
  });

  it("every font is a bundled face, embedded with TrueType outlines (no Type 3)", async () => {
    const found = await fonts(result.pdf);
    expect(found.length).toBeGreaterThan(0);
    for (const font of found) {
      expect(font, font.name).toMatchObject({ subtype: "/Type0", descendant: "/CIDFontType2", embedded: true });
      expect(font.name).toMatch(/^\/[A-Z]{6}\+(NotoSerifSC|NotoSansSC|HanaMin)/);
    }
  });

  it("dates as the template formats them", () => {
    for (const text of texts) {
      expect(text).toContain("2026年11月27日");
      expect(text).toContain("请于2026年12月26日前缴清上列款项");
    }
  });
});
