import { parseJson } from "../core/input/index.ts";
import type { CallbackSettings } from "../service/callbacks/callback-settings.ts";
import { takeCallback } from "../service/callbacks/option.ts";
import { type CallbackRecord, pendingCallback } from "../service/callbacks/record.ts";
import { checkCallbackOption } from "../service/callbacks/target.ts";
import { describeFailure, type Failure } from "../service/failure.ts";
import type { Input } from "./read-input.ts";

/**
 * An uploaded report's `options.callback`: taken out of the text the core renders, and checked as
 * POST /v1/jobs checks it. A refused callback is the upload's answer (its error file, no PDF). Text
 * that is not JSON is left as it is, for the render to refuse.
 */
export async function takeUploadCallback(
  input: Input,
  settings: CallbackSettings,
): Promise<{ input: Input; callback?: CallbackRecord } | { refused: Failure }> {
  if (input.text === undefined) return { input };
  let parsed: unknown;
  try {
    parsed = parseJson(input.text);
  } catch {
    return { input };
  }
  const taken = takeCallback(parsed);
  if (!taken.given) return { input };
  try {
    const url = await checkCallbackOption(taken.callback, settings);
    return { input: { ...input, text: JSON.stringify(taken.input) }, callback: pendingCallback(url) };
  } catch (e) {
    const failure = describeFailure(e);
    if (!failure) throw e; // the resolver failed: tried again with the message
    return { refused: failure };
  }
}
