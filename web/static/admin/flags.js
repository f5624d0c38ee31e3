// Suspected automation: the selected sale's flagged shoppers and the
// policy that says what happens to them.

import { S, saleName, salePath } from "./state.js";
import { $, setText, setNum, emptyRow, announce } from "./dom.js";
import { count, formatWhen } from "./format.js";
import { api } from "./api.js";
import { report } from "./errors.js";
import { loadAudit } from "./audit.js";

const FLAGS_EVERY = 5000; // reading the flags goes over every flagged shopper in Redis: not every push
export const POLICY_LABEL = { allow: "Allow: record only", back: "Send to the back", remove: "Remove" };
const SIGNAL_LABEL = {
  early_join: "joined at the very start", fast_checkout: "checked out implausibly fast",
  many_identities: "many identities from one address",
};

let flagsAt = 0, flagsBusy = false;
let policyShown = ""; // sale:policy the select was last set to: a refresh leaves an operator's choice alone
let flagsKey = ""; // what the table shows: a refresh that changes nothing leaves it alone

export function resetFlags() {
  flagsKey = "";
  policyShown = "";
  $("flags").replaceChildren();
}

// refreshFlags fetches the selected sale's flagged shoppers: at once for a
// sale just selected, else at most every FLAGS_EVERY.
export function refreshFlags() {
  const id = S.selected;
  if (!id || !S.token || flagsBusy) return;
  const same = S.flags && S.flags.sale === id;
  if (same && Date.now() - flagsAt < FLAGS_EVERY) return;
  flagsBusy = true;
  flagsAt = Date.now();
  loadFlags(id).catch(report).finally(() => { flagsBusy = false; });
}

async function loadFlags(id) {
  const body = await api("GET", salePath(id, "flags"));
  if (!body) return;
  S.flags = { ...body, sale: id };
  if (id === S.selected) renderFlags();
}

// policyApplied says what setting a policy did to those flagged so far.
export function policyApplied(r) {
  if (r.policy === "back") return `${count(r.requeued)} sent to the back`;
  if (r.policy === "remove") return `${count(r.removed)} removed`;
  return "Flags are recorded only";
}

const signalWords = (signals) => (signals || []).map((s) => SIGNAL_LABEL[s] || s.replace(/_/g, " ")).join(", ");

export function renderFlags() {
  const f = S.flags && S.flags.sale === S.selected ? S.flags : null;
  setNum($("flag-count"), f ? f.flagged : undefined);
  setText($("flag-policy-now"), f ? POLICY_LABEL[f.policy] || f.policy : "–");
  if (f && policyShown !== `${f.sale}:${f.policy}`) {
    policyShown = `${f.sale}:${f.policy}`;
    $("flag-policy").value = f.policy;
  }
  const cut = !!(f && f.truncated);
  $("flag-truncated").hidden = !cut;
  setText($("flag-truncated"), cut ? `Showing the ${count(f.shoppers.length)} newest of ${count(f.flagged)}.` : "");
  renderFlagRows(f);
}

function renderFlagRows(f) {
  const key = f ? JSON.stringify([f.sale, f.shoppers]) : "";
  if (key === flagsKey && key) return;
  flagsKey = key;
  const rows = f ? f.shoppers.map(flagRow) : [];
  if (!rows.length) rows.push(emptyRow(4, f ? "No shopper flagged." : "Loading…"));
  $("flags").replaceChildren(...rows);
}

function flagRow(x) {
  const tr = document.createElement("tr");
  tr.dataset.shopper = x.shopper;
  const cell = (text, className) => {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  };
  const first = cell("", "when");
  const time = document.createElement("time");
  time.dateTime = x.first_at;
  time.title = x.first_at;
  time.textContent = formatWhen(x.first_at, true);
  first.append(time);
  tr.append(cell(x.shopper, "value"), cell(signalWords(x.signals)), cell(x.ip || "–", "ip"), first);
  return tr;
}

// flagResult shows what the last Apply did, or why it failed; "" clears it.
export function flagResult(text, bad) {
  const node = $("flag-result");
  setText(node, text);
  node.dataset.bad = bad ? "true" : "false";
  node.hidden = !text;
}

export function wireFlags() {
  $("flag-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = $("flag-apply");
    const id = S.selected;
    if (!id || btn.getAttribute("aria-disabled") === "true") return;
    btn.setAttribute("aria-disabled", "true");
    try {
      const r = await api("PUT", salePath(id, "flagged"), { policy: $("flag-policy").value });
      const said = policyApplied(r);
      if (id === S.selected) flagResult(said);
      announce(`${POLICY_LABEL[r.policy] || r.policy} for ${saleName(id)}: ${said}.`);
    } catch (err) {
      if (err.handled) return; // signed out
      if (id === S.selected) flagResult(err.message || err.code, true); // what the server says is wrong
      announce(`Apply policy failed: ${err.message || err.code}`);
    } finally {
      btn.removeAttribute("aria-disabled");
      if (S.token) {
        loadFlags(id).catch(report);
        loadAudit().catch(report);
      }
    }
  });
}
