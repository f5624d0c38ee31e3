// The blocklist: addresses, networks and shoppers every node turns away,
// added and removed here.

import { S } from "./state.js";
import { $, setText, emptyRow, announce } from "./dom.js";
import { formatWhen } from "./format.js";
import { api } from "./api.js";
import { report } from "./errors.js";
import { loadAudit } from "./audit.js";

const BLOCK_KIND = { ip: "IP", net: "network", shopper: "shopper" };
const BLOCK_EXAMPLE = { ip: "203.0.113.7", net: "203.0.113.0/24", shopper: "v_…" };

const blockKey = (e) => `${e.kind}:${e.value}`;
export const describeBlock = (e) => `${BLOCK_KIND[e.kind] || e.kind} ${e.value}`;

let blocksKey = ""; // what the table shows: a refresh that changes nothing leaves it, and the focus, alone

export function resetBlocklist() {
  blocksKey = "";
  $("blocklist").replaceChildren();
  blockMessage("");
}

// loadBlocklist fetches the list; fresh names an entry just added, to
// highlight it.
export async function loadBlocklist(fresh) {
  const body = await api("GET", "/v1/admin/blocklist");
  const entries = (body && body.entries) || [];
  entries.sort((a, b) => Date.parse(b.added_at) - Date.parse(a.added_at) || blockKey(a).localeCompare(blockKey(b)));
  S.blocks = entries;
  renderBlocklist(fresh);
}

// blockMessage shows why the last change failed, under the form; "" clears it.
function blockMessage(text) {
  setText($("bl-message"), text);
  if (text) $("bl-value").setAttribute("aria-invalid", "true");
  else $("bl-value").removeAttribute("aria-invalid");
}

function renderBlocklist(fresh) {
  const key = JSON.stringify(S.blocks);
  if (key === blocksKey && !fresh) return;
  blocksKey = key;
  const body = $("blocklist");
  const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest("#blocklist button") : null;
  const focusKey = focused ? focused.dataset.key : "";
  const rows = S.blocks.map((e) => {
    const tr = document.createElement("tr");
    tr.dataset.kind = e.kind;
    tr.dataset.value = e.value;
    if (fresh && fresh === blockKey(e)) tr.className = "fresh";
    const kind = document.createElement("td");
    kind.textContent = BLOCK_KIND[e.kind] || e.kind;
    const value = document.createElement("td");
    value.className = "value";
    value.textContent = e.value;
    const reason = document.createElement("td");
    reason.className = e.reason ? "" : "hint";
    reason.textContent = e.reason || "–";
    const added = document.createElement("td");
    added.className = "when";
    const time = document.createElement("time");
    time.dateTime = e.added_at;
    time.title = e.added_at;
    time.textContent = formatWhen(e.added_at);
    added.append(time);
    const remove = document.createElement("td");
    remove.className = "remove";
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn danger small";
    b.dataset.key = blockKey(e);
    b.textContent = "Remove";
    b.setAttribute("aria-label", `Remove ${describeBlock(e)}`);
    remove.append(b);
    tr.append(kind, value, reason, added, remove);
    return tr;
  });
  if (!rows.length) rows.push(emptyRow(5, "Nothing is blocked."));
  body.replaceChildren(...rows);
  if (focusKey) {
    const again = [...body.querySelectorAll("button[data-key]")].find((x) => x.dataset.key === focusKey);
    if (again) again.focus();
  }
}

function showBlockExample() {
  $("bl-value").placeholder = BLOCK_EXAMPLE[$("bl-kind").value] || "";
}

async function add(e) {
  e.preventDefault();
  const btn = $("bl-add");
  if (btn.getAttribute("aria-disabled") === "true") return;
  const kind = $("bl-kind").value;
  const value = $("bl-value").value.trim();
  if (!value) {
    blockMessage(`Enter the ${BLOCK_KIND[kind] || kind} to block.`);
    $("bl-value").focus();
    return;
  }
  btn.setAttribute("aria-disabled", "true");
  setText(btn, "Blocking…");
  let added = null;
  try {
    added = await api("POST", "/v1/admin/blocklist", { kind, value, reason: $("bl-reason").value.trim() });
    blockMessage("");
    $("bl-value").value = "";
    $("bl-reason").value = "";
    announce(`Blocked ${describeBlock(added)}: every node turns it away within a second.`);
  } catch (err) {
    if (err.handled) return; // signed out
    blockMessage(err.message || err.code); // the server says what is wrong with the value
    $("bl-value").focus();
  } finally {
    btn.removeAttribute("aria-disabled");
    setText(btn, "Block");
    if (S.token) {
      loadBlocklist(added ? blockKey(added) : "").catch(report);
      loadAudit().catch(report);
    }
  }
}

async function remove(e) {
  const b = e.target.closest("button[data-key]");
  if (!b || b.getAttribute("aria-disabled") === "true") return;
  const entry = S.blocks.find((x) => blockKey(x) === b.dataset.key);
  if (!entry) return;
  const at = [...$("blocklist").querySelectorAll("button[data-key]")].indexOf(b);
  b.setAttribute("aria-disabled", "true");
  setText(b, "Removing…");
  try {
    await api("DELETE", "/v1/admin/blocklist", { kind: entry.kind, value: entry.value });
    blockMessage("");
    announce(`Unblocked ${describeBlock(entry)}.`);
  } catch (err) {
    if (err.handled) return; // signed out
    blockMessage(err.message || err.code); // an unknown entry: someone removed it already
  } finally {
    b.removeAttribute("aria-disabled");
    setText(b, "Remove");
  }
  if (!S.token) return;
  loadAudit().catch(report);
  await loadBlocklist().catch(report);
  if (!b.isConnected && (!document.activeElement || document.activeElement === document.body)) {
    // Its row is gone, and the focus with it: focus the row that took its place, or the form.
    const left = [...$("blocklist").querySelectorAll("button[data-key]")];
    (left[Math.min(at, left.length - 1)] || $("bl-value")).focus();
  }
}

export function wireBlocklist() {
  $("bl-kind").addEventListener("change", showBlockExample);
  $("bl-form").addEventListener("submit", add);
  $("blocklist").addEventListener("click", remove);
  showBlockExample();
}
