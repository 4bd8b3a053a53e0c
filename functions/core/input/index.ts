/**
 * Reading the input: the envelope `{ template, data, options }` parsed within the limits on its size
 * and depth, the options checked, data checked against a JSON Schema (ajv, every pattern on a
 * linear-time engine), and the file name a PDF is given. Everything here runs before any template
 * code: what it refuses costs nothing else.
 */
export type { Untranslatable } from "./ecma-pattern.ts";
export { optionsSchema, parseEnvelope, parseJson } from "./envelope.ts";
export { safeFileName } from "./filename.ts";
export { defaultLimits, type RenderLimits } from "./limits.ts";
export { pdfOptionIssues } from "./pdf-options.ts";
export { compilePattern, RefusedPattern } from "./re2-engine.ts";
export { checkSchema, escapePointer } from "./validate.ts";
