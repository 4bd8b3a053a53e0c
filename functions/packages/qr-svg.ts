type QrModule = typeof import("qrcode");

let qr: QrModule | undefined;
let loading: Promise<QrModule> | undefined;

/**
 * The QR library is loaded on first use, before a render that needs it (the package's view awaits
 * it): packages without QR codes, and every other command, never pay for loading it.
 */
export async function loadQrCodes(): Promise<void> {
  loading ??= import("qrcode").then((m) => {
    const module = ((m as { default?: QrModule }).default ?? m) as QrModule;
    qr = module;
    return module;
  });
  await loading;
}

export interface QrOptions {
  /** Width and height, a CSS length ("30mm"). */
  size: string;
  /** Quiet zone around the code, in modules (the standard asks for 4). */
  margin: number;
  level: "L" | "M" | "Q" | "H";
}

/** QR codes drawn lately, most recent last: a notice prints the same code on each of its 联. */
const drawn = new Map<string, string>();
const DRAWN_KEPT = 16;

/**
 * `text` as a QR code: an inline SVG with one path of dark modules (each row's runs merged), drawn
 * crisp, no fonts, no network. Throws when the text does not fit a QR code at that level.
 * Encoding is most of the cost (choosing the mask alone tries eight), so the last few codes are kept.
 */
export function qrSvg(text: string, options: QrOptions): string {
  const key = JSON.stringify([text, options.size, options.margin, options.level]);
  const kept = drawn.get(key);
  if (kept !== undefined) {
    drawn.delete(key);
    drawn.set(key, kept);
    return kept;
  }
  const svg = drawQr(text, options);
  drawn.set(key, svg);
  for (const old of drawn.keys()) {
    if (drawn.size <= DRAWN_KEPT) break;
    drawn.delete(old);
  }
  return svg;
}

function drawQr(text: string, options: QrOptions): string {
  if (!qr) throw new Error("qrcode: the QR library is not loaded (the package's view loads it)");
  let modules: { size: number; data: Uint8Array };
  try {
    modules = qr.create(text, { errorCorrectionLevel: options.level }).modules;
  } catch (e) {
    throw new Error(`qrcode: ${e instanceof Error ? e.message : String(e)}`);
  }
  const n = modules.size;
  const m = options.margin;
  let path = "";
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; ) {
      if (!modules.data[y * n + x]) {
        x++;
        continue;
      }
      let run = 1;
      while (x + run < n && modules.data[y * n + x + run]) run++;
      path += `M${x + m} ${y + m}h${run}v1h-${run}z`;
      x += run;
    }
  }
  const side = n + 2 * m;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="qrcode" viewBox="0 0 ${side} ${side}" ` +
    `width="${options.size}" height="${options.size}" shape-rendering="crispEdges" role="img" aria-label="QR code">` +
    `<rect width="${side}" height="${side}" fill="#fff"/><path fill="#000" d="${path}"/></svg>`
  );
}
