// Who uses the page, where the deployment signs its users in (sign-in.js does the protocol), and
// every call the page makes to the API: with `Authorization: Bearer <access token>` when signed in.
// Without sign-in settings (`npm start`) the page calls the API as it is, with no account shown.
import { currentLanguage, localize, onLanguageChange } from "./i18n.js";
import {
  answerIn,
  beginSignIn,
  dropSession,
  expired,
  finishSignIn,
  readSession,
  SignInError,
  signOut,
} from "./sign-in.js";

/** sessionStorage: the JSON being edited, kept across the trip to the provider and back. */
const DRAFT = "report-render.draft";
const MAX_TIMER_MS = 2 ** 31 - 1;

const $ = (id) => document.getElementById(id);
let config; // the sign-in settings; undefined: the page signs nobody in
let say = () => {};
let expiryTimer;

/**
 * Learns whether this deployment signs its users in, completes a sign-in the page has come back
 * from, and shows the account. `setStatus(key, args, kind)` shows a message; `draft` is the text
 * to keep across a sign-in (get/set).
 */
export async function startAccount({ setStatus, draft }) {
  say = setStatus;
  config = await signInSettings();
  if (!config) return;
  $("account").hidden = false;
  $("sign-in").addEventListener("click", () => signIn(draft.get()));
  $("sign-out").addEventListener("click", () => {
    signOut();
    showAccount();
    say("status.signedOut", {}, "ok");
  });
  onLanguageChange(() => showAccount());

  const answer = answerIn(new URL(location.href));
  if (answer) {
    // The code and state leave the address bar (and the history) at once.
    history.replaceState(null, "", location.pathname);
    await completeSignIn(answer);
  }
  const kept = takeDraft();
  if (kept !== undefined) draft.set(kept);
  showAccount();
  if (!answer && !usableSession()) say("status.signInNeeded");
}

/** Whether the API may be called now: always without sign-in, else with a session that has not expired. */
export function signedIn() {
  return !config || usableSession() !== undefined;
}

/**
 * fetch() for the API. Signed out (or expired), nothing is sent and undefined is returned, the
 * status line saying why; a 401 (the token refused) signs the page out the same way.
 */
export async function api(path, init = {}, { quiet = false } = {}) {
  if (!config) return fetch(path, init);
  const session = readSession(config);
  if (!session || expired(session)) {
    if (session) dropSession();
    showAccount();
    if (!quiet) say(session ? "status.signInExpired" : "status.signInNeeded", {}, "error");
    return undefined;
  }
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${session.accessToken}`);
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) {
    dropSession();
    showAccount();
    say("status.signInExpired", {}, "error");
    return undefined;
  }
  return response;
}

async function signInSettings() {
  try {
    const response = await fetch("/assets/web-config.json", { cache: "no-store" });
    if (!response.ok) return undefined; // an older service: no sign-in
    const { signIn } = await response.json();
    const fine =
      signIn &&
      typeof signIn.issuer === "string" &&
      typeof signIn.clientId === "string" &&
      typeof signIn.authorizeUrl === "string" &&
      typeof signIn.tokenUrl === "string" &&
      Array.isArray(signIn.scopes);
    return fine ? signIn : undefined;
  } catch {
    return undefined;
  }
}

async function signIn(text) {
  try {
    const url = await beginSignIn(config, { language: currentLanguage() });
    keepDraft(text);
    say("status.signingIn");
    location.assign(url);
  } catch (error) {
    showSignInError(error);
  }
}

async function completeSignIn(answer) {
  say("status.signingIn");
  try {
    const session = await finishSignIn(config, answer);
    say("status.signedIn", { user: userMessage(session.user) }, "ok");
  } catch (error) {
    showSignInError(error);
  }
}

function showSignInError(error) {
  if (!(error instanceof SignInError)) throw error;
  if (error.refused) say("status.signInRefused", { message: error.detail }, "error");
  else say("status.signInFailed", { message: error.detail }, "error");
}

function usableSession() {
  const session = readSession(config);
  return session && !expired(session) ? session : undefined;
}

/** The account area as the session is now; at its expiry, it shows the page signed out. */
function showAccount() {
  const session = usableSession();
  const user = $("account-user");
  user.hidden = !session;
  $("sign-in").hidden = Boolean(session);
  $("sign-out").hidden = !session;
  if (session) localize(user, "account.signedInAs", { user: userMessage(session.user) });
  clearTimeout(expiryTimer);
  if (session)
    expiryTimer = setTimeout(() => showAccount(), Math.min(Math.max(session.expiresAt - Date.now(), 0), MAX_TIMER_MS));
}

function userMessage({ name, email } = {}) {
  return { key: "account.user", args: { name: name ?? "", email: email ?? "" } };
}

function keepDraft(text) {
  try {
    if (text) sessionStorage.setItem(DRAFT, text);
  } catch {
    // Larger than the browser keeps (about 5 MB): the file can be chosen again.
  }
}

function takeDraft() {
  const text = sessionStorage.getItem(DRAFT);
  sessionStorage.removeItem(DRAFT);
  return text ?? undefined;
}
