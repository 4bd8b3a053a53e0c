// OpenID Connect sign-in from the browser, as a public client: the authorization code flow with
// PKCE (S256), a state and a nonce, both checked on the way back; the code is exchanged at the token
// endpoint by the page itself. Tokens are kept in sessionStorage (this tab only, gone when it
// closes), never in localStorage. The ID token comes straight from the token endpoint over TLS, so
// its claims are checked (iss, aud, azp, exp, nonce) but not its signature (OpenID Connect Core 3.1.3.7).

const PENDING = "report-render.sign-in.pending";
const SESSION = "report-render.sign-in.session";
/** localStorage: after a sign-out, the next sign-in asks for the password again (the provider's own session may outlive ours). */
const SIGNED_OUT = "report-render.signed-out";
const PENDING_MAX_MS = 15 * 60_000;
const CLOCK_SKEW_MS = 5 * 60_000;

/** Why a sign-in did not complete: a message of the page ({ key, args }), or the provider's own words (`refused`). */
export class SignInError extends Error {
  constructor(message, { refused = false } = {}) {
    super(typeof message === "string" ? message : message.key);
    this.detail = message;
    this.refused = refused;
  }
}

const fail = (key, args) => new SignInError({ key, args });

/** Where the provider sends the browser back: the page itself (registered with the provider as the client's redirect URI). */
export function redirectUri() {
  return `${location.origin}/`;
}

/** The provider's authorization URL for a new sign-in; what the answer must match is kept for it in sessionStorage. */
export async function beginSignIn(config, { language }) {
  if (!globalThis.isSecureContext || !crypto.subtle) throw fail("signIn.insecure");
  const state = randomText();
  const nonce = randomText();
  const verifier = randomText(32);
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
  );
  const pending = { state, nonce, verifier, issuer: config.issuer, clientId: config.clientId, at: Date.now() };
  sessionStorage.setItem(PENDING, JSON.stringify({ ...pending, redirectUri: redirectUri() }));
  const url = new URL(config.authorizeUrl);
  const params = {
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scopes.join(" "),
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ui_locales: language,
    // Cognito's managed login reads `lang`, not ui_locales.
    lang: language,
  };
  if (signedOutHere()) params.prompt = "login";
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/** The provider's answer in `url` (the page's own URL after the redirect back), if there is one. */
export function answerIn(url) {
  const query = url.searchParams;
  if (!query.has("code") && !query.has("error") && !query.has("state")) return undefined;
  return {
    code: query.get("code") ?? "",
    state: query.get("state") ?? "",
    error: query.get("error") ?? "",
    errorDescription: query.get("error_description") ?? "",
    iss: query.get("iss"),
  };
}

