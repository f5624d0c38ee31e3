// The audit log: every operator action, newest first, in words.

import { S, saleName } from "./state.js";
import { $, emptyRow } from "./dom.js";
import { count, formatPrice, formatWhen } from "./format.js";
import { api } from "./api.js";
import { describeBlock } from "./blocklist.js";
import { policyApplied } from "./flags.js";

export async function loadAudit() {
  const body = await api("GET", "/v1/admin/audit");
  S.audit = (body && body.entries) || [];
  renderAudit();
}

export function resetAudit() {
  $("audit").replaceChildren();
}

function describeDetail(d, action) {
  if (!d || typeof d !== "object") return d == null ? "" : String(d);
  if (action === "create" && d.sku) {
    return [d.sku, `${count(d.stock)} units`, formatPrice(d.price_cents || 0, d.currency || "EUR"),
      `${formatWhen(d.starts_at)} – ${formatWhen(d.ends_at)}`, `outflow ${d.outflow_per_second}/s`,
      `hold ${d.reservation_ttl_seconds}s`, `prequeue ${Math.round((d.prequeue_seconds || 0) / 60)} min`,
      `limit ${d.per_shopper_limit}`].join(" · ");
  }
  if ((action === "block" || action === "unblock") && d.kind) {
    return [describeBlock(d), d.reason ? `“${d.reason}”` : ""].filter(Boolean).join(" · ");
  }
  if (action === "flagged_policy" && d.policy) {
    return [`policy ${d.policy}`, d.requeued || d.removed ? policyApplied(d) : ""].filter(Boolean).join(" · ");
  }
  if (action === "pow") return d.value ? `difficulty ${d.value}` : "difficulty 0 (off)";
  const parts = [];
  for (const [k, v] of Object.entries(d)) {
    if (v === null || v === "" || (k === "value" && v === 0) || k === "id") continue;
    let s = typeof v === "object" ? JSON.stringify(v) : String(v);
    if (k === "text") s = `“${s}”`;
    if (k === "price_cents" && typeof v === "number") { parts.push(`price ${formatPrice(v, d.currency || "EUR")}`); continue; }
    if (k === "currency") continue;
    parts.push(`${k}: ${s}`);
  }
  return parts.join(", ");
}

export function renderAudit() {
  const body = $("audit");
  const only = $("audit-only").checked && S.selected;
  const entries = only ? S.audit.filter((a) => a.sale_id === S.selected) : S.audit;
  const prevMax = S.auditMax;
  const rows = entries.map((a) => {
    const tr = document.createElement("tr");
    tr.id = `audit-${a.id}`;
    if (prevMax && a.id > prevMax) tr.className = "fresh";
    const when = document.createElement("td");
    when.className = "when";
    const time = document.createElement("time");
    time.dateTime = a.at;
    time.title = a.at;
    time.textContent = formatWhen(a.at, true);
    when.append(time);
    const sale = document.createElement("td");
    sale.className = "sale-id";
    sale.textContent = a.sale_id ? saleName(a.sale_id) : "–";
    if (a.sale_id) sale.title = a.sale_id;
    const action = document.createElement("td");
    action.className = "action";
    action.textContent = a.action;
    const detail = document.createElement("td");
    detail.className = "detail-cell";
    const text = describeDetail(a.detail, a.action);
    detail.textContent = text.length > 220 ? `${text.slice(0, 219)}…` : text;
    detail.title = a.detail ? JSON.stringify(a.detail) : "";
    const actor = document.createElement("td");
    actor.textContent = a.actor || "";
    tr.append(when, sale, action, detail, actor);
    return tr;
  });
  if (!rows.length) rows.push(emptyRow(5, "No entries yet."));
  body.replaceChildren(...rows);
  for (const a of S.audit) S.auditMax = Math.max(S.auditMax, a.id || 0);
}

export function wireAudit() {
  $("audit-only").addEventListener("change", renderAudit);
}
