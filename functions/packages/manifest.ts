import { optionsSchema } from "../core/input/index.ts";
import { type PageDefaults, pageBoxIssues, resolveMargin } from "../core/html/index.ts";
import type { RenderOptions } from "../core/types.ts";
import { checkSchema } from "../core/input/index.ts";
import { JsonSyntaxError, parseLocatedJson } from "./json-locate.ts";
import { FILES } from "./layout.ts";
import { type PackageProblem, problemAt } from "./problems.ts";

/** template.json: who the template is and how its page is set by default. */
export interface PackageManifest {
  id: string;
  title: string;
  description?: string;
  /** The documents' language (BCP 47), for hyphenation, fonts and the PDF's metadata. Default zh-CN. */
  lang?: string;
  /** The page when a render's options say nothing: A4 portrait with 20 mm margins unless given. */
  page?: RenderOptions["page"];
}

/** The id of a published template: also the name it is rendered by (`"template": "<id>"`). */
const PACKAGE_ID = "^[a-z0-9][a-z0-9-]{1,62}$";

const manifestSchema = {
  type: "object",
  required: ["id", "title"],
  additionalProperties: false,
  properties: {
    id: { type: "string", pattern: PACKAGE_ID },
    title: { type: "string", minLength: 1, maxLength: 200 },
    description: { type: "string", maxLength: 2000 },
    lang: { type: "string", pattern: "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$" },
    page: optionsSchema.properties.page,
  },
};

const DEFAULT_PAGE: PageDefaults = {
  size: "A4",
  orientation: "portrait",
  margin: { top: "20mm", right: "20mm", bottom: "20mm", left: "20mm" },
};

/** The core's page defaults from template.json's `page`. */
export function pageDefaults(manifest: PackageManifest): PageDefaults {
  const page = manifest.page ?? {};
  return {
    size: page.size ?? DEFAULT_PAGE.size,
    orientation: page.orientation ?? DEFAULT_PAGE.orientation,
    margin: resolveMargin(DEFAULT_PAGE.margin, page.margin),
  };
}

/** template.json read and checked: its fields, and margins that leave room for content. */
export function readManifest(text: string): { manifest?: PackageManifest; problems: PackageProblem[] } {
  const file = FILES.manifest;
  let located: ReturnType<typeof parseLocatedJson>;
  try {
    located = parseLocatedJson(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { problems: [problemAt(file, text, e.offset, "json", `not valid JSON: ${e.message}`)] };
  }
  const issues = checkSchema(manifestSchema, located.value);
  if (issues.length > 0) {
    return {
      problems: issues.map((i) =>
        problemAt(
          file,
          text,
          located.offsetOf(i.path),
          "manifest",
          `${i.path || "/"} ${i.message}${expected(i.expected)}`,
        ),
      ),
    };
  }
  const manifest = located.value as PackageManifest;
  const problems = pageBoxIssues(pageDefaults(manifest)).map((i) =>
    problemAt(file, text, located.offsetOf("/page/margin"), "page-margin", i.message),
  );
  return problems.length > 0 ? { problems } : { manifest, problems };
}

function expected(value: unknown): string {
  return value === undefined ? "" : ` (expected ${JSON.stringify(value)})`;
}
