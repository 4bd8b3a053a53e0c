import { bodyTooLarge } from "../service/failure.ts";
import type { LimitError } from "../core/errors.ts";
import type { Source, UploadContext } from "./context.ts";

export type Input =
  /** `body`: the bytes as stored (a batch is split on them: line tasks read their line by byte range). */
  | { source: Source; text: string; body: Buffer; tooLarge?: undefined }
  | { source: Source; text?: undefined; body?: undefined; tooLarge: LimitError };

/** The uploaded object as text, or why it was not read; undefined if it is gone. Never modified. */
export async function readInput(ctx: UploadContext, key: string, maxBytes: number): Promise<Input | undefined> {
  const bucket = ctx.service.config.inputBucket;
  const got = await ctx.service.storage.get(bucket, key, { maxBytes });
  if (!got.found) return undefined;
  const source = { bucket, key, eTag: got.eTag };
  if ("tooLarge" in got) return { source, tooLarge: bodyTooLarge(got.size, maxBytes) };
  return { source, text: got.body.toString("utf8"), body: got.body };
}

/** A JSON output object of ours, or undefined if absent or unreadable. */
export async function readJsonOutput<T>(ctx: UploadContext, key: string): Promise<T | undefined> {
  const got = await ctx.service.storage.get(ctx.service.config.outputBucket, key);
  if (!got.found || "tooLarge" in got) return undefined;
  try {
    return JSON.parse(got.body.toString("utf8")) as T;
  } catch {
    return undefined;
  }
}
