import { InputError } from "../errors.ts";
import { checkSchema } from "./validate.ts";
import { checkInputShape, type RenderLimits } from "./limits.ts";
import type { Envelope, Issue } from "../types.ts";

const cssLength = { type: "string", pattern: "^\\s*(0|\\d+(\\.\\d+)?\\s*(mm|cm|in|pt|px|pc))\\s*$" };

/** `options`, the same for every template (docs/contracts/report.md). */
export const optionsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    page: {
      type: "object",
      additionalProperties: false,
      properties: {
        size: { enum: ["A4", "A3", "A5", "Letter", "Legal"] },
        orientation: { enum: ["portrait", "landscape"] },
        margin: {
          anyOf: [
            cssLength,
            {
              type: "object",
              additionalProperties: false,
              properties: { top: cssLength, right: cssLength, bottom: cssLength, left: cssLength },
            },
          ],
        },
      },
    },
    metadata: {
      type: "object",
      additionalProperties: false,
      properties: {
        title: { type: "string", maxLength: 1000 },
        author: { type: "string", maxLength: 1000 },
        subject: { type: "string", maxLength: 1000 },
        keywords: {
          anyOf: [
            { type: "string", maxLength: 1000 },
            { type: "array", items: { type: "string", maxLength: 200 }, maxItems: 100 },
          ],
        },
      },
    },
    validation: { enum: ["strict", "warn"] },
    // Archival and secure outputs (the same for every template). Combinations that cannot be honoured
    // together (e.g. encryption with a PDF/A standard) are refused by pdfOptionIssues.
    pdf: {
      type: "object",
      additionalProperties: false,
      properties: {
        standard: { enum: ["PDF/A-2b", "PDF/A-3b"] },
        attachSource: { type: "boolean" },
        encrypt: {
          type: "object",
          additionalProperties: false,
          minProperties: 1,
          properties: {
            // AES-256 (PDF 2.0 / ISO 32000-2 revision 6): passwords count as at most 127 bytes of UTF-8.
            userPassword: { type: "string", maxLength: 127 },
            ownerPassword: { type: "string", minLength: 1, maxLength: 127 },
            permissions: {
              type: "object",
              additionalProperties: false,
              properties: { print: { type: "boolean" }, copy: { type: "boolean" }, modify: { type: "boolean" } },
            },
          },
        },
        sign: {
          type: "object",
          additionalProperties: false,
          properties: {
            reason: { type: "string", maxLength: 200 },
            location: { type: "string", maxLength: 200 },
            contactInfo: { type: "string", maxLength: 200 },
          },
        },
      },
    },
    watermark: {
      type: "object",
      additionalProperties: false,
      required: ["text"],
      properties: {
        text: { type: "string", minLength: 1, maxLength: 100, pattern: "\\S" },
        opacity: { type: "number", exclusiveMinimum: 0, maximum: 1 },
      },
    },
    // A plain file name: no folders, no control characters, ends in .pdf.
    filename: { type: "string", pattern: "^[^/\\\\\\u0000-\\u001f]{1,200}\\.pdf$" },
  },
} as const;

const envelopeSchema = {
  type: "object",
  required: ["template", "data"],
  additionalProperties: false,
  properties: {
    template: { type: "string", minLength: 1, maxLength: 100 },
    data: { type: "object" },
    options: optionsSchema,
  },
};

/**
 * Text → JSON, or an InputError("invalid_json") that says where the text stops being JSON. A byte
 * order mark (what Windows Notepad saves UTF-8 with) is not part of the text.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text) as unknown;
  } catch (e) {
    throw new InputError("invalid_json", [
      { rule: "json", path: "", message: `not valid JSON: ${withoutQuote((e as Error).message)}` },
    ]);
  }
}

/**
 * Check the envelope's shape (not the data: that is the template's business), after the limits on
 * its size and depth. Returns the text repairs made on the way (unpaired surrogates) as warnings.
 */
export function parseEnvelope(input: unknown, limits: RenderLimits): { envelope: Envelope; warnings: Issue[] } {
  const shaped = checkInputShape(typeof input === "string" ? parseJson(input) : input, limits);
  const value = shaped.value;
  const issues = checkSchema(envelopeSchema, value);
  if (issues.length > 0)
    throw new InputError(
      "invalid_envelope",
      issues.map((i) => ({ ...withoutSecret(i), rule: "envelope" })),
    );
  const envelope = value as { template: string; data: object; options?: Envelope["options"] };
  return {
    envelope: { template: envelope.template, data: envelope.data, options: envelope.options ?? {} },
    warnings: shaped.warnings,
  };
}

/** A password's value is never repeated: not in an answer, a log line, a job state or a result file. */
function withoutSecret(issue: Issue): Issue {
  if (issue.path !== "/options/pdf" && !/^\/options\/pdf\/encrypt(\/|$)/.test(issue.path)) return issue;
  const { actual: _, ...rest } = issue;
  return rest;
}

/**
 * V8 quotes the text around some errors (`Unexpected token 'h', ..."Password":hunter2-se"... is not
 * valid JSON`): the input may hold a password, and the message goes into answers and logs.
 */
function withoutQuote(message: string): string {
  return message.replace(/^Unexpected token .*? is not valid JSON$/s, "Unexpected token (not a JSON value)");
}
