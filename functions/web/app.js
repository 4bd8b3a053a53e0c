// The web page: a JSON file in, a PDF (with page previews) or the errors out; or a zipped template
// package in, its example rendered or its problems by file and line out. Plain modules, no build
// step; pdf.js is loaded from this service only when there is a PDF to preview. Every text is
// localized (i18n.js): what the service says (messages, rules, paths) is shown as it wrote it.
import { api, signedIn, startAccount } from "./account.js";
import { initialLanguage, localize, onLanguageChange, setLanguage } from "./i18n.js";
import { lineOf, locate } from "./json-locate.js";

const $ = (id) => document.getElementById(id);
const source = $("source");
const fileInput = $("file-input");
const dropZone = $("drop-zone");
const packageInput = $("package-input");
const packageDropZone = $("package-drop-zone");
const exampleSelect = $("example-select");
const renderButton = $("render-button");
const statusLine = $("status");
const errorsBox = $("errors");
const errorList = $("error-list");
const errorsHint = $("errors-hint");
const pdfBox = $("pdf");
const pagesBox = $("pages");
const downloadLink = $("download-link");
const MAX_PREVIEW_PAGES = 30;

let objectUrl;
let renderCount = 0;

fileInput.addEventListener("change", () => {
  const file = fileInput.files?.[0];
  if (file) openFile(file);
});
packageInput.addEventListener("change", () => {
  const file = packageInput.files?.[0];
  if (file) checkPackage(file);
});
acceptDrops(dropZone, openFile);
// Whatever is dropped here is sent as a package: the service says what is wrong with it.
acceptDrops(packageDropZone, checkPackage);
exampleSelect.addEventListener("change", () => {
  if (exampleSelect.value) loadExample(exampleSelect.value);
});
renderButton.addEventListener("click", () => render());

const languageChoices = [...document.querySelectorAll(".language-choice")];
for (const choice of languageChoices) {
  choice.addEventListener("click", () => setLanguage(choice.dataset.lang, { remember: true }));
}
onLanguageChange((language) => {
  for (const choice of languageChoices) choice.setAttribute("aria-pressed", String(choice.dataset.lang === language));
});
setLanguage(initialLanguage());
await startAccount({ setStatus, draft: { get: () => source.value, set: (text) => (source.value = text) } });
if (signedIn()) loadTemplates();

function acceptDrops(zone, open) {
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer?.files?.[0];
    if (file) open(file);
  });
}

/** The built-in templates, then the published ones (withdrawn ones render no more: left out). */
async function loadTemplates() {
  try {
    const response = await api("/v1/templates", {}, { quiet: true });
    if (!response) return;
    const { templates } = await response.json();
    const builtIn = templates.filter((t) => t.builtIn !== false);
    const published = templates.filter((t) => t.builtIn === false && !t.withdrawnAt);
    const option = (template) => {
      const element = document.createElement("option");
      element.value = template.id;
      element.textContent = `${template.title} (${template.id})`;
      return element;
    };
    if (!published.length) return exampleSelect.append(...builtIn.map(option));
    const group = (label, list) => {
      const element = localize(document.createElement("optgroup"), undefined, undefined, { label });
      element.append(...list.map(option));
      return element;
    };
    exampleSelect.append(group("example.builtIn", builtIn), group("example.published", published));
  } catch {
    exampleSelect.disabled = true;
  }
}

async function loadExample(id) {
  setStatus("status.loadingExample", { id });
  let response;
  try {
    response = await api(`/v1/templates/${encodeURIComponent(id)}/example`);
  } catch {
    return setStatus("status.unreachable", {}, "error");
  }
  if (!response) return;
  if (!response.ok) return setStatus("status.exampleFailed", { status: response.status }, "error");
  source.value = JSON.stringify(await response.json(), null, 2);
  setStatus("status.exampleLoaded");
}

async function openFile(file) {
  // A package dropped where a report goes is checked all the same.
  if (isZip(file)) return checkPackage(file);
  source.value = await file.text();
  await render(file.name);
}

