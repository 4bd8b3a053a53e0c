import { readFileSync } from "node:fs";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..", "..");

/** A fresh deep copy of an example envelope, so a test can break it without touching others. */
export function example<T = Record<string, unknown>>(
  name: string,
): { template: string; data: T; options?: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(root, "examples", name), "utf8")) as {
    template: string;
    data: T;
    options?: Record<string, unknown>;
  };
}
