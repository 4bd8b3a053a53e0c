// The web page: a JSON file in, a PDF (with page previews) or the errors out. Plain modules, no
// build step; pdf.js is loaded from this service only when there is a PDF to preview.
import { lineOf, locate } from "./json-locate.js";

const $ = (id) => document.getElementById(id);
const source = $("source");
const fileInput = $("file-input");
const dropZone = $("drop-zone");
const exampleSelect = $("example-select");
const renderButton = $("render-button");
const statusLine = $("status");
const errorsBox = $("errors");
const errorList = $("error-list");
const pdfBox = $("pdf");
const pagesBox = $("pages");
const downloadLink = $("download-link");
const MAX_PREVIEW_PAGES = 30;

let objectUrl;
let renderCount = 0;

loadTemplates();

fileInput.addEventListener("change", () => {
  const file = fileInput.files?.[0];
  if (file) openFile(file);
});
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("dragging");
});
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  const file = event.dataTransfer?.files?.[0];
  if (file) openFile(file);
});
exampleSelect.addEventListener("change", () => {
  if (exampleSelect.value) loadExample(exampleSelect.value);
});
renderButton.addEventListener("click", () => render());

async function loadTemplates() {
  try {
    const response = await fetch("/v1/templates");
    const { templates } = await response.json();
    for (const template of templates) {
      const option = document.createElement("option");
      option.value = template.id;
      option.textContent = `${template.title} (${template.id})`;
      exampleSelect.append(option);
    }
  } catch {
    exampleSelect.disabled = true;
  }
}

async function loadExample(id) {
  setStatus(`Loading the example for ${id}…`);
  const response = await fetch(`/v1/templates/${encodeURIComponent(id)}/example`);
  if (!response.ok) return setStatus(`The example could not be loaded (HTTP ${response.status}).`, "error");
  source.value = JSON.stringify(await response.json(), null, 2);
  setStatus("Example loaded. Edit it if you like, then render it.");
}

async function openFile(file) {
  source.value = await file.text();
  await render(file.name);
}

async function render(name = "the JSON") {
  const run = ++renderCount;
  renderButton.disabled = true;
  delete pagesBox.dataset.done;
  setStatus(`Rendering ${name}…`);
  try {
    const response = await fetch("/v1/render", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/pdf" },
      body: source.value,
    });
    if (run !== renderCount) return;
    if (response.ok && (response.headers.get("content-type") ?? "").startsWith("application/pdf")) {
      await showPdf(response, run);
    } else {
      await showFailure(response);
    }
  } catch (error) {
    if (run === renderCount) setStatus(`The service could not be reached: ${error.message}`, "error");
  } finally {
    if (run === renderCount) renderButton.disabled = false;
  }
}

async function showPdf(response, run) {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const filename = filenameOf(response.headers.get("content-disposition")) ?? "report.pdf";
  // A PDF too large to return inline came by redirect from storage: link to it there.
  if (objectUrl) URL.revokeObjectURL(objectUrl);
  objectUrl = URL.createObjectURL(new Blob([bytes], { type: "application/pdf" }));
  downloadLink.href = response.redirected ? response.url : objectUrl;
  downloadLink.download = filename;
  downloadLink.textContent = `Download ${filename}`;

  const pages = Number(response.headers.get("x-report-pages")) || undefined;
  const warnings = Number(response.headers.get("x-report-warnings")) || 0;
  $("pdf-facts").textContent = [
    pages && `${pages} page${pages === 1 ? "" : "s"}`,
    formatBytes(bytes.byteLength),
    warnings && `${warnings} warning${warnings === 1 ? "" : "s"} (validation: warn)`,
  ]
    .filter(Boolean)
    .join(" · ");
  errorsBox.hidden = true;
  pdfBox.hidden = false;
  pagesBox.replaceChildren();
  delete pagesBox.dataset.done;
  setStatus(`Done: ${filename}${pages ? `, ${pages} pages` : ""}. Previews are below.`, "ok");
  $("pdf-heading").focus();
  await drawPages(bytes, run);
}

async function drawPages(bytes, run) {
  let pdfjs;
  try {
    pdfjs = await import("/assets/pdfjs/pdf.min.mjs");
    pdfjs.GlobalWorkerOptions.workerSrc = "/assets/pdfjs/pdf.worker.min.mjs";
  } catch {
    pagesBox.textContent = "Page previews are not available here; the download works.";
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
    canvas.setAttribute("aria-label", `Page ${n} of ${doc.numPages}`);
    const figure = document.createElement("figure");
    figure.className = "page";
    figure.setAttribute("role", "listitem");
    const caption = document.createElement("figcaption");
    caption.textContent = `Page ${n}`;
    figure.append(canvas, caption);
    pagesBox.append(figure);
    await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport }).promise;
    figure.dataset.rendered = "true";
  }
  if (doc.numPages > count) {
    const more = document.createElement("p");
    more.className = "hint";
    more.textContent = `…and ${doc.numPages - count} more pages in the PDF.`;
    pagesBox.append(more);
  }
  pagesBox.dataset.done = "true";
  await doc.destroy();
}

async function showFailure(response) {
  let body;
  try {
    body = await response.json();
  } catch {
    body = { message: `HTTP ${response.status}`, errors: [] };
  }
  const errors = Array.isArray(body.errors) ? body.errors : [];
  // The service lists the first errors only and counts the rest in `truncated`.
  const more = Number.isInteger(body.truncated) && body.truncated > 0 ? body.truncated : 0;
  pdfBox.hidden = true;
  errorsBox.hidden = false;
  // A JSON syntax error has no path, only a position in the text. The paths of data errors are
  // within "data"; those of envelope errors within the whole text.
  const place = (e) =>
    body.error === "invalid_json"
      ? { offset: jsonPosition(e.message) }
      : { pointer: body.error === "invalid_data" ? `/data${e.path ?? ""}` : e.path ?? "" };
  errorList.replaceChildren(...errors.map((e) => errorItem(e, place(e))));
  if (more) {
    const li = document.createElement("li");
    li.className = "error-more";
    li.textContent = `… and ${more} more`;
    errorList.append(li);
  }
  if (Array.isArray(body.templates)) {
    const li = document.createElement("li");
    li.textContent = `Known templates: ${body.templates.join(", ")}`;
    errorList.append(li);
  }
  const n = errors.length + more;
  $("errors-heading").textContent = n > 1 ? `${n} errors` : "Error";
  setStatus(`Not rendered: ${body.message ?? `HTTP ${response.status}`}`, "error");
  $("errors-heading").focus();
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
    path.setAttribute("aria-label", `${error.path || "/"}, line ${where.line}: show in the JSON`);
    path.addEventListener("click", () => select(where));
  }
  const rule = document.createElement("span");
  rule.className = "error-rule";
  rule.textContent = ` ${error.rule ?? ""}${where ? ` · line ${where.line}` : ""} `;
  const message = document.createElement("span");
  message.className = "error-message";
  message.textContent = error.message;
  li.append(path, rule, document.createElement("br"), message);
  const detail = [
    error.expected !== undefined && `expected ${JSON.stringify(error.expected)}`,
    error.actual !== undefined && `found ${JSON.stringify(error.actual)}`,
  ].filter(Boolean);
  if (detail.length) {
    const small = document.createElement("span");
    small.className = "error-detail";
    small.textContent = detail.join("; ");
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

function setStatus(text, kind = "") {
  statusLine.textContent = text;
  statusLine.className = `status ${kind}`;
}