async function render(name) {
  const run = ++renderCount;
  renderButton.disabled = true;
  delete pagesBox.dataset.done;
  if (name) setStatus("status.rendering", { name });
  else setStatus("status.renderingJson");
  try {
    const response = await api("/v1/render", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/pdf" },
      body: source.value,
    });
    if (run !== renderCount || !response) return;
    if (response.ok && (response.headers.get("content-type") ?? "").startsWith("application/pdf")) {
      await showPdf(response, run);
    } else {
      await showFailure(response);
    }
  } catch (error) {
    if (run === renderCount) setStatus("status.unreachableBecause", { message: error.message }, "error");
  } finally {
    if (run === renderCount) renderButton.disabled = false;
  }
}

/**
 * A zipped template package, checked as publishing would check it (POST /v1/templates/check): its
 * example rendered, or every problem by file, line and column. Nothing is published.
 */
async function checkPackage(file) {
  const run = ++renderCount;
  renderButton.disabled = false; // a report being rendered is superseded: its answer is ignored
  delete pagesBox.dataset.done;
  setStatus("status.checking", { name: file.name });
  try {
    const body = await file.arrayBuffer();
    // Picking the same file again (fixed and zipped again) must check it again.
    packageInput.value = "";
    const response = await api("/v1/templates/check", {
      method: "POST",
      headers: { "content-type": "application/zip", accept: "application/pdf" },
      body,
    });
    if (run !== renderCount || !response) return;
    if (response.ok && (response.headers.get("content-type") ?? "").startsWith("application/pdf")) {
      // "<id>@<version>": the download is named after the package's id.
      const template = response.headers.get("x-report-template") ?? "";
      const [id, version] = template.split("@");
      const name = id || file.name.replace(/\.zip$/i, "") || "template";
      await showPdf(response, run, {
        filename: `${name}.pdf`,
        lead: { key: "pdf.example", args: { name, version: version ?? "" } },
        done: (filename, pages) => ["status.checked", { file: file.name, filename, pages }],
      });
    } else {
      await showPackageFailure(response, file);
    }
  } catch (error) {
    if (run === renderCount) setStatus("status.checkFailed", { message: error.message }, "error");
  }
}

function isZip(file) {
  return /\.zip$/i.test(file.name) || /^application\/(x-)?zip(-compressed)?$/.test(file.type);
}

async function showPdf(response, run, { filename: name, lead, done } = {}) {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const filename = name ?? filenameOf(response.headers.get("content-disposition")) ?? "report.pdf";
  // A PDF too large to return inline came by redirect from storage: link to it there.
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = URL.createObjectURL(new Blob([bytes], { type: "application/pdf" }));
  downloadLink.href = response.redirected ? response.url : objectUrl;
  downloadLink.download = filename;
  localize(downloadLink, "pdf.download", { filename });

  const pages = Number(response.headers.get("x-report-pages")) || undefined;
  const warnings = Number(response.headers.get("x-report-warnings")) || 0;
  const facts = [
    lead,
    pages && { key: "pdf.pages", args: { n: pages } },
    formatBytes(bytes.byteLength),
    warnings && { key: "pdf.warnings", args: { n: warnings } },
  ].filter(Boolean);
  // One message of the parts, so that a language switch rewrites them all.
  localize($("pdf-facts"), "pdf.facts", Object.fromEntries(facts.map((fact, i) => [`part${i}`, fact])));
  errorsBox.hidden = true;
  pdfBox.hidden = false;
  pagesBox.replaceChildren();
  delete pagesBox.dataset.done;
  if (done) setStatus(...done(filename, pages), "ok");
  else setStatus("status.done", { filename, pages }, "ok");
  $("pdf-heading").focus();
  await drawPages(bytes, run);
}

