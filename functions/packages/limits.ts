/**
 * What a template package may weigh. A package is read whole into memory (the render functions
 * cache it), so every limit is checked before the bytes it bounds are read or inflated.
 */
export interface PackageLimits {
  /** The zip as uploaded. */
  maxZipBytes: number;
  /** Files in the package (folders and ignored files such as .DS_Store not counted). */
  maxFiles: number;
  /** One file, uncompressed (a font with CJK glyphs is a few MB). */
  maxFileBytes: number;
  /** All files together, uncompressed. */
  maxTotalBytes: number;
}

const MiB = 1024 * 1024;

export const defaultPackageLimits: PackageLimits = {
  maxZipBytes: 10 * MiB,
  maxFiles: 100,
  maxFileBytes: 5 * MiB,
  maxTotalBytes: 10 * MiB,
};
