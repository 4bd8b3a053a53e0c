// The page's two languages. Every text the page shows is a message key: an element keeps its key
// (data-i18n, data-i18n-attrs) and arguments (data-i18n-args), so switching the language rewrites the
// texts in place, without reloading and without touching what the user typed or the results shown.
import { messages } from "./messages.js";

export const LANGUAGES = ["zh-CN", "en"];
const STORED = "report-render.language";

let language = "en";
const listeners = [];

/**
 * The language chosen on the page (remembered), else Chinese when the browser lists any Chinese
 * (zh, zh-*: the page has Simplified Chinese only) among its languages, else English.
 */
export function initialLanguage() {
  const stored = storedLanguage();
  if (stored) return stored;
  const tags = navigator.languages?.length ? navigator.languages : [navigator.language ?? ""];
  return tags.some((tag) => /^zh(-|$)/i.test(String(tag))) ? "zh-CN" : "en";
}

function storedLanguage() {
  try {
    const value = localStorage.getItem(STORED);
    return LANGUAGES.includes(value) ? value : undefined;
  } catch {
    return undefined; // storage off (a privacy setting): the browser's language every time
  }
}

export function currentLanguage() {
  return language;
}

/** Switch to `lang` (and remember it when `remember`): every localized text on the page is rewritten. */
export function setLanguage(lang, { remember = false } = {}) {
  language = LANGUAGES.includes(lang) ? lang : "en";
  if (remember) {
    try {
      localStorage.setItem(STORED, language);
    } catch {}
  }
  document.documentElement.lang = language;
  document.title = t("title");
  applyLanguage(document);
  for (const listener of listeners) listener(language);
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

/**
 * The text of `key` in the current language. A message is a string with {name} placeholders or a
 * function of the arguments; an argument may itself be a message ({ key, args }).
 */
export function t(key, args = {}) {
  const message = messages[language]?.[key] ?? messages.en[key];
  if (message === undefined) return key;
  const values = Object.fromEntries(
    Object.entries(args).map(([name, value]) => [name, isMessage(value) ? t(value.key, value.args) : value]),
  );
  if (typeof message === "function") return message(values);
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function isMessage(value) {
  return value !== null && typeof value === "object" && typeof value.key === "string";
}

/**
 * Gives `element` the text of `key` (and attributes: { "aria-label": key }), now and after every
 * language switch. Arguments are kept as JSON, so they must be plain data.
 */
export function localize(element, key, args, attributes) {
  if (key) element.dataset.i18n = key;
  else delete element.dataset.i18n;
  if (attributes)
    element.dataset.i18nAttrs = Object.entries(attributes)
      .map(([name, attributeKey]) => `${name}=${attributeKey}`)
      .join(";");
  if (args && Object.keys(args).length) element.dataset.i18nArgs = JSON.stringify(args);
  else delete element.dataset.i18nArgs;
  applyTo(element);
  return element;
}

export function applyLanguage(root) {
  for (const element of root.querySelectorAll("[data-i18n], [data-i18n-attrs]")) applyTo(element);
}

function applyTo(element) {
  let args = {};
  try {
    args = element.dataset.i18nArgs ? JSON.parse(element.dataset.i18nArgs) : {};
  } catch {}
  if (element.dataset.i18n) element.textContent = t(element.dataset.i18n, args);
  for (const pair of (element.dataset.i18nAttrs ?? "").split(";")) {
    const [name, key] = pair.split("=");
    if (name && key) element.setAttribute(name.trim(), t(key.trim(), args));
  }
}
