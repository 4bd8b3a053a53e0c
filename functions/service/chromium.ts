import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ChromiumLocator } from "../core/render.ts";
import { type ChromiumPack, PACK_DIR, PACK_MANIFEST, readPack, sparticuzPack } from "./chromium-pack.ts";
import { type UnpackedChromium, unpackChromium } from "./chromium-unpack.ts";
import { type Logger, since } from "./log.ts";
import type { ServiceConfig } from "./settings.ts";

/**
 * Where the render core gets Chromium from (createRenderer's `chromium`), the same binary, fonts and
 * libraries as @sparticuz/chromium's everywhere:
 * - a render function's asset carries a pack made at synth time (REPORT_RENDER_ROOT/chromium-pack,
 *   gzip in parts): a new instance inflates it into the temp folder, four times as fast as brotli;
 * - elsewhere (CLI, `npm start`, tests) @sparticuz/chromium's own bin/ is unpacked once into the
 *   project's node_modules/.cache/report-render, so a fresh temp folder costs nothing; into the temp
 *   folder when that cannot be written.
 */
export function chromiumLocator(config: ServiceConfig, log?: Logger): ChromiumLocator {
  return async () => {
    const started = performance.now();
    const unpacked = await unpack(config.runtimeRoot);
    const fields = { dir: unpacked.dir, reused: unpacked.reused, durations: { unpackMs: since(started) } };
    if (unpacked.reused) log?.debug("chromium.unpacked", fields);
    else log?.info("chromium.unpacked", fields);
    const inherited = config.browserEnvironment.LD_LIBRARY_PATH;
    return {
      executablePath: unpacked.executablePath,
      environment: {
        FONTCONFIG_PATH: unpacked.fontconfigPath,
        // As @sparticuz/chromium does on Amazon Linux 2023: its libraries first.
        ...(config.amazonLinux
          ? { LD_LIBRARY_PATH: [unpacked.libraryPath, ...(inherited ? [inherited] : [])].join(":") }
          : {}),
      },
    };
  };
}

async function unpack(runtimeRoot: string): Promise<UnpackedChromium> {
  const packDir = join(runtimeRoot, PACK_DIR);
  const pack = readPack(packDir);
  if (pack) return unpackChromium(pack, inTemp(pack));
  const own = sparticuzPack(sparticuzBin(packDir));
  const nodeModules = join(runtimeRoot, "node_modules");
  if (!existsSync(nodeModules)) return unpackChromium(own, inTemp(own));
  return unpackChromium(own, join(nodeModules, ".cache", "report-render", `chromium-${own.id}`)).catch(
    (e: NodeJS.ErrnoException) => {
      if (e.code !== "EACCES" && e.code !== "EPERM" && e.code !== "EROFS") throw e;
      return unpackChromium(own, inTemp(own));
    },
  );
}

function inTemp(pack: ChromiumPack): string {
  return join(tmpdir(), `report-render-chromium-${pack.id}`);
}

/** @sparticuz/chromium's bin/ folder (the package exports no path but its entry point's). */
function sparticuzBin(packDir: string): string {
  const entry = createRequire(import.meta.url).resolve("@sparticuz/chromium");
  const bin = join(dirname(entry), "..", "..", "bin");
  if (!existsSync(bin)) throw new Error(`no Chromium: neither ${packDir}/${PACK_MANIFEST} nor ${bin}`);
  return bin;
}
