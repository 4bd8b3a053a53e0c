import Handlebars from "handlebars";
import { type PackageProblem, problemAt } from "./problems.ts";

/**
 * The Handlebars side of a package's template.hbs and partials: syntax errors with their place; every
 * helper call names a known helper; every partial exists; nothing reaches Object.prototype by name;
 * no unescaped output (helpers that return markup, such as qrcode, return it as a SafeString);
 * no decorators but inline partials. Also where each mustache is in the text, for markup-check.ts.
 */

/** Helpers every Handlebars environment has and packages may use (`log` writes to the service's log: not it). */
export const BUILT_IN_HELPERS = ["if", "unless", "each", "with", "lookup"] as const;

/** The helpers that take a block ({{#each …}}…{{/each}}); every package helper is a plain one. */
const BLOCK_HELPERS: ReadonlySet<string> = new Set(["if", "unless", "each", "with"]);

/** Names that would resolve on Object.prototype, never on the data (`{{constructor}}`, `lookup this "__proto__"`). */
const PROTOTYPE_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), "prototype"]);

/** A `{{…}}` in the source: where it is, and what it does there. */
export interface Mustache {
  start: number;
  end: number;
  /**
   * output: a value or a helper's result is written here; partial: a partial's text is; structure:
   * nothing is written by the tag itself (a block's open/close/else, a comment).
   */
  kind: "output" | "partial" | "structure";
  /** The helper an output mustache calls, if it calls one (`{{formatNumber x}}` → formatNumber). */
  helper?: string;
}

export interface TemplateScan {
  problems: PackageProblem[];
  mustaches: Mustache[];
  /** Partials it names (`{{> name}}`), with where. */
  partialRefs: { name: string; offset: number }[];
  /** Partials it defines with `{{#*inline "name"}}`. */
  inlinePartials: string[];
  /** Helpers it calls, known or not. */
  helpersUsed: Set<string>;
  /** Where its paths are, as "line:column" (0-based column, as Handlebars' run-time errors say). */
  positions: Set<string>;
  /** Whether it could be parsed at all (no problems below apply otherwise). */
  parsed: boolean;
}

type Node = hbs.AST.Node;
type Expression = hbs.AST.Expression;
type PathLike = hbs.AST.PathExpression | hbs.AST.Literal;

