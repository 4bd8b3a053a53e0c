/**
 * What a template package's HTML may hold: one list for the source checks (markup-check.ts, early
 * errors with file:line:column) and for the rules on each render's parsed HTML
 * (fence/output-policy.ts), so that the two cannot drift apart.
 */

/** Elements refused, by lower-case name: the rule, and why. */
export const REFUSED_ELEMENTS: Readonly<Record<string, readonly [string, string]>> = {
  script: ["script", "<script> is not allowed: nothing runs in the page"],
  noscript: ["script", "<noscript> is not allowed (parsers disagree on what it holds)"],
  iframe: ["embed", "<iframe> would load another document"],
  frame: ["embed", "<frame> would load another document"],
  frameset: ["embed", "<frameset> would load other documents"],
  object: ["embed", "<object> would load a resource"],
  embed: ["embed", "<embed> would load a resource"],
  applet: ["embed", "<applet> would load a resource"],
  portal: ["embed", "<portal> would load another document"],
  fencedframe: ["embed", "<fencedframe> would load another document"],
  link: ["fetch", "<link> would fetch: put styles in style.css"],
  base: ["fetch", "<base> changes where URLs point"],
  meta: ["fetch", "<meta> is not allowed in a template (a refresh would navigate)"],
  video: ["media", "<video> is not allowed in a print document"],
  audio: ["media", "<audio> is not allowed in a print document"],
  source: ["media", "<source> would fetch"],
  track: ["media", "<track> would fetch"],
  animate: ["svg-animation", "SVG animation (<animate>) can change what an element refers to"],
  set: ["svg-animation", "SVG animation (<set>) can change what an element refers to"],
  animatetransform: ["svg-animation", "SVG animation is not allowed"],
  animatemotion: ["svg-animation", "SVG animation is not allowed"],
  discard: ["svg-animation", "SVG animation is not allowed"],
  // Chromium parses these as the HTML standard now says; older parsers (parse5 among them) drop
  // what they hold, so what is judged would not be what is printed. A print document needs none.
  select: ["parser", "<select> is not allowed in a print document"],
  selectedcontent: ["parser", "<selectedcontent> is not allowed in a print document"],
  option: ["parser", "<option> is not allowed in a print document"],
  optgroup: ["parser", "<optgroup> is not allowed in a print document"],
  datalist: ["parser", "<datalist> is not allowed in a print document"],
  xmp: ["parser", "<xmp> is obsolete"],
  plaintext: ["parser", "<plaintext> is obsolete"],
  noembed: ["parser", "<noembed> is obsolete"],
  noframes: ["parser", "<noframes> is obsolete"],
};

/** Refused only in an SVG asset (a template may hold HTML inside its own SVG). */
export const REFUSED_IN_SVG_ASSETS: Readonly<Record<string, readonly [string, string]>> = {
  foreignobject: ["embed", "<foreignObject> is not allowed in an SVG asset"],
};

/** Attributes whose value is a URL the browser may fetch or navigate to. */
export const URL_ATTRIBUTES: ReadonlySet<string> = new Set([
  "src",
  "href",
  "srcset",
  "imagesrcset",
  "poster",
  "background",
  "lowsrc",
  "dynsrc",
  "action",
  "formaction",
  "ping",
  "manifest",
  "icon",
  "data",
  "codebase",
  "archive",
  "longdesc",
  "usemap",
]);

/**
 * Attributes that are CSS, or that style what they are on as CSS would: `style`, SVG presentation
 * attributes (geometry excepted), HTML's presentational ones, MathML's colours.
 */
export const CSS_ATTRIBUTES: ReadonlySet<string> = new Set([
  "style",
  // SVG
  "alignment-baseline",
  "baseline-shift",
  "clip",
  "clip-path",
  "clip-rule",
  "color",
  "color-interpolation",
  "color-interpolation-filters",
  "color-rendering",
  "cursor",
  "direction",
  "display",
  "dominant-baseline",
  "fill",
  "fill-opacity",
  "fill-rule",
  "filter",
  "flood-color",
  "flood-opacity",
  "font",
  "font-family",
  "font-size",
  "font-size-adjust",
  "font-stretch",
  "font-style",
  "font-variant",
  "font-weight",
  "image-rendering",
  "letter-spacing",
  "lighting-color",
  "marker",
  "marker-end",
  "marker-mid",
  "marker-start",
  "mask",
  "mask-type",
  "opacity",
  "overflow",
  "paint-order",
  "pointer-events",
  "shape-rendering",
  "stop-color",
  "stop-opacity",
  "stroke",
  "stroke-dasharray",
  "stroke-dashoffset",
  "stroke-linecap",
  "stroke-linejoin",
  "stroke-miterlimit",
  "stroke-opacity",
  "stroke-width",
  "text-anchor",
  "text-decoration",
  "text-overflow",
  "text-rendering",
  "transform",
  "transform-origin",
  "unicode-bidi",
  "vector-effect",
  "visibility",
  "white-space",
  "word-spacing",
  "writing-mode",
  // HTML (presentational hints) and MathML
  "bgcolor",
  "face",
  "mathcolor",
  "mathbackground",
]);

/** ASCII lower case, as HTML folds tag and attribute names (a full toLowerCase changes lengths: İ). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
