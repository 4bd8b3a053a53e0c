import { mkdir, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";

const BLOCK = 512;

/**
 * Writes the regular files and folders of a tar archive (ustar or GNU, as @sparticuz/chromium's packs
 * are) under `into`, each file with its mode; returns the files' paths relative to `into` with their
 * sizes. Anything else (links, long-name or pax records) or a path that would leave `into` throws:
 * the archives are fixed inputs, so a change in their shape must be loud, not half-extracted.
 */
export async function extractTar(archive: Buffer, into: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  for (let at = 0; at + BLOCK <= archive.length; ) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((byte) => byte === 0)) break; // the end-of-archive blocks
    const name = entryName(header);
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const start = at + BLOCK;
    at = start + Math.ceil(size / BLOCK) * BLOCK;
    if (start + size > archive.length) throw new Error(`tar: ${name} is cut short`);
    const path = safePath(name);
    if (type === "5") {
      await mkdir(join(into, path), { recursive: true });
    } else if (type === "0" || type === "\0") {
      const target = join(into, path);
      await mkdir(join(target, ".."), { recursive: true });
      await writeFile(target, archive.subarray(start, start + size), { mode: octal(header, 100, 8) & 0o777 });
      files.set(path, size);
    } else {
      throw new Error(`tar: ${name} is of type ${JSON.stringify(type)}, which is not extracted`);
    }
  }
  return files;
}

function entryName(header: Buffer): string {
  const name = text(header, 0, 100);
  const ustar = text(header, 257, 6) === "ustar";
  const prefix = ustar ? text(header, 345, 155) : "";
  return prefix ? `${prefix}/${name}` : name;
}

/** A relative path inside the folder: no absolute path, no `..`. */
function safePath(name: string): string {
  const path = posix.normalize(name).replace(/\/$/, "");
  if (path.startsWith("/") || path === ".." || path.startsWith("../") || path === "") {
    throw new Error(`tar: ${JSON.stringify(name)} would be written outside the folder`);
  }
  return path;
}

function text(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

function octal(header: Buffer, offset: number, length: number): number {
  const value = Number.parseInt(text(header, offset, length).trim() || "0", 8);
  if (!Number.isSafeInteger(value)) throw new Error("tar: a number field is not octal");
  return value;
}
