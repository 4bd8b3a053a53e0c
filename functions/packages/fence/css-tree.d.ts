/**
 * The parts of css-tree that the output policy uses: its CSS Syntax tokenizer and decoders, imported
 * by their own entry points (the package's main one loads its whole CSS grammar, 0.15 s a thread).
 * @types/css-tree describes only the main entry.
 */
declare module "css-tree/tokenizer" {
  /** Calls `onToken` for each token of `source` with its type and span (CSS Syntax Level 3). */
  export function tokenize(source: string, onToken: (type: number, start: number, end: number) => void): void;
  export const tokenTypes: {
    readonly Ident: number;
    readonly Function: number;
    readonly AtKeyword: number;
    readonly String: number;
    readonly BadString: number;
    readonly Url: number;
    readonly BadUrl: number;
    readonly WhiteSpace: number;
    readonly Comment: number;
    readonly LeftParenthesis: number;
    readonly RightParenthesis: number;
  };
}

declare module "css-tree/utils" {
  /** A CSS identifier's text as written (escapes included) → its value. */
  export const ident: { decode(text: string): string };
  /** A string token as written (quotes included) → its value. */
  export const string: { decode(text: string): string };
}
