// Signing in and out: with an operator account (username and password,
// which POST /v1/admin/login trades for a session token) or with the admin
// token. Either token is kept in this tab only (sessionStorage); signing
// out ends an operator's session on the server, and forgets the token and
// everything read with it. Who is signed in, and the role, show in the top
// bar; the controls the role cannot use are hidden (admin.css, data-role).

import { S, TOKEN_KEY } from "./state.js";
import { $, setText, announce } from "./dom.js";
import { ApiError, showError, clearError, report } from "./errors.js";
import { api, whenRefused } from "./api.js";
import { connectLive, stopLive } from "./live.js";
import { loadSales, loadSaleView, resetSales } from "./sales.js";
import { loadPipeline } from "./system.js";
import { loadAudit, resetAudit } from "./audit.js";
import { loadBlocklist, resetBlocklist } from "./blocklist.js";
import { refreshFlags, resetFlags } from "./flags.js";
import { loadShopKeys, resetShopKeys } from "./shopkeys.js";

const AUDIT_EVERY = 10000;

let auditTimer = 0;

// SESSION_PREFIX starts an operator's session token (the admin token is
// anything else).
const SESSION_PREFIX = "fo_";

function showSignin(message) {
  $("dashboard").hidden = true;
  $("live").hidden = true;
  $("signout").hidden = true;
  $("whoami").hidden = true;
  $("signin-view").hidden = false;
  setText($("login-message"), message || "");
  setText($("signin-message"), "");
  $("username").setAttribute("aria-invalid", message ? "true" : "false");
  $("password").value = "";
  $("token").value = "";
  $("username").focus();
}

// showWho shows who is signed in and lets the page hide what the role
// cannot use.
export function showWho(me) {
  document.body.dataset.role = me.role;
  setText($("whoami"), `${me.username || "admin token"} · ${me.role}`);
  $("whoami").hidden = false;
}

// endSession ends an operator's session on the server; the admin token has
// none. A failure is let be: the session still ends when idle.
async function endSession(token) {
  if (!token.startsWith(SESSION_PREFIX)) return;
  try {
    await fetch("/v1/admin/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch { /* ends when idle */ }
}

// signOut forgets the token and what was read with it; a session the
// server refused is over already (the Sign out button ends a live one).
export function signOut(message, err) {
  S.gen++;
  S.token = "";
  delete document.body.dataset.role;
  try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* ignore */ }
  stopLive();
  clearInterval(auditTimer);
  auditTimer = 0;
  S.plans = [];
  S.byId.clear();
  S.view.clear();
  S.history.clear();
  S.nodes = null;
  S.pipeline = null;
  S.audit = [];
  S.auditMax = 0;
  S.blocks = [];
  S.flags = null;
  resetSales();
  resetAudit();
  resetBlocklist();
  resetFlags();
  resetShopKeys();
  if (err) showError(err.code, err.message); else clearError();
  showSignin(message);
  announce(message || "Signed out.");
}

// liveRefused signs out when the live feed closes with 4001.
export function liveRefused(reason) {
  signOut("The live feed refused the sign-in. Sign in again.", new ApiError("unauthorized", reason));
}

// periodic reads what the live feed does not push: the audit log and the
// blocklist (another operator may have changed them), and, without the
// feed, the rest too.
function periodic() {
  loadAudit().catch(report);
  loadBlocklist().catch(report); // another operator may have changed it
  if (S.conn !== "live") {
    loadPipeline().catch(report);
    if (S.selected) loadSaleView(S.selected).catch(report);
    refreshFlags();
  }
}

async function enter(token, fromForm) {
  S.token = token;
  $("signin-view").hidden = true;
  $("dashboard").hidden = false;
  $("live").hidden = false;
  $("signout").hidden = false;
  if (fromForm) clearError();
  try {
    showWho(await api("GET", "/v1/admin/me"));
    await loadSales();
  } catch (e) {
    report(e);
    if (e.handled) return; // 401: back at the sign-in form
  }
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* this page only */ }
  if (fromForm) {
    announce("Signed in.");
    // Keyboard users land on the list of sales, not on a hidden form; an
    // operator who went on to a field while the sales loaded stays there.
    if (!focusMovedOn()) {
      const current = S.selected && $(`sale-${S.selected}`);
      (current || $("main")).focus();
    }
  }
  connectLive();
  loadPipeline().catch(report);
  loadAudit().catch(report);
  loadBlocklist().catch(report);
  loadShopKeys().catch(report);
  refreshFlags();
  clearInterval(auditTimer);
  auditTimer = setInterval(periodic, AUDIT_EVERY);
}

// focusMovedOn says whether the operator put the focus somewhere of the
// dashboard's own since signing in: not on the page itself, nor on the
// sign-in forms, now hidden.
function focusMovedOn() {
  const at = document.activeElement;
  return !!at && at !== document.body && !$("signin-view").contains(at);
}

// login trades a username and password for a session token. A refusal
// says why in words, and keeps the username typed.
async function login(e) {
  e.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  const message = $("login-message");
  if (!username || !password) {
    setText(message, "Enter your username and password.");
    $(username ? "password" : "username").setAttribute("aria-invalid", "true");
    $(username ? "password" : "username").focus();
    return;
  }
  const btn = $("login-submit");
  btn.disabled = true;
  setText(message, "");
  try {
    const res = await fetch("/v1/admin/login", {
      method: "POST", cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username, password }),
    });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const code = body && body.error ? body.error.code : `http_${res.status}`;
      const wait = res.headers.get("Retry-After");
      setText(message, code === "login_failed" ? "Wrong username or password, or the account is disabled."
        : code === "rate_limited" ? `Too many sign-ins. Try again in ${wait || "a few"} s.`
        : `Sign-in failed (${code}).`);
      $("password").value = "";
      $("password").setAttribute("aria-invalid", "true");
      $("password").focus();
      return;
    }
    $("password").value = "";
    await enter(body.token, true);
  } catch (err) {
    setText(message, `Could not reach the server (${err.message || err}).`);
  } finally {
    btn.disabled = false;
  }
}

export function wireSession() {
  whenRefused((err) => signOut("Your session ended or the token was refused. Sign in again.", err));
  $("login").addEventListener("submit", login);
  $("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = $("token").value.trim();
    if (!token) {
      setText($("signin-message"), "Enter the admin token.");
      $("token").setAttribute("aria-invalid", "true");
      $("token").focus();
      return;
    }
    const btn = $("signin-submit");
    btn.disabled = true;
    setText($("signin-message"), "");
    try {
      await enter(token, true);
    } finally {
      btn.disabled = false;
    }
  });
  // Signing out waits for the server to end the session: a token copied
  // from this tab must not work after.
  $("signout").addEventListener("click", async () => {
    const btn = $("signout");
    btn.disabled = true;
    try { await endSession(S.token); } finally { btn.disabled = false; }
    signOut("Signed out.");
  });
  $("error-close").addEventListener("click", () => {
    clearError();
    const main = $("main");
    main.focus();
  });
}

// resume signs in again with the token this tab kept, or asks for one.
export function resume() {
  let stored = "";
  try { stored = sessionStorage.getItem(TOKEN_KEY) || ""; } catch { /* storage unavailable */ }
  if (stored) {
    enter(stored, false);
  } else {
    showSignin("");
  }
}
