// Shop API keys: the keys a shop's backend presents to redeem reservations,
// read orders or manage webhooks. Made here with a name and scopes, the
// whole key shown once with a copy button; listed; revoked in two clicks.

import { S } from "./state.js";
import { $, setText, emptyRow, announce, cell, timeOf } from "./dom.js";
import { api } from "./api.js";
import { report } from "./errors.js";
import { loadAudit } from "./audit.js";

const ARM_MS = 5000; // how long a first click on Revoke waits for the second

let keysKey = ""; // what the table shows: a refresh that changes nothing leaves it alone

export function resetShopKeys() {
  keysKey = "";
  S.shopKeys = [];
  $("shopkeys").replaceChildren();
  hideSecret();
  keyMessage("");
}

export async function loadShopKeys(fresh) {
  const body = await api("GET", "/v1/admin/shop-keys");
  S.shopKeys = (body && body.keys) || [];
  // Live keys first, newest first; revoked ones after.
  S.shopKeys.sort((a, b) => (!!a.revoked_at - !!b.revoked_at) || Date.parse(b.created_at) - Date.parse(a.created_at));
  renderShopKeys(fresh);
}

function keyMessage(text) {
  setText($("sk-message"), text);
  if (text) $("sk-name").setAttribute("aria-invalid", "true");
  else $("sk-name").removeAttribute("aria-invalid");
}

function renderShopKeys(fresh) {
  const key = JSON.stringify(S.shopKeys);
  if (key === keysKey && !fresh) return;
  keysKey = key;
  const rows = S.shopKeys.map((k) => {
    const tr = document.createElement("tr");
    tr.dataset.id = k.id;
    if (fresh === k.id) tr.className = "fresh";
    if (k.revoked_at) tr.dataset.revoked = "true";
    const action = document.createElement("td");
    action.className = "remove";
    if (k.revoked_at) {
      action.append("revoked ", timeOf(k.revoked_at));
      action.classList.add("hint");
    } else {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn danger small";
      b.dataset.id = k.id;
      b.textContent = "Revoke";
      b.setAttribute("aria-label", `Revoke the key ${k.name}`);
      action.append(b);
    }
    tr.append(cell(k.name), cell(k.id, "value"), cell((k.scopes || []).join(", ")),
      cell(timeOf(k.created_at), "when"), cell(k.last_used_at ? timeOf(k.last_used_at) : "never", "when"), action);
    return tr;
  });
  if (!rows.length) rows.push(emptyRow(6, "No shop keys yet."));
  $("shopkeys").replaceChildren(...rows);
}

function showSecret(created) {
  $("sk-secret").value = created.key;
  setText($("sk-copied"), "");
  $("sk-new").hidden = false;
  $("sk-secret").focus();
  $("sk-secret").select();
}

// hideSecret forgets the key on the page: it is never shown again.
function hideSecret() {
  $("sk-secret").value = "";
  $("sk-new").hidden = true;
}

async function copySecret() {
  const input = $("sk-secret");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select(); // no clipboard API (a plain-http page): select it to copy by hand
    document.execCommand("copy");
  }
  setText($("sk-copied"), "Copied.");
  announce("The key is copied to the clipboard.");
}

async function create(e) {
  e.preventDefault();
  const btn = $("sk-create");
  if (btn.getAttribute("aria-disabled") === "true") return;
  const name = $("sk-name").value.trim();
  const scopes = [...document.querySelectorAll("input[name=sk-scope]:checked")].map((x) => x.value);
  if (!name) {
    keyMessage("Name the key after the shop or system that will use it.");
    $("sk-name").focus();
    return;
  }
  if (!scopes.length) {
    keyMessage("Give the key at least one scope.");
    return;
  }
  btn.setAttribute("aria-disabled", "true");
  setText(btn, "Creating…");
  let created = null;
  try {
    created = await api("POST", "/v1/admin/shop-keys", { name, scopes });
    keyMessage("");
    $("sk-name").value = "";
    showSecret(created);
    announce(`Key ${created.name} created. Copy it now: it is shown only once.`);
  } catch (err) {
    if (err.handled) return; // signed out
    keyMessage(err.message || err.code);
    $("sk-name").focus();
  } finally {
    btn.removeAttribute("aria-disabled");
    setText(btn, "Create key");
  }
  if (S.token) {
    loadShopKeys(created ? created.id : "").catch(report);
    loadAudit().catch(report);
  }
}

// revoke asks twice: the first click arms the button, the second revokes.
async function revoke(e) {
  const b = e.target.closest("button[data-id]");
  if (!b || b.getAttribute("aria-disabled") === "true") return;
  const k = S.shopKeys.find((x) => x.id === b.dataset.id);
  if (!k) return;
  if (b.dataset.armed !== "true") {
    b.dataset.armed = "true";
    setText(b, "Really revoke?");
    announce(`Press again to revoke ${k.name}: a shop using it is refused at once.`);
    setTimeout(() => { if (b.isConnected && b.dataset.armed === "true") { delete b.dataset.armed; setText(b, "Revoke"); } }, ARM_MS);
    return;
  }
  b.setAttribute("aria-disabled", "true");
  setText(b, "Revoking…");
  try {
    await api("DELETE", `/v1/admin/shop-keys/${encodeURIComponent(k.id)}`);
    keyMessage("");
    announce(`Key ${k.name} revoked.`);
  } catch (err) {
    if (err.handled) return;
    keyMessage(err.message || err.code);
  }
  if (!S.token) return;
  loadAudit().catch(report);
  await loadShopKeys().catch(report);
}

export function wireShopKeys() {
  $("sk-form").addEventListener("submit", create);
  $("sk-copy").addEventListener("click", copySecret);
  $("sk-done").addEventListener("click", () => { hideSecret(); $("sk-name").focus(); });
  $("shopkeys").addEventListener("click", revoke);
}
