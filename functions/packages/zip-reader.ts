import { inflateRawSync } from "node:zlib";
import { crc32 } from "./crc32.ts";
import { MAX_QUOTED, shorten } from "./problems.ts";

/**
 * A zip reader that trusts nothing the archive says: the central directory is read first, each
 * entry's data must lie inside the archive, before the directory, and apart from every other entry's
 * (overlapping entries are how a small zip inflates to gigabytes); an entry is inflated only up to
 * its declared size, which must match what comes out, and its CRC must match. No ZIP64, no
 * encryption, no multi-disk archives, only stored and deflated entries: a template package needs
 * none of them.
 */

export class ZipError extends Error {
  override readonly name = "ZipError";
}

export interface ZipEntry {
  name: string;
  folder: boolean;
  symlink: boolean;
  method: number;
  encrypted: boolean;
  crc: number;
  compressedSize: number;
  /** The uncompressed size the archive declares (checked against the data when inflated). */
  size: number;
  /** Where the entry's local header starts. */
  offset: number;
  /** The name's raw bytes, to compare with the local header's. */
  rawName: Uint8Array;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const UNIX = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** The entries of a zip, from its central directory; more than `maxEntries` is refused before any is read. */
export function listZip(zip: Uint8Array, maxEntries: number): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  const disk = view.getUint16(eocd + 4, true);
  const directoryDisk = view.getUint16(eocd + 6, true);
  const onDisk = view.getUint16(eocd + 8, true);
  const count = view.getUint16(eocd + 10, true);
  const directorySize = view.getUint32(eocd + 12, true);
  const directoryOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    throw new ZipError("ZIP64 archives are not supported (a template package is far smaller)");
  }
  if (disk !== 0 || directoryDisk !== 0 || onDisk !== count)
    throw new ZipError("multi-disk archives are not supported");
  if (count > maxEntries) throw new ZipError(`the zip has ${count} entries; at most ${maxEntries} are read`);
  if (directoryOffset + directorySize > eocd) throw new ZipError("the central directory lies outside the archive");

  const entries: ZipEntry[] = [];
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > eocd || view.getUint32(at, true) !== CENTRAL) {
      throw new ZipError("the central directory is damaged");
    }
    const madeBy = view.getUint16(at + 4, true) >> 8;
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const mode = view.getUint32(at + 38, true) >>> 16;
    const end = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (end > eocd) throw new ZipError("the central directory is damaged");
    const rawName = zip.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);
    const name = decodeName(rawName);
    const compressedSize = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const offset = view.getUint32(at + 42, true);
    if (compressedSize === 0xffffffff || size === 0xffffffff || offset === 0xffffffff) {
      throw new ZipError("ZIP64 entries are not supported (a template package is far smaller)");
    }
    const type = madeBy === UNIX ? mode & S_IFMT : 0;
    entries.push({
      name,
      folder: name.endsWith("/") || type === S_IFDIR,
      symlink: type === S_IFLNK,
      method: view.getUint16(at + 10, true),
      encrypted: (flags & 0x41) !== 0,
      crc: view.getUint32(at + 16, true),
      compressedSize,
      size,
      offset,
      rawName,
    });
    at = end;
  }
  checkLayout(view, entries, directoryOffset);
  return entries;
}

/** Names are UTF-8 (what every current archiver writes); bytes that are not are kept visible as U+FFFD. */
function decodeName(raw: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(raw);
}

function findEndOfCentralDirectory(view: DataView): number {
  // The record is the last thing in the file, followed only by its comment (at most 65,535 bytes).
  const last = view.byteLength - EOCD_SIZE;
  for (let at = last; at >= 0 && at >= last - 0xffff; at--) {
    if (view.getUint32(at, true) === EOCD && at + EOCD_SIZE + view.getUint16(at + 20, true) === view.byteLength) {
      return at;
    }
  }
  throw new ZipError("not a zip file (no end of central directory record)");
}

/** Each entry's local header and data inside the archive, before the central directory, and disjoint. */
function checkLayout(view: DataView, entries: ZipEntry[], directoryOffset: number): void {
  const spans: [number, number, string][] = [];
  for (const entry of entries) {
    const at = entry.offset;
    if (at + LOCAL_SIZE > directoryOffset || view.getUint32(at, true) !== LOCAL) {
      throw new ZipError(`${quoted(entry)}: its local header is missing or damaged`);
    }
    const nameLength = view.getUint16(at + 26, true);
    const extraLength = view.getUint16(at + 28, true);
    const end = at + LOCAL_SIZE + nameLength + extraLength + entry.compressedSize;
    if (end > directoryOffset) throw new ZipError(`${quoted(entry)}: its data runs past the end of the archive`);
    const localName = new Uint8Array(view.buffer, view.byteOffset + at + LOCAL_SIZE, nameLength);
    if (!sameBytes(localName, entry.rawName) || view.getUint16(at + 8, true) !== entry.method) {
      throw new ZipError(`${quoted(entry)}: its local header describes another file`);
    }
    spans.push([at, end, quoted(entry)]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    const [start, , name] = spans[i] as [number, number, string];
    const [, previousEnd, previous] = spans[i - 1] as [number, number, string];
    if (start < previousEnd) throw new ZipError(`${name} and ${previous} overlap in the archive (a zip bomb's trick)`);
  }
}

/** An entry's name as a message quotes it: a zip's names may be 65,535 bytes long. */
function quoted(entry: ZipEntry): string {
  return shorten(entry.name, MAX_QUOTED);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * The entry's bytes. Inflation stops as soon as the output would pass the declared size (so a bomb
 * costs no more than its declared size, which the caller has already bounded); a different size or
 * CRC than declared is refused.
 */
export function readEntry(zip: Uint8Array, entry: ZipEntry): Uint8Array {
  if (entry.encrypted) throw new ZipError("is encrypted");
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const start =
    entry.offset + LOCAL_SIZE + view.getUint16(entry.offset + 26, true) + view.getUint16(entry.offset + 28, true);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else if (entry.method === 8) {
    try {
      data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) }));
    } catch (e) {
      const tooLarge = e instanceof RangeError || (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
      throw new ZipError(
        tooLarge ? `inflates to more than the ${entry.size} bytes it declares` : "is damaged (cannot be inflated)",
      );
    }
  } else {
    throw new ZipError(`uses compression method ${entry.method}; only stored (0) and deflated (8) entries are read`);
  }
  if (data.length !== entry.size) {
    throw new ZipError(`is ${data.length} bytes uncompressed but declares ${entry.size}`);
  }
  if (crc32(data) !== entry.crc) throw new ZipError("is damaged (its CRC does not match)");
  return data;
}
