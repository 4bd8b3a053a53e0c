/**
 * JSREPORT_DIR=<folder> npx tsx bench/peers/jsreport.ts — the peer side by side: jsreport 4 (chrome-pdf,
 * a warm pool of one Chromium) printing our final HTML, against our whole path (JSON in → PDF out,
 * warm) on the same input, same Chromium build (@sparticuz/chromium) and same fonts.
 *
 * jsreport is not a dependency: install it in a scratch folder and point JSREPORT_DIR at it:
 *   PUPPETEER_SKIP_DOWNLOAD=1 npm install @jsreport/jsreport-core @jsreport/jsreport-handlebars \
 *     @jsreport/jsreport-chrome-pdf
 * jsreport gets the HTML our render printed, with the fonts served over loopback HTTP (it loads the
 * page with setContent, so it needs absolute URLs); it makes no bookmarks, no tagged PDF and no TOC
 * pass, so each of its runs is one plain print. Ratios are jsreport's median ÷ ours, measured in
 * interleaved runs. The last line is one JSON object.
 */
import chromium from "@sparticuz/chromium";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { bundledFonts } from "../../functions/core/html/fonts.ts";
import { countPages } from "../../functions/core/pdf/outline.ts";
import { RawPdf } from "../../functions/core/pdf/pdf-bytes.ts";
import { builtInRenderer } from "../../functions/service/service.ts";
import { loadConfig } from "../../functions/service/settings.ts";
import { longTableEnvelope } from "../lib/long-table-data.ts";
import { median } from "../lib/stats.ts";

const dir = process.env.JSREPORT_DIR;
if (!dir) {
  console.error("set JSREPORT_DIR to a folder where jsreport 4 is installed (see the comment at the top)");
  process.exit(2);
}
const RUNS = Number(process.env.JSREPORT_RUNS ?? 7);

interface JsReport {
  use(extension: unknown): JsReport;
  init(): Promise<void>;
  close(): Promise<void>;
  render(request: object): Promise<{ content: Buffer }>;
}
const load = createRequire(join(dir, "package.json"));
const jsreport = (load("@jsreport/jsreport-core") as (options: object) => JsReport)({
  logger: { silent: true },
  reportTimeout: 600_000,
  extensions: {
    "chrome-pdf": {
      strategy: "chrome-pool",
      numberOfWorkers: 1,
      launchOptions: { executablePath: await chromium.executablePath(), args: chromium.args },
    },
  },
});
jsreport.use((load("@jsreport/jsreport-handlebars") as () => unknown)());
jsreport.use((load("@jsreport/jsreport-chrome-pdf") as () => unknown)());
await jsreport.init();

// The fonts, over loopback HTTP, from the same files our renderer serves from memory.
const fontFiles = bundledFonts(loadConfig().runtimeRoot);
const fonts = createServer((req, res) => {
  const body = fontFiles.file(new URL(req.url ?? "/", "http://x").pathname);
  res.writeHead(body ? 200 : 404, { "content-type": "font/woff2", "access-control-allow-origin": "*" });
  res.end(body);
});
await new Promise<void>((resolve) => fonts.listen(0, "127.0.0.1", resolve));
const fontOrigin = `http://127.0.0.1:${(fonts.address() as AddressInfo).port}`;

const renderer = builtInRenderer();

async function compare(name: string, input: unknown): Promise<{ ratio: number; ourMs: number; jsreportMs: number }> {
  const ours = await renderer.render(input);
  const html = ours.html.replaceAll("url(/assets/", `url(${fontOrigin}/assets/`);
  const request = {
    template: { content: html, engine: "none", recipe: "chrome-pdf", chrome: { printBackground: true, format: "A4" } },
  };
  const theirs = await jsreport.render(request); // also the warm-up
  const theirPages = countPages(new RawPdf(new Uint8Array(theirs.content)));
  const our: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let started = performance.now();
    await renderer.render(input);
    our.push(performance.now() - started);
    started = performance.now();
    await jsreport.render(request);
    peer.push(performance.now() - started);
  }
  const result = {
    ratio: Math.round((median(peer) / median(our)) * 100) / 100,
    ourMs: Math.round(median(our)),
    jsreportMs: Math.round(median(peer)),
  };
  console.log(
    `${name}: jsreport ${result.jsreportMs} ms, ours ${result.ourMs} ms → ${result.ratio}× (pages: ours ${ours.pages}, jsreport's ${theirPages})`,
  );
  return result;
}

const seed = JSON.parse(readFileSync("examples/zhanhe-transport-2020.json", "utf8")) as unknown;
const long = longTableEnvelope(2000);
const seedRun = await compare("seed report", seed);
const tocRun = await compare("2,000-row report with a TOC", { ...long, data: { ...long.data, toc: true } });

await jsreport.close();
await renderer.close();
fonts.close();
console.log(
  JSON.stringify({
    jsreportSeedRatio: seedRun.ratio,
    jsreportTocRatio: tocRun.ratio,
    seedMs: seedRun.ourMs,
    jsreportSeedMs: seedRun.jsreportMs,
    tocMs: tocRun.ourMs,
    jsreportTocMs: tocRun.jsreportMs,
  }),
);
process.exit(0);
