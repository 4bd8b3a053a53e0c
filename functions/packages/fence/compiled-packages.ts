import type { FencedParts } from "../package-source.ts";
import type { CompiledPackage } from "./package-templating.ts";

/**
 * The packages a fence thread has compiled, least recently used first, kept within a count and a
 * size: a package holds its templates with their assets inlined (up to some 13 MB of text), and one
 * tenant's large packages must not leave another's render without memory in the same thread.
 */
export class CompiledPackages {
  private readonly kept = new Map<string, { pkg: CompiledPackage; chars: number }>();
  private chars = 0;

  constructor(
    private readonly compile: (parts: FencedParts) => CompiledPackage,
    /** Packages kept at most. */
    private readonly maxCount = 32,
    /** Characters kept at most (templates, partials, assets): 32 million, an eighth of a thread's heap. */
    private readonly maxChars = 32_000_000,
  ) {}

  /** The package `key`: kept, or compiled from `parts`; undefined when it is not kept and no parts came. */
  get(key: string, parts: FencedParts | undefined): CompiledPackage | undefined {
    const found = this.kept.get(key);
    if (found) {
      this.kept.delete(key);
      this.kept.set(key, found);
      return found.pkg;
    }
    if (!parts) return undefined;
    const chars = [parts.template, ...Object.values(parts.partials), ...parts.assetUrls].reduce(
      (n, text) => n + text.length,
      0,
    );
    // Room first, before compiling takes more.
    for (const [old, entry] of this.kept) {
      if (this.kept.size < this.maxCount && this.chars + chars <= this.maxChars) break;
      this.kept.delete(old);
      this.chars -= entry.chars;
    }
    const pkg = this.compile(parts);
    this.kept.set(key, { pkg, chars });
    this.chars += chars;
    return pkg;
  }

  /** The keys kept, least recently used first. */
  keys(): string[] {
    return [...this.kept.keys()];
  }
}
