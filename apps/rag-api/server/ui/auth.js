"use strict";
// Login with the OIDC authorization-code flow and PKCE (RFC 7636) against the
// issuer the API verifies tokens of. The token lives in sessionStorage (gone
// with the tab) and is sent as a bearer token; nothing here holds a secret.
const Auth = (() => {
  const KEY = "rag-api.token", PENDING = "rag-api.login";
  let cfg = null;

  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
  const redirectURI = () => location.origin + location.pathname;

  function claims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(decodeURIComponent(escape(atob(part))));
    } catch (_) { return null; }
  }

  function stored() {
    try {
      const t = JSON.parse(sessionStorage.getItem(KEY) || "null");
      if (t && t.exp * 1000 > Date.now() + 10000) return t;
    } catch (_) { /* ignore */ }
    sessionStorage.removeItem(KEY);
    return null;
  }

  async function login() {
    const verifier = random(48);
    const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const state = random(24);
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
    const q = new URLSearchParams({
      response_type: "code", client_id: cfg.client_id, redirect_uri: redirectURI(), scope: cfg.scopes,
      state, code_challenge: challenge, code_challenge_method: "S256",
    });
    location.assign(cfg.authorization_endpoint + (cfg.authorization_endpoint.includes("?") ? "&" : "?") + q);
  }

  // finish exchanges the code the issuer redirected back with.
  async function finish(params) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, "", redirectURI());
    if (params.get("error")) throw new Error(params.get("error_description") || params.get("error"));
    if (!pending || pending.state !== params.get("state")) throw new Error("login state mismatch: start the login again");
    const resp = await fetch(cfg.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirectURI(),
        client_id: cfg.client_id, code_verifier: pending.verifier }),
    });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error("token endpoint: " + (body.error_description || body.error || resp.status));
    const token = body[cfg.token] || body.access_token;
    const c = claims(token) || {};
    const idc = claims(body.id_token || "") || {};
    const exp = c.exp || Math.floor(Date.now() / 1000) + Math.min(Number(body.expires_in) || 3600, 3600);
    const t = { token, exp, name: idc.name || idc.email || idc.preferred_username || c.email || c.username || "" };
    sessionStorage.setItem(KEY, JSON.stringify(t));
    return t;
  }

  return {
    // init loads the server's login settings and completes a pending login.
    async init() {
      const resp = await fetch("v1/config");
      cfg = resp.ok ? ((await resp.json()).oidc || null) : null;
      if (!cfg) return { enabled: false };
      const params = new URLSearchParams(location.search);
      if (params.has("code") || params.has("error")) return { enabled: true, user: await finish(params) };
      return { enabled: true, user: stored() };
    },
    login,
    logout() {
      sessionStorage.removeItem(KEY);
      if (cfg && cfg.end_session_endpoint) {
        location.assign(cfg.end_session_endpoint + "?" + new URLSearchParams({ client_id: cfg.client_id, post_logout_redirect_uri: redirectURI() }));
      } else {
        location.reload();
      }
    },
    headers() {
      const t = stored();
      return t ? { Authorization: "Bearer " + t.token } : {};
    },
    expired() { sessionStorage.removeItem(KEY); },
  };
})();
