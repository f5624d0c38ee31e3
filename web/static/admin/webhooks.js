// Webhooks: the shop's endpoints, registered here (the signing secret is
// shown once), and each one's delivery log with redeliver and replay.
// Self-contained: it reads while an operator is signed in, every few
// seconds, since the live feed does not push deliveries.

import { S } from "./state.js";
import { $, setText, emptyRow, announce } from "./dom.js";
import { formatWhen, localInput, rfc3339 } from "./format.js";
import { api } from "./api.js";
import { report } from "./errors.js";

const TYPES = ["order.created", "order.paid", "order.cancelled", "reservation.redeemed", "reservation.released",
  "sale.state_changed", "sale.sold_out"];
const CHECKED = new Set(["order.created", "order.paid", "order.cancelled", "reservation.redeemed"]);
const EVERY = 5000;
const base = "/v1/admin/webhooks";
const path = (id, rest) => `${base}/${encodeURIComponent(id)}${rest || ""}`;

let endpoints = [];
let shown = ""; // the endpoint whose log is open
let cursor = null; // the log's next page
let listKey = "";
let signedIn = false;

function message(text) {
  setText($("wh-message"), text);
}

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

function button(text, label, data) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "btn small";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  Object.assign(b.dataset, data);
  return b;
}

async function loadEndpoints() {
  const body = await api("GET", base);
  endpoints = (body && body.endpoints) || [];
  const key = JSON.stringify(endpoints);
  if (key === listKey) return;
  listKey = key;
  const rows = endpoints.map((e) => {
    const tr = document.createElement("tr");
    const actions = document.createElement("td");
    actions.className = "remove";
    const del = button("Delete", `Delete endpoint ${e.url}`, { del: e.id });
    del.className = "btn danger small";
    actions.append(button("Log", `Delivery log of ${e.url}`, { log: e.id }), " ", del);
    tr.append(cell(e.url, "value"), cell(e.events.join(", ")), cell(String(e.pending)), cell(String(e.dead)), actions);
    return tr;
  });
  if (!rows.length) rows.push(emptyRow(5, "No endpoint: register the shop's to send it events."));
  $("wh-endpoints").replaceChildren(...rows);
  if (shown && !endpoints.some((e) => e.id === shown)) closeLog();
}

function deliveryRow(d) {
  const tr = document.createElement("tr");
  tr.dataset.status = d.status;
  const next = d.next_attempt_at ? formatWhen(d.next_attempt_at, true) : "–";
  const answer = d.last_status_code ? String(d.last_status_code) : "–";
  const latency = d.last_latency_ms != null ? `${d.last_latency_ms} ms` : "–";
  const actions = document.createElement("td");
  actions.className = "remove";
  actions.append(button("Redeliver", `Redeliver ${d.event_type} ${d.event_id}`, { redeliver: String(d.id) }));
  const event = cell(d.event_type);
  event.title = d.event_id;
  tr.append(cell(String(d.id)), event, cell(d.status), cell(String(d.attempts)), cell(answer), cell(latency),
    cell(next, "when"), cell(d.last_error || "–", d.last_error ? "" : "hint"), actions);
  return tr;
}

// loadLog reads the open endpoint's newest deliveries, or (more) the next page.
async function loadLog(more) {
  if (!shown) return;
  const status = $("wh-status").value;
  const q = new URLSearchParams({ limit: "50" });
  if (status) q.set("status", status);
  if (more && cursor) q.set("cursor", cursor);
  const id = shown;
  const page = await api("GET", path(id, `/deliveries?${q}`));
  if (id !== shown) return;
  cursor = page.next_cursor;
  $("wh-more").hidden = !cursor;
  const rows = (page.deliveries || []).map(deliveryRow);
  if (more) {
    $("wh-deliveries").append(...rows);
    return;
  }
  if (!rows.length) rows.push(emptyRow(9, "No delivery yet."));
  $("wh-deliveries").replaceChildren(...rows);
}

function openLog(id) {
  const e = endpoints.find((x) => x.id === id);
  if (!e) return;
  shown = id;
  cursor = null;
  setText($("wh-log-title"), `Deliveries to ${e.url}`);
  $("wh-log").hidden = false;
  $("wh-deliveries").replaceChildren();
  loadLog().catch(report);
}