/** Completes the sign-in `answer` answers: the tokens are kept, and the session returned. Throws a SignInError. */
export async function finishSignIn(config, answer) {
  const pending = takePending();
  // Nothing is believed before the state matches a sign-in this tab started: not even an error.
  if (!pending || !answer.state || answer.state !== pending.state) throw fail("signIn.state");
  if (pending.issuer !== config.issuer || pending.clientId !== config.clientId) throw fail("signIn.state");
  if (!(Date.now() - pending.at < PENDING_MAX_MS)) throw fail("signIn.stale");
  if (answer.error) {
    const words = [answer.error, answer.errorDescription].filter(Boolean).join(": ");
    throw new SignInError(words.slice(0, 500), { refused: true });
  }
  // RFC 9207: a provider that names itself must be the one the page sent the user to.
  if (answer.iss !== null && answer.iss !== config.issuer) throw fail("signIn.issuer");
  if (!answer.code) throw fail("signIn.tokenInvalid", { what: "code" });

  let response;
  try {
    response = await fetch(config.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: answer.code,
        redirect_uri: pending.redirectUri,
        client_id: config.clientId,
        code_verifier: pending.verifier,
      }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw fail("signIn.tokenUnreachable", { message: String(error.message ?? error) });
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const words = [body?.error, body?.error_description].filter((w) => typeof w === "string").join(": ");
    throw fail("signIn.tokenHttp", { status: response.status, message: words.slice(0, 500) });
  }
  const accessToken = body?.access_token;
  if (typeof accessToken !== "string" || !/^[\x21-\x7e]+$/.test(accessToken))
    throw fail("signIn.tokenInvalid", { what: "access_token" });
  if (body.token_type !== undefined && String(body.token_type).toLowerCase() !== "bearer")
    throw fail("signIn.tokenInvalid", { what: "token_type" });
  const claims = typeof body.id_token === "string" ? jwtClaims(body.id_token) : undefined;
  if (!claims) throw fail("signIn.tokenInvalid", { what: "id_token" });
  checkIdToken(claims, config, pending.nonce);

  const now = Date.now();
  const expiresIn = Number(body.expires_in);
  const accessExp = jwtClaims(accessToken)?.exp;
  const expiresAt =
    Number.isFinite(expiresIn) && expiresIn > 0
      ? now + expiresIn * 1000
      : Number.isFinite(accessExp)
        ? accessExp * 1000
        : claims.exp * 1000;
  const session = {
    issuer: config.issuer,
    clientId: config.clientId,
    accessToken,
    expiresAt,
    user: {
      email: claimText(claims.email),
      // A pool whose users sign in by e-mail names them by a UUID (cognito:username): the e-mail
      // says more, so an id is shown only when there is nothing else.
      name:
        claimText(claims.name) ??
        claimText(claims.preferred_username) ??
        (claimText(claims.email) ? undefined : (claimText(claims["cognito:username"]) ?? claimText(claims.sub))),
    },
  };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  try {
    localStorage.removeItem(SIGNED_OUT);
  } catch {}
  return session;
}

function checkIdToken(claims, config, nonce) {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const now = Date.now();
  if (claims.iss !== config.issuer) throw fail("signIn.idToken", { claim: "iss" });
  if (!audiences.includes(config.clientId)) throw fail("signIn.idToken", { claim: "aud" });
  if ((audiences.length > 1 || claims.azp !== undefined) && claims.azp !== config.clientId)
    throw fail("signIn.idToken", { claim: "azp" });
  if (!(Number.isFinite(claims.exp) && claims.exp * 1000 > now - CLOCK_SKEW_MS))
    throw fail("signIn.idToken", { claim: "exp" });
  if (Number.isFinite(claims.iat) && claims.iat * 1000 > now + CLOCK_SKEW_MS)
    throw fail("signIn.idToken", { claim: "iat" });
  if (claims.nonce !== nonce) throw fail("signIn.idToken", { claim: "nonce" });
}

/** This tab's session for `config`, if any (expired or not: `expired(session)` says). */
export function readSession(config) {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION) ?? "null");
    if (
      session &&
      session.issuer === config.issuer &&
      session.clientId === config.clientId &&
      typeof session.accessToken === "string" &&
      Number.isFinite(session.expiresAt)
    )
      return session;
  } catch {}
  return undefined;
}

export function expired(session) {
  return Date.now() >= session.expiresAt;
}

/** Forgets this tab's tokens (and any sign-in under way). */
export function dropSession() {
  sessionStorage.removeItem(SESSION);
  sessionStorage.removeItem(PENDING);
}

export function signOut() {
  dropSession();
  try {
    localStorage.setItem(SIGNED_OUT, "1");
  } catch {}
}

function signedOutHere() {
  try {
    return localStorage.getItem(SIGNED_OUT) === "1";
  } catch {
    return false;
  }
}

/** The sign-in under way, removed as it is read: an answer is taken once. */
function takePending() {
  const text = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  try {
    const pending = JSON.parse(text ?? "null");
    return pending && typeof pending.state === "string" && typeof pending.verifier === "string" ? pending : undefined;
  } catch {
    return undefined;
  }
}

/** The claims of a JWT (its payload, UTF-8 JSON), or undefined when it is not one. */
function jwtClaims(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const binary = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return claims && typeof claims === "object" && !Array.isArray(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** A claim shown to the user: a string, without control characters, not too long. */
function claimText(value) {
  if (typeof value !== "string") return undefined;
  const text = value
    .replace(/\p{Cc}/gu, "")
    .trim()
    .slice(0, 200);
  return text || undefined;
}

function randomText(bytes = 24) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}
