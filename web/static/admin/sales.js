// The list of sales and which one is selected: read over REST, its states
// kept fresh by the live feed, or asked one by one when there is none.

import { S, SELECTED_KEY, STATE_LABEL } from "./state.js";
import { $, setText, announce } from "./dom.js";
import { count, formatWhen } from "./format.js";
import { api } from "./api.js";
import { report } from "./errors.js";
import { renderDetail } from "./detail.js";
import { drawCharts } from "./charts.js";
import { renderAudit } from "./audit.js";
import { refreshFlags } from "./flags.js";
import { productNames } from "./eventproducts.js";

let salesKey = ""; // the ids the list shows, in order: the buttons are rebuilt only when they change
let salesReload = 0;

export function resetSales() {
  salesKey = "";
  $("sales").replaceChildren();
}

export async function loadSales() {
  const body = await api("GET", "/v1/admin/sales");
  const plans = (body && body.sales) || [];
  plans.sort((a, b) => Date.parse(b.starts_at) - Date.parse(a.starts_at) || String(a.id).localeCompare(b.id));
  S.plans = plans;
  S.byId = new Map(plans.map((p) => [p.id, p]));
  if (!S.byId.has(S.selected)) {
    let want = "";
    try { want = sessionStorage.getItem(SELECTED_KEY) || ""; } catch { /* ignore */ }
    S.autoSelected = !S.byId.has(want);
    if (S.autoSelected) want = defaultSale(plans);
    S.selected = want;
  }
  renderSales();
  renderDetail();
  // Without the live feed the list has no states yet: ask each sale once.
  if (S.conn !== "live") {
    const missing = plans.filter((p) => !S.view.has(p.id)).slice(0, 30);
    await Promise.all(missing.map((p) => loadSaleView(p.id).catch(() => {})));
  }
}

// LIVE_FIRST ranks the states for the default selection: the sale shoppers
// are in now first, then the one they are joining, then the next to start.
const LIVE_FIRST = { open: 0, paused: 1, prequeue: 2, scheduled: 3 };

// defaultSale is the sale to show when the operator has chosen none: the
// live one. Without a state yet (no push so far) a sale is taken as live
// between its start and its end.
export function defaultSale(plans) {
  const now = Date.now();
  const rank = (p) => {
    const v = S.view.get(p.id);
    if (v && v.state) return LIVE_FIRST[v.state] ?? 9;
    const start = Date.parse(p.starts_at), end = Date.parse(p.ends_at);
    if (end <= now) return 9;
    return start <= now ? 0.5 : 3;
  };
  let best = null;
  for (const p of plans) {
    const r = rank(p);
    // Among sales to come, the soonest; among the rest, the list's order.
    if (!best || r < best.r || (r === best.r && r === 3 && Date.parse(p.starts_at) < Date.parse(best.p.starts_at))) best = { p, r };
  }
  return best ? best.p.id : "";
}

// followLiveSale moves a selection the dashboard made to the live sale,
// once the pushes say which that is; a sale the operator chose stays.
export function followLiveSale() {
  if (!S.autoSelected) return;
  const want = defaultSale(S.plans);
  if (want && want !== S.selected) select(want, true, true);
}

// reloadSalesSoon fetches the list again, at most every few seconds.
export function reloadSalesSoon() {
  if (salesReload) return;
  salesReload = setTimeout(() => {
    loadSales().catch(report).finally(() => { setTimeout(() => { salesReload = 0; }, 5000); });
  }, 0);
}

// loadSaleView asks for one sale's state over REST: used when there is no
// live feed, and right after an action.
export async function loadSaleView(id) {
  const body = await api("GET", `/v1/admin/sales/${encodeURIComponent(id)}`);
  if (!body || !body.live) return;
  if (body.plan) S.byId.set(id, Object.assign(S.byId.get(id) || {}, body.plan));
  const prev = S.view.get(id);
  if (prev && prev._src === "live" && Date.now() - prev._at < 3000) {
    // The live feed is fresher, except for a state an action just changed.
    prev.state = body.live.state;
  } else {
    S.view.set(id, {
      ...(prev || {}),
      id, name: body.live.name, state: body.live.state, stock: body.live.stock, waiting: body.live.waiting,
      products: body.live.products, _src: "rest", _at: Date.now(),
    });
  }
  renderSales();
  if (id === S.selected) renderDetail();
}

