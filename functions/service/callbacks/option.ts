/**
 * `options.callback` is the doors' business, not the core's: it is taken out of the envelope before
 * the core sees it, so the PDF (and its /ID, a hash of the envelope) is the same with or without one.
 */
export interface TakenCallback {
  /** The input without `options.callback` (the same object when it had none). */
  input: unknown;
  /** Whether it had one (`callback` is what it was, unchecked: it may be anything). */
  given: boolean;
  callback?: unknown;
}

export function takeCallback(input: unknown): TakenCallback {
  if (!isObject(input) || !isObject(input.options) || !Object.hasOwn(input.options, "callback"))
    return { input, given: false };
  const { callback, ...options } = input.options;
  return { input: { ...input, options }, given: true, callback };
}

/** Whether the input carries `options.callback` (a door that sends none refuses it). */
export function hasCallback(input: unknown): boolean {
  return takeCallback(input).given;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