export function scanTemplate(file: string, source: string, knownHelpers: ReadonlySet<string>): TemplateScan {
  const scan: TemplateScan = {
    problems: [],
    mustaches: [],
    partialRefs: [],
    inlinePartials: [],
    helpersUsed: new Set(),
    positions: new Set(),
    parsed: false,
  };
  const lines = lineOffsets(source);
  const offsetOf = (node: Node) => (lines[node.loc.start.line - 1] ?? 0) + node.loc.start.column;
  const problem = (node: Node | number, rule: string, message: string) =>
    scan.problems.push(problemAt(file, source, typeof node === "number" ? node : offsetOf(node), rule, message));

  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch (e) {
    scan.problems.push(syntaxProblem(file, source, lines, e));
    return scan;
  }
  scan.parsed = true;

  const kinds = new Map<number, Pick<Mustache, "kind" | "helper">>();
  const checkName = (node: Node, name: string) => {
    if (PROTOTYPE_NAMES.has(name)) {
      problem(node, "prototype", `"${name}" names a property of every object, not of the data: it is never resolved`);
    }
  };
  const checkPath = (path: Expression) => {
    if (path.type === "PathExpression") {
      for (const part of (path as hbs.AST.PathExpression).parts) checkName(path, part);
    } else if (path.type === "StringLiteral") {
      checkName(path, (path as hbs.AST.StringLiteral).value);
    }
  };
  /** The helper a call names, or undefined when it is a lookup of data. Problems for unknown helpers. */
  const call = (node: Node, path: PathLike, params: Expression[], hash: hbs.AST.Hash | undefined, sexpr: boolean) => {
    scan.positions.add(`${path.loc.start.line}:${path.loc.start.column}`);
    const simple = path.type === "PathExpression" && isSimple(path as hbs.AST.PathExpression);
    const name = simple ? (path as hbs.AST.PathExpression).parts[0] : undefined;
    const hasArgs = params.length > 0 || (hash?.pairs.length ?? 0) > 0;
    if (name !== undefined && knownHelpers.has(name)) {
      scan.helpersUsed.add(name);
    } else if (hasArgs || sexpr) {
      const shown = path.type === "PathExpression" ? (path as hbs.AST.PathExpression).original : String(path.type);
      if (name !== undefined) scan.helpersUsed.add(name);
      problem(
        node,
        "unknown-helper",
        `unknown helper "${shown}"; the helpers are ${[...knownHelpers].sort().join(", ")}`,
      );
    } else {
      checkPath(path);
    }
    if (name === "lookup") for (const p of params.slice(1)) checkPath(p);
    for (const p of params) visit(p);
    for (const pair of hash?.pairs ?? []) visit(pair.value);
    return name !== undefined && knownHelpers.has(name) ? name : undefined;
  };
  const partial = (node: hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement) => {
    const name = node.name as Expression;
    if (name.type === "PathExpression") {
      scan.partialRefs.push({ name: (name as hbs.AST.PathExpression).original, offset: offsetOf(node) });
    } else if (name.type === "StringLiteral" || name.type === "NumberLiteral") {
      scan.partialRefs.push({ name: String((name as hbs.AST.StringLiteral).value), offset: offsetOf(node) });
    } else {
      visit(name); // (dynamic): a partial chosen by a helper; only the package's partials exist
    }
    for (const p of node.params) visit(p);
    for (const pair of node.hash?.pairs ?? []) visit(pair.value);
  };

  function visit(node: Node | undefined): void {
    if (!node) return;
    switch (node.type) {
      case "Program":
        for (const statement of (node as hbs.AST.Program).body) visit(statement);
        return;
      case "MustacheStatement": {
        const m = node as hbs.AST.MustacheStatement;
        const helper = call(m, m.path, m.params, m.hash, false);
        kinds.set(offsetOf(m), { kind: "output", helper });
        if (!m.escaped) {
          problem(
            m,
            "unescaped",
            "unescaped output ({{{…}}} or {{& …}}) is not allowed: write {{…}} (helpers that return markup are not escaped)",
          );
        }
        return;
      }
      case "BlockStatement": {
        const b = node as hbs.AST.BlockStatement;
        const helper = call(b, b.path, b.params, b.hash, false);
        if (helper !== undefined && !BLOCK_HELPERS.has(helper)) {
          problem(b, "block-helper", `${helper} is not a block helper: write {{#if (${helper} …)}}`);
        }
        visit(b.program);
        visit(b.inverse);
        return;
      }
      case "PartialStatement":
        kinds.set(offsetOf(node), { kind: "partial" });
        partial(node as hbs.AST.PartialStatement);
        return;
      case "PartialBlockStatement":
        kinds.set(offsetOf(node), { kind: "partial" });
        partial(node as hbs.AST.PartialBlockStatement);
        visit((node as hbs.AST.PartialBlockStatement).program);
        return;
      case "DecoratorBlock": {
        const d = node as hbs.AST.DecoratorBlock;
        const inline = d.path.type === "PathExpression" && d.path.original === "inline";
        const name = d.params[0];
        if (inline && name?.type === "StringLiteral") {
          scan.inlinePartials.push((name as hbs.AST.StringLiteral).value);
          visit(d.program);
        } else {
          problem(d, "decorator", 'decorators are not allowed (only {{#*inline "name"}} partials)');
        }
        return;
      }
      case "Decorator":
        problem(node, "decorator", 'decorators are not allowed (only {{#*inline "name"}} partials)');
        return;
      case "SubExpression": {
        const s = node as hbs.AST.SubExpression;
        call(s, s.path, s.params, s.hash, true);
        return;
      }
      case "PathExpression":
        scan.positions.add(`${node.loc.start.line}:${node.loc.start.column}`);
        checkPath(node as Expression);
        return;
      default:
        return; // content, comments, other literals
    }
  }
  visit(ast);

  for (const span of mustacheSpans(source)) {
    if (source.startsWith("{{{{", span.start)) {
      problem(span.start, "raw-block", "raw blocks ({{{{raw}}}}) are not allowed");
    }
    scan.mustaches.push({ ...span, ...(kinds.get(span.start) ?? { kind: "structure" }) });
  }
  return scan;
}