function closeLog() {
  shown = "";
  $("wh-log").hidden = true;
}

async function register(e) {
  e.preventDefault();
  const btn = $("wh-add");
  if (btn.getAttribute("aria-disabled") === "true") return;
  const url = $("wh-url").value.trim();
  const events = [...$("wh-events").querySelectorAll("input:checked")].map((x) => x.value);
  if (!url) {
    message("Enter the shop's endpoint URL.");
    $("wh-url").focus();
    return;
  }
  btn.setAttribute("aria-disabled", "true");
  try {
    const made = await api("POST", base, { url, events, description: $("wh-description").value.trim() });
    message("");
    $("wh-url").value = "";
    $("wh-description").value = "";
    setText($("wh-secret-value"), made.secret);
    $("wh-secret").hidden = false;
    announce(`Registered ${made.url}. Its signing secret is shown once, below the form.`);
  } catch (err) {
    if (err.handled) return;
    message(err.message || err.code); // the server says what is wrong
    $("wh-url").focus();
  } finally {
    btn.removeAttribute("aria-disabled");
    if (S.token) loadEndpoints().catch(report);
  }
}

async function onEndpoints(e) {
  const b = e.target.closest("button");
  if (!b) return;
  if (b.dataset.log) {
    openLog(b.dataset.log);
    return;
  }
  if (!b.dataset.del) return;
  const ep = endpoints.find((x) => x.id === b.dataset.del);
  if (!ep || !window.confirm(`Delete the endpoint ${ep.url} and its delivery log? Pending deliveries are never sent.`)) return;
  try {
    await api("DELETE", path(ep.id));
    announce(`Deleted ${ep.url}.`);
  } catch (err) {
    if (!err.handled) message(err.message || err.code);
  }
  loadEndpoints().catch(report);
}

async function onDeliveries(e) {
  const b = e.target.closest("button[data-redeliver]");
  if (!b || !shown) return;
  try {
    const d = await api("POST", path(shown, `/deliveries/${b.dataset.redeliver}/redeliver`));
    announce(`Redelivering ${d.event_type} as delivery ${d.id}.`);
  } catch (err) {
    if (!err.handled) message(err.message || err.code);
  }
  loadLog().catch(report);
}

async function replay() {
  if (!shown) return;
  const v = $("wh-since").value;
  if (!v) {
    message("Choose the time to replay from.");
    $("wh-since").focus();
    return;
  }
  try {
    const r = await api("POST", path(shown, "/replay"), { since: rfc3339(new Date(v)) });
    message("");
    announce(`Replaying ${r.replayed} events.`);
  } catch (err) {
    if (!err.handled) message(err.message || err.code);
  }
  loadLog().catch(report);
}

// periodic follows the sign-in: it reads while signed in, and forgets what
// it showed at sign-out.
function periodic() {
  if (!S.token) {
    if (signedIn) {
      signedIn = false;
      endpoints = [];
      listKey = "";
      closeLog();
      $("wh-endpoints").replaceChildren();
      $("wh-secret").hidden = true;
      setText($("wh-secret-value"), "");
      message("");
    }
    return;
  }
  signedIn = true;
  loadEndpoints().catch(report);
  if (shown && !cursor) loadLog().catch(report); // a page the operator scrolled on is left alone
}

export function wireWebhooks() {
  const box = $("wh-events");
  for (const t of TYPES) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = t;
    input.checked = CHECKED.has(t);
    label.append(input, ` ${t}`);
    box.append(label, " ");
  }
  $("wh-since").value = localInput(new Date(Date.now() - 3600 * 1000));
  $("wh-form").addEventListener("submit", register);
  $("wh-endpoints").addEventListener("click", onEndpoints);
  $("wh-deliveries").addEventListener("click", onDeliveries);
  $("wh-status").addEventListener("change", () => { cursor = null; loadLog().catch(report); });
  $("wh-replay").addEventListener("click", replay);
  $("wh-more").addEventListener("click", () => loadLog(true).catch(report));
  setTimeout(periodic, 300); // after a resumed session signs in
  setInterval(periodic, EVERY);
}