export function renderSales() {
  const list = $("sales");
  const key = S.plans.map((p) => p.id).join(",");
  $("sales-empty").hidden = S.plans.length > 0;
  if (key !== salesKey) {
    const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".sale") : null;
    const focusId = focused ? focused.id : "";
    salesKey = key;
    list.replaceChildren(...S.plans.map((p) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "sale";
      b.id = `sale-${p.id}`;
      b.dataset.id = p.id;
      const name = document.createElement("span");
      name.className = "sale-name";
      const badge = document.createElement("span");
      badge.className = "badge";
      const meta = document.createElement("span");
      meta.className = "sale-meta";
      const products = document.createElement("span");
      products.className = "sale-products"; // an event's products; empty for a sale
      b.append(name, badge, meta, products);
      li.append(b);
      return li;
    }));
    if (focusId && $(focusId)) $(focusId).focus();
  }
  for (const p of S.plans) {
    const b = $(`sale-${p.id}`);
    if (!b) continue;
    const v = S.view.get(p.id);
    const state = v && v.state ? v.state : "";
    setText(b.children[0], p.name || p.sku || p.id);
    b.children[0].title = p.name || "";
    const badge = b.children[1];
    badge.dataset.state = state;
    setText(badge, state ? STATE_LABEL[state] || state : "…");
    const bits = [];
    if (v && v.stock) bits.push(`${count(v.stock.left)} of ${count(v.stock.total)} left`);
    else bits.push(`${count(p.stock)} units`);
    if (v && typeof v.waiting === "number") bits.push(`${count(v.waiting)} waiting`);
    bits.push(`starts ${formatWhen(p.starts_at)}`);
    setText(b.children[2], bits.join(" · "));
    setText(b.children[3], productNames(p));
    b.setAttribute("aria-current", p.id === S.selected ? "true" : "false");
    // No aria-label: the button's name is what it shows (name, state, stock,
    // start), so a voice command naming what is seen finds it.
  }
}

// phoneLayout matches the one-column layout (admin.css), where the sale's
// detail is below the list, the system and the new-sale form.
const phoneLayout = window.matchMedia("(max-width: 60rem)");

// select shows a sale; quiet announces nothing (the dashboard's own
// choice), auto keeps it the dashboard's (followLiveSale may move it). An
// operator's choice on a phone scrolls to the sale's detail.
export function select(id, quiet, auto) {
  if (!S.byId.has(id)) return;
  const changed = id !== S.selected;
  S.selected = id;
  S.autoSelected = !!auto;
  if (!auto) {
    try { sessionStorage.setItem(SELECTED_KEY, id); } catch { /* ignore */ }
  }
  renderSales();
  renderDetail();
  if (changed) {
    drawCharts();
    if ($("audit-only").checked) renderAudit();
    const p = S.byId.get(id);
    if (!quiet) announce(`Selected ${p.name || id}.`);
  }
  if (!auto && !quiet && phoneLayout.matches) {
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    $("detail").scrollIntoView({ block: "start", behavior: reduce ? "auto" : "smooth" });
  }
  const v = S.view.get(id);
  if (!v || v._src !== "live") loadSaleView(id).catch(report);
  refreshFlags();
}

export function wireSales() {
  $("sales").addEventListener("click", (e) => {
    const b = e.target.closest(".sale");
    if (b) select(b.dataset.id);
  });
  // Up and down arrows move through the list.
  $("sales").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const items = [...$("sales").querySelectorAll(".sale")];
    const i = items.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    const next = items[Math.max(0, Math.min(items.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)))];
    next.focus();
  });
  $("sales-refresh").addEventListener("click", () => {
    loadSales().then(() => announce("Sales refreshed.")).catch((e) => report(e, "Refresh"));
  });
}
