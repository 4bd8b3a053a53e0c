import { deflateRawSync } from "node:zlib";
import { crc32 } from "./crc32.ts";

/**
 * A zip of `files` (name → bytes), as `report-render template pack` publishes a package: names in
 * order, UTF-8, each entry deflated unless storing it is smaller, every date 1980-01-01 00:00, so the
 * same files always give the same bytes.
 */
export function writeZip(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const name of [...files.keys()].sort()) {
    const data = files.get(name) as Uint8Array;
    const deflated = new Uint8Array(deflateRawSync(data, { level: 9 }));
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const nameBytes = new TextEncoder().encode(name);
    const fields = { method: stored ? 0 : 8, crc: crc32(data), compressed: body.length, size: data.length };

    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true); // version needed: 2.0
    local.setUint16(6, 0x0800, true); // the name is UTF-8
    local.setUint16(8, fields.method, true);
    local.setUint16(10, 0, true); // 00:00
    local.setUint16(12, 0x21, true); // 1980-01-01
    local.setUint32(14, fields.crc, true);
    local.setUint32(18, fields.compressed, true);
    local.setUint32(22, fields.size, true);
    local.setUint16(26, nameBytes.length, true);
    locals.push(new Uint8Array(local.buffer), nameBytes, body);

    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true);
    central.setUint16(4, (3 << 8) | 20, true); // made by Unix, 2.0
    central.setUint16(6, 20, true);
    central.setUint16(8, 0x0800, true);
    central.setUint16(10, fields.method, true);
    central.setUint16(12, 0, true);
    central.setUint16(14, 0x21, true);
    central.setUint32(16, fields.crc, true);
    central.setUint32(20, fields.compressed, true);
    central.setUint32(24, fields.size, true);
    central.setUint16(28, nameBytes.length, true);
    central.setUint32(38, (0o100644 << 16) >>> 0, true); // a regular file, rw-r--r--
    central.setUint32(42, offset, true);
    centrals.push(new Uint8Array(central.buffer), nameBytes);
    offset += 30 + nameBytes.length + body.length;
  }
  const directorySize = centrals.reduce((n, part) => n + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, files.size, true);
  end.setUint16(10, files.size, true);
  end.setUint32(12, directorySize, true);
  end.setUint32(16, offset, true);
  return concat([...locals, ...centrals, new Uint8Array(end.buffer)]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
