import { deflateRawSync } from "node:zlib";
import { crc32 } from "../../functions/packages/crc32.ts";

/** Template package zips for hostile tests: a minimal package, and zips written by hand that lie. */

export const text = (s: string) => new TextEncoder().encode(s);

export const BASE: Record<string, string> = {
  "template.json": '{ "id": "hostile", "title": "Hostile" }',
  "template.hbs": "<h1>{{title}}</h1>\n",
  "schema.json": '{ "type": "object", "properties": { "title": { "type": "string" } } }',
  "example.json": '{ "title": "x" }',
};

export function baseFiles(extra: Record<string, string> = {}): Map<string, Uint8Array> {
  return new Map(Object.entries({ ...BASE, ...extra }).map(([k, v]) => [k, text(v)]));
}

export interface RawEntry {
  name: string;
  data?: Uint8Array;
  /** What the archive says; the data's own when absent. */
  declaredSize?: number;
  crc?: number;
  deflate?: boolean;
  flags?: number;
  /** A Unix mode in the external attributes (0o120777: a symbolic link). */
  mode?: number;
  /** Point the entry at another entry's local header (overlapping entries). */
  sameDataAs?: number;
  zip64?: boolean;
}

/** A zip written by hand, so that it can lie in every way a hostile one does. */
export function rawZip(entries: RawEntry[]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const [i, e] of entries.entries()) {
    const data = e.data ?? new Uint8Array();
    const body = e.deflate ? deflateRawSync(data) : Buffer.from(data);
    const name = Buffer.from(e.name, "utf8");
    const size = e.zip64 ? 0xffffffff : (e.declaredSize ?? data.length);
    const crc = e.crc ?? crc32(data);
    const method = e.deflate ? 8 : 0;
    const at = e.sameDataAs === undefined ? offset : (offsets[e.sameDataAs] as number);
    offsets.push(at);
    if (e.sameDataAs === undefined) {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(0x0800 | (e.flags ?? 0), 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(name.length, 26);
      parts.push(local, name, body);
      offset += 30 + name.length + body.length;
    }
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE((3 << 8) | 20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800 | (e.flags ?? 0), 8);
    entry.writeUInt16LE(method, 10);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(size, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    entry.writeUInt32LE(at, 42);
    central.push(entry, name);
    void i;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, directory, end]));
}

/** The package's base files as raw entries, plus `extra`. */
export function hostileZip(extra: RawEntry[]): Uint8Array {
  return rawZip([...Object.entries(BASE).map(([name, v]) => ({ name, data: text(v) })), ...extra]);
}
