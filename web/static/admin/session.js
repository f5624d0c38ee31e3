// Signing in and out. The admin token is kept in this tab only
// (sessionStorage); signing out forgets it and everything read with it.

import { S, TOKEN_KEY } from "./state.js";
import { $, setText, announce } from "./dom.js";
import { ApiError, showError, clearError, report } from "./errors.js";
import { whenRefused } from "./api.js";
import { connectLive, stopLive } from "./live.js";
import { loadSales, loadSaleView, resetSales } from "./sales.js";
import { loadPipeline } from "./system.js";
import { loadAudit, resetAudit } from "./audit.js";
import { loadBlocklist, resetBlocklist } from "./blocklist.js";
import { refreshFlags, resetFlags } from "./flags.js";
import { loadShopKeys, resetShopKeys } from "./shopkeys.js";

const AUDIT_EVERY = 10000;

let auditTimer = 0;

function showSignin(message) {
  $("dashboard").hidden = true;
  $("live").hidden = true;
  $("signout").hidden = true;
  $("signin-view").hidden = false;
  setText($("signin-message"), message || "");
  $("token").setAttribute("aria-invalid", message ? "true" : "false");
  $("token").value = "";
  $("token").focus();
}

export function signOut(message, err) {
  S.gen++;
  S.token = "";
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
  signOut("The live feed refused the admin token. Sign in again.", new ApiError("unauthorized", reason));
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
    await loadSales();
  } catch (e) {
    report(e);
    if (e.handled) return; // 401: back at the sign-in form
  }
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* this page only */ }
  if (fromForm) {
    announce("Signed in.");
    // Keyboard users land on the list of sales, not on a hidden form.
    const current = S.selected && $(`sale-${S.selected}`);
    (current || $("main")).focus();
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

export function wireSession() {
  whenRefused((err) => signOut("The admin token was refused. Sign in again.", err));
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
  $("signout").addEventListener("click", () => signOut("Signed out."));
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