async function drawPages(bytes, run) {
  let pdfjs;
  try {
    pdfjs = await import("/assets/pdfjs/pdf.min.mjs");
    pdfjs.GlobalWorkerOptions.workerSrc = "/assets/pdfjs/pdf.worker.min.mjs";
  } catch {
    pagesBox.replaceChildren(localize(document.createElement("p"), "pdf.noPreviews"));
    return;
  }
  const doc = await pdfjs.getDocument({ data: bytes, isEvalSupported: false }).promise;
  const count = Math.min(doc.numPages, MAX_PREVIEW_PAGES);
  for (let n = 1; n <= count && run === renderCount; n++) {
    const page = await doc.getPage(n);
    const base = page.getViewport({ scale: 1 });
    const scale = (220 / base.width) * Math.max(window.devicePixelRatio || 1, 2);
    const viewport = page.getViewport({ scale });
    const canvas = document.createElement("canvas");
    canvas.width = Math.ceil(viewport.width);
    canvas.height = Math.ceil(viewport.height);
    canvas.setAttribute("role", "img");
    localize(canvas, undefined, { n, total: doc.numPages }, { "aria-label": "pdf.pageOf" });
    const figure = document.createElement("figure");
    figure.className = "page";
    figure.setAttribute("role", "listitem");
    const caption = document.createElement("figcaption");
    localize(caption, "pdf.page", { n });
    figure.append(canvas, caption);
    pagesBox.append(figure);
    await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport }).promise;
    figure.dataset.rendered = "true";
  }
  if (doc.numPages > count) {
    const more = document.createElement("p");
    more.className = "hint";
    localize(more, "pdf.morePages", { n: doc.numPages - count });
    pagesBox.append(more);
  }
  pagesBox.dataset.done = "true";
  await doc.destroy();
}

async function failureBody(response) {
  try {
    const body = await response.json();
    if (body && typeof body === "object") return body;
  } catch {}
  return { errors: [] };
}

/** The service lists the first errors only and counts the rest in `truncated`. */
function truncatedOf(body) {
  return Number.isInteger(body.truncated) && body.truncated > 0 ? body.truncated : 0;
}

function moreItem(more) {
  const li = document.createElement("li");
  li.className = "error-more";
  localize(li, "errors.more", { n: more });
  return li;
}

async function showFailure(response) {
  const body = await failureBody(response);
  const errors = Array.isArray(body.errors) ? body.errors : [];
  const more = truncatedOf(body);
  pdfBox.hidden = true;
  errorsBox.hidden = false;
  errorsHint.hidden = false;
  // A JSON syntax error has no path, only a position in the text. The paths of data errors are
  // within "data"; those of envelope errors within the whole text.
  const place = (e) =>
    body.error === "invalid_json"
      ? { offset: jsonPosition(e.message) }
      : { pointer: body.error === "invalid_data" ? `/data${e.path ?? ""}` : (e.path ?? "") };
  errorList.replaceChildren(...errors.map((e) => errorItem(e, place(e))));
  if (more) errorList.append(moreItem(more));
  if (Array.isArray(body.templates)) {
    const li = document.createElement("li");
    localize(li, "errors.knownTemplates", { list: body.templates.join(", ") });
    errorList.append(li);
  }
  const n = errors.length + more;
  localize($("errors-heading"), n > 1 ? "errors.many" : "errors.one", { n });
  setStatus("status.notRendered", { message: serviceMessage(body, response) }, "error");
  $("errors-heading").focus();
}

/**
 * A package's problems, grouped by file (in the order the files first appear) and listed as given,
 * each as "file:line:column — message (rule)". A problem of the whole package has the path "(package)".
 */
async function showPackageFailure(response, { name, size }) {
  const body = await failureBody(response);
  // Refused by the gateway before the service saw it, the answer says only "Request Entity Too Large".
  const message =
    response.status === 413 && body.error !== "body_too_large"
      ? { key: "problems.tooLarge", args: { size: formatBytes(size), message: serviceMessage(body, response) } }
      : serviceMessage(body, response);
  const problems = Array.isArray(body.errors) ? body.errors : [];
  const more = truncatedOf(body);
  const byFile = new Map();
  for (const problem of problems) {
    const file = String(problem.path || "(package)");
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file).push(problem);
  }
  pdfBox.hidden = true;
  errorsBox.hidden = false;
  errorsHint.hidden = true;
  errorList.replaceChildren(
    ...[...byFile].map(([file, list], i) => {
      const li = document.createElement("li");
      li.className = "problem-file";
      const heading = document.createElement("span");
      heading.className = "problem-file-name";
      heading.id = `problems-${i}`;
      localize(heading, "problems.file", { file, n: list.length });
      const items = document.createElement("ul");
      items.className = "problem-list";
      items.setAttribute("aria-labelledby", heading.id);
      items.append(...list.map((problem) => problemItem(file, problem)));
      li.append(heading, items);
      return li;
    }),
  );
  if (more) errorList.append(moreItem(more));
  // Refused as a whole (too large, wrong headers): the service's message is the problem.
  if (!problems.length && !more) {
    const li = document.createElement("li");
    li.className = "problem-file";
    if (typeof message === "string") li.textContent = message;
    else localize(li, message.key, message.args);
    errorList.append(li);
  }
  const n = problems.length + more;
  localize($("errors-heading"), n > 1 ? "problems.many" : "problems.one", { n, name });
  setStatus("status.notRendered", { message }, "error");
  $("errors-heading").focus();
}