/** `name` alone: not `this.x`, not `@data`, not `../x`, not `a.b`. */
function isSimple(path: hbs.AST.PathExpression): boolean {
  return path.parts.length === 1 && !path.data && path.depth === 0 && path.original === path.parts[0];
}

/** Where each line starts, counted as Handlebars counts them: after \r\n, a lone \r or \n. */
function lineOffsets(source: string): number[] {
  const starts = [0];
  for (const match of source.matchAll(/\r\n?|\n/g)) starts.push(match.index + match[0].length);
  return starts;
}

interface HandlebarsError {
  lineNumber?: number;
  column?: number;
  message?: string;
}

/**
 * Handlebars' parse errors carry no position of their own (a block mismatch does): the parser's
 * lexer still holds the place of the token it stopped at.
 */
function syntaxProblem(file: string, source: string, lines: number[], e: unknown): PackageProblem {
  const error = e as HandlebarsError;
  const message = (error.message ?? String(e)).split("\n")[0]?.replace(/ - \d+:\d+$/, "") ?? "syntax error";
  const last = (
    Handlebars as unknown as { Parser?: { lexer?: { yylloc?: { first_line: number; first_column: number } } } }
  ).Parser?.lexer?.yylloc;
  const place =
    error.lineNumber !== undefined && error.column !== undefined
      ? { line: error.lineNumber, column: error.column }
      : last
        ? { line: last.first_line, column: last.first_column }
        : undefined;
  const detail = (error.message ?? "").split("\n").at(-1) ?? "";
  const text =
    message.startsWith("Parse error") && detail.startsWith("Expecting") ? `syntax error: ${detail}` : message;
  if (!place) return { file, rule: "syntax", message: text };
  const offset = Math.min(source.length, (lines[place.line - 1] ?? 0) + place.column);
  return problemAt(file, source, offset, "syntax", text);
}

/**
 * Where each `{{…}}` is (escaped `\{{` excepted), quoted strings inside included: Handlebars' own
 * parse has already accepted the source, so the tags are well formed.
 */
function mustacheSpans(source: string): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  for (let i = source.indexOf("{{"); i >= 0; i = source.indexOf("{{", i)) {
    let backslashes = 0;
    while (source[i - 1 - backslashes] === "\\") backslashes++;
    if (backslashes % 2 === 1) {
      i += 2;
      continue;
    }
    let end: number;
    const open = /^\{\{~?/.exec(source.slice(i, i + 3))?.[0].length ?? 2;
    if (source.startsWith("!--", i + open)) {
      const close = /--~?\}\}/g;
      close.lastIndex = i + open + 3;
      const found = close.exec(source);
      end = found ? found.index + found[0].length : source.length;
    } else if (source[i + open] === "!") {
      const found = source.indexOf("}}", i + open);
      end = found < 0 ? source.length : found + 2;
    } else {
      // {{{x}}} and {{~{x}~}} close with one brace more, {{{{raw}}}} with two.
      const extra = /^\{\{~?(\{*)/.exec(source.slice(i, i + 5))?.[1]?.length ?? 0;
      end = source.length;
      for (let k = i + 2; k < source.length; k++) {
        const ch = source[k];
        if (ch === '"' || ch === "'") {
          for (k++; k < source.length && source[k] !== ch; k++) if (source[k] === "\\") k++;
        } else if (source.startsWith("}}", k)) {
          end = k + 2;
          for (let n = 0; n < extra && source[end] === "}"; n++) end++;
          break;
        }
      }
    }
    spans.push({ start: i, end });
    i = end;
  }
  return spans;
}
