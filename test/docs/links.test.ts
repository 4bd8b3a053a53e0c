/**
 * Every link in README.md and docs/ resolves: a relative link names a file or folder of the repository
 * (not one git ignores), and an anchor names a heading of its target as GitHub slugs it (lower case,
 * punctuation dropped but hyphens and underscores, spaces to hyphens, any script kept; a repeated
 * heading gets -1, -2 …). External links (http, https, mailto, any scheme) are not fetched. Reads
 * files only: no network, no Chromium.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The pages checked: README.md and every Markdown file under docs/, as paths from the root. */
const pages = (): string[] => {
  const docs = readdirSync(join(root, "docs"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".md"))
    .map((f) => join("docs", f).split(sep).join("/"))
    .sort();
  return ["README.md", ...docs];
};

/** What .gitignore keeps out of the repository by plain name (node_modules/, dist/ …): no link may point there. */
const ignored: string[] = readFileSync(join(root, ".gitignore"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("!") && !/[*?[]/.test(line))
  .map((line) => line.replace(/^\/+|\/+$/g, ""));

// --- Markdown, as far as links and headings need it --------------------------------------------------

/** The lines of a page outside fenced code blocks, with their line numbers (from 1). */
function proseLines(markdown: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let fence: { char: string; length: number } | undefined;
  markdown.split(/\r?\n/).forEach((text, i) => {
    const marker = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(text);
    if (fence) {
      if (marker?.[1]?.[0] === fence.char && marker[1].length >= fence.length && marker[2]?.trim() === "") {
        fence = undefined;
      }
      out.push({ text: "", line: i + 1 });
      return;
    }
    if (marker?.[1] && !(marker[1][0] === "`" && marker[2]?.includes("`"))) {
      fence = { char: marker[1][0] ?? "`", length: marker[1].length };
      out.push({ text: "", line: i + 1 });
      return;
    }
    out.push({ text, line: i + 1 });
  });
  return out;
}

const CODE_SPAN = /(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g;

/** A line with its code spans blanked (same length), so that nothing inside one is taken for a link. */
const withoutCode = (line: string): string => line.replace(CODE_SPAN, (span) => " ".repeat(span.length));

/** The text GitHub makes a heading's anchor from: code spans as their content, links as their text, no markup. */
function headingText(inline: string): string {
  const codes: string[] = [];
  let text = inline.replace(CODE_SPAN, (_span, _ticks: string, content: string) => {
    codes.push(/^ .* $/.test(content) ? content.slice(1, -1) : content);
    return `\u0000${codes.length - 1}\u0000`;
  });
  text = text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<(https?:[^>\s]*)>/g, "$1") // autolinks: the address
    .replace(/<\/?[A-Za-z][^>]*>/g, "") // HTML tags
    .replace(/\\([!-/:-@[-`{-~])/g, "$1") // backslash escapes
    .replace(/(\*+|~~)/g, "") // emphasis, strikethrough
    .replace(/(^|[^\p{L}\p{N}])_+|_+(?=[^\p{L}\p{N}]|$)/gu, "$1"); // _emphasis_, not snake_case
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the placeholder of a code span
  return text.replace(/\u0000(\d+)\u0000/g, (_m, n: string) => codes[Number(n)] ?? "");
}

/** GitHub's slug of a heading's text (github-slugger): lower case, only letters, marks, numbers, `_`, `-` and spaces kept, spaces to hyphens. */
function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a page has: its headings' slugs (repeats numbered as GitHub numbers them) and explicit `id`/`name`s. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const add = (heading: string): void => {
    const base = slug(headingText(heading));
    let result = base;
    while (seen.has(result)) {
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      result = `${base}-${n}`;
    }
    seen.set(result, 0);
    anchors.add(result);
  };
  let paragraph: string[] = [];
  for (const { text } of proseLines(markdown)) {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(text);
    const setext = /^ {0,3}(?:=+|-+)[ \t]*$/.test(text);
    if (atx) {
      add(atx[1] ?? "");
      paragraph = [];
    } else if (setext && paragraph.length > 0) {
      add(paragraph.join(" "));
      paragraph = [];
    } else if (text.trim() === "" || /^ {0,3}([-*+>|]|\d+[.)])|^ {4}/.test(text)) {
      paragraph = [];
    } else {
      paragraph.push(text.trim());
    }
    for (const m of withoutCode(text).matchAll(/<[A-Za-z][^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']/g)) {
      if (m[1]) anchors.add(m[1]);
    }
  }
  return anchors;
}

interface Link {
  target: string;
  line: number;
}

const INLINE_LINK =
  /!?\[(?:[^[\]\\]|\\.|\[(?:[^[\]\\]|\\.)*\])*\]\(\s*(<[^<>\n]*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
const HTML_LINK = /<(?:a|img|source)\b[^>]*?\s(?:href|src)\s*=\s*["']([^"']*)["']/gi;

/** Every link of a page, outside code: inline links and images, reference definitions, `<a href>` and `<img src>`. */
function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  for (const { text, line } of proseLines(markdown)) {
    const prose = withoutCode(text);
    for (const m of prose.matchAll(INLINE_LINK)) links.push({ target: m[1] ?? "", line });
    const definition = REFERENCE_DEFINITION.exec(prose);
    if (definition?.[1]) links.push({ target: definition[1], line });
    for (const m of prose.matchAll(HTML_LINK)) links.push({ target: m[1] ?? "", line });
  }
  return links.map(({ target, line }) => ({ target: target.replace(/^<|>$/g, ""), line }));
}

// --- Resolving ---------------------------------------------------------------------------------------

const anchorCache = new Map<string, Set<string>>();
const anchorsOfFile = (file: string): Set<string> => {
  let anchors = anchorCache.get(file);
  if (!anchors) {
    anchors = anchorsOf(readFileSync(file, "utf8"));
    anchorCache.set(file, anchors);
  }
  return anchors;
};

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Why a link from `page` (a path from the root) does not resolve, or undefined when it does. */
function problemOf(page: string, target: string, pageText: string): string | undefined {
  if (target === "") return "empty link";
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(target) || target.startsWith("//")) return undefined; // external
  const hash = target.indexOf("#");
  const pathPart = (hash === -1 ? target : target.slice(0, hash)).replace(/\?.*$/, "");
  const anchor = hash === -1 ? undefined : decode(target.slice(hash + 1));
  const path = decode(pathPart);

  if (path === "") {
    if (anchor === undefined || anchor === "" || anchorsOf(pageText).has(anchor)) return undefined;
    return `#${anchor}: no such heading in this page`;
  }
  let file = path.startsWith("/") ? join(root, path) : resolve(root, dirname(page), path);
  const fromRoot = relative(root, file).split(sep).join("/");
  if (fromRoot.startsWith("..")) return "points outside the repository";
  if (ignored.some((name) => fromRoot === name || fromRoot.startsWith(`${name}/`))) {
    return `points into ${fromRoot.split("/")[0]}/, which git ignores`;
  }
  if (!existsSync(file)) return "no such file or folder";
  const folder = statSync(file).isDirectory();
  if (path.endsWith("/") && !folder) return "not a folder";
  if (anchor === undefined || anchor === "") return undefined;
  if (folder) file = join(file, "README.md"); // GitHub shows a folder's README under its listing
  if (extname(file) !== ".md" || !existsSync(file)) {
    return /^L\d+(-L\d+)?$/.test(anchor) ? undefined : `#${anchor}: not a line of a file (#L12 or #L12-L20)`;
  }
  if (anchorsOfFile(file).has(anchor)) return undefined;
  return `#${anchor}: no such heading in ${relative(root, file).split(sep).join("/")}`;
}

/** Each link of a page that does not resolve: `page:line: target — why`. */
function brokenLinks(page: string, text: string): string[] {
  const broken: string[] = [];
  for (const { target, line } of linksOf(text)) {
    const problem = problemOf(page, target, text);
    if (problem) broken.push(`${page}:${line}: ${target} — ${problem}`);
  }
  return broken;
}

// --- The tests -----------------------------------------------------------------------------------------

describe("links in README.md and docs/", () => {
  for (const page of pages()) {
    it(`${page}: every link resolves`, () => {
      expect(brokenLinks(page, readFileSync(join(root, page), "utf8"))).toEqual([]);
    });
  }

  it("every page of docs/ (but the contracts) links back to the README", () => {
    const without = pages()
      .filter((page) => page.startsWith("docs/") && !page.startsWith("docs/contracts/"))
      .filter((page) => {
        const links = linksOf(readFileSync(join(root, page), "utf8"));
        return !links.some(
          ({ target }) => resolve(root, dirname(page), target.split("#")[0] ?? "") === join(root, "README.md"),
        );
      });
    expect(without).toEqual([]);
  });

  it("the README fits on a screen: at most 250 lines", () => {
    const lines = readFileSync(join(root, "README.md"), "utf8").split("\n").length - 1;
    expect(lines).toBeLessThanOrEqual(250);
  });
});

describe("the link checker", () => {
  it("finds a missing file, a missing heading here or in another page, a link out of the repository", () => {
    const page = [
      "# Here",
      "## A heading",
      "[fine](#a-heading) [fine](../README.md) [fine](../package.json) [fine](../functions/core/) [fine](https://x.y/z#q)",
      "[no file](../docs/nowhere.md) [no heading](#b-heading) [no heading there](../README.md#no-such-heading-here)",
      "[outside](../../elsewhere.md) [ignored](../node_modules/vitest/package.json) [no line](../package.json#top)",
      "`[in code](nowhere.md)`",
      "```",
      "[in a fence](nowhere.md)",
      "```",
    ].join("\n");
    const broken = brokenLinks("docs/example.md", page).map((b) => b.replace(/ — .*/, ""));
    expect(broken).toEqual([
      "docs/example.md:4: ../docs/nowhere.md",
      "docs/example.md:4: #b-heading",
      "docs/example.md:4: ../README.md#no-such-heading-here",
      "docs/example.md:5: ../../elsewhere.md",
      "docs/example.md:5: ../node_modules/vitest/package.json",
      "docs/example.md:5: ../package.json#top",
    ]);
  });

  it("slugs headings as GitHub does: code, punctuation, Chinese, repeats", () => {
    const page = [
      "# Page numbers of elements (a table of contents)",
      "## On a laptop: `npm start`",
      "## The general report (`report`)",
      "### `gov-disclosure-annual-report`",
      "## 政府信息公开 年度报告",
      "## C++ & Go!",
      "## Settings",
      "## Settings",
      "Settings",
      "--------",
      "## **Bold** and [a link](https://x.y) and MAX_BODY_BYTES",
      "```md",
      "# not a heading",
      "```",
      '<a id="explicit"></a>',
    ].join("\n");
    expect([...anchorsOf(page)]).toEqual([
      "page-numbers-of-elements-a-table-of-contents",
      "on-a-laptop-npm-start",
      "the-general-report-report",
      "gov-disclosure-annual-report",
      "政府信息公开-年度报告",
      "c--go",
      "settings",
      "settings-1",
      "settings-2",
      "bold-and-a-link-and-max_body_bytes",
      "explicit",
    ]);
  });
});