function problemItem(file, problem) {
  const li = document.createElement("li");
  li.className = "problem";
  const where = document.createElement("code");
  where.className = "problem-where";
  const line = Number.isInteger(problem.line) ? `:${problem.line}` : "";
  const column = line && Number.isInteger(problem.column) ? `:${problem.column}` : "";
  where.textContent = `${file}${line}${column}`;
  const message = document.createElement("span");
  message.className = "problem-message";
  message.textContent = ` — ${problem.message ?? ""}`;
  li.append(where, message);
  if (problem.rule) {
    const rule = document.createElement("span");
    rule.className = "error-rule";
    rule.textContent = ` (${problem.rule})`;
    li.append(rule);
  }
  return li;
}

function errorItem(error, { offset, pointer }) {
  const li = document.createElement("li");
  const where =
    offset !== undefined
      ? { start: offset, end: offset + 1, line: lineOf(source.value, offset) }
      : pointer !== undefined
        ? locate(source.value, pointer)
        : undefined;
  const path = document.createElement(where ? "button" : "span");
  path.className = where ? "error-path" : "error-path nowhere";
  path.textContent = error.path || "/";
  if (where) {
    path.type = "button";
    localize(path, undefined, { path: error.path || "/", line: where.line }, { "aria-label": "errors.show" });
    path.addEventListener("click", () => select(where));
  }
  const rule = document.createElement("span");
  rule.className = "error-rule";
  const line = document.createElement("span");
  if (where) localize(line, "errors.line", { line: where.line });
  rule.append(` ${error.rule ?? ""}`, line, " ");
  const message = document.createElement("span");
  message.className = "error-message";
  message.textContent = error.message;
  li.append(path, rule, document.createElement("br"), message);
  const detail = [
    error.expected !== undefined && ["errors.expected", JSON.stringify(error.expected)],
    error.actual !== undefined && ["errors.found", JSON.stringify(error.actual)],
  ].filter(Boolean);
  if (detail.length) {
    const small = document.createElement("span");
    small.className = "error-detail";
    small.append(
      ...detail.flatMap(([key, value], i) => [
        ...(i ? ["; "] : []),
        localize(document.createElement("span"), key, { value }),
      ]),
    );
    li.append(small);
  }
  return li;
}

function select({ start, end, line }) {
  source.focus();
  source.setSelectionRange(start, end);
  const lineHeight = parseFloat(getComputedStyle(source).lineHeight) || 18;
  source.scrollTop = Math.max(0, (line - 4) * lineHeight);
}

/** "…at position 123…" in a JSON.parse message → 123. */
function jsonPosition(message = "") {
  const match = /position (\d+)/.exec(message);
  return match ? Math.min(Number(match[1]), Math.max(source.value.length - 1, 0)) : undefined;
}

function filenameOf(disposition) {
  if (!disposition) return undefined;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star) return decodeURIComponent(star[1]);
  return /filename="([^"]+)"/i.exec(disposition)?.[1];
}

function formatBytes(n) {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`;
}

/** The service's own message for a refusal (as it wrote it), or its HTTP status. */
function serviceMessage(body, response) {
  return typeof body.message === "string"
    ? body.message
    : { key: "status.httpStatus", args: { status: response.status } };
}

function setStatus(key, args = {}, kind = "") {
  localize(statusLine, key, args);
  statusLine.className = `status ${kind}`;
}
