// The selected sale's numbers: state, stock, rates and funnel.

import { S, STALE_MS, STATE_LABEL } from "./state.js";
import { $, setText, setNum } from "./dom.js";
import { count, rate, formatPrice, formatWhen } from "./format.js";
import { drawCharts, sinceDraw } from "./charts.js";
import { showSaleInputs } from "./controls.js";
import { flagResult, renderFlags } from "./flags.js";
import { showInvitations } from "./invitations.js";
import { showBranding } from "./branding.js";
import { shopSettings } from "./salecheckout.js";
import { showPayments, refreshPayments } from "./orders.js";
import { showPlanEdit } from "./saleedit.js";
import { isEvent, renderEventProducts, showStockProducts } from "./eventproducts.js";

const FUNNEL = ["joined", "admitted", "checked_out", "paid"];

let shownId = ""; // the sale whose inputs the controls show

export function renderDetail() {
  const id = S.selected;
  const p = S.byId.get(id);
  $("detail-empty").hidden = !!p;
  $("detail-body").hidden = !p;
  if (!p) return;
  const v = S.view.get(id) || null;

  setText($("detail-title"), p.name || id);
  const event = isEvent(p);
  const sub = [event ? `event of ${p.products.length} products` : p.sku,
    `${event ? "from " : ""}${formatPrice(p.price_cents, p.currency)}`,
    `${formatWhen(p.starts_at)} – ${formatWhen(p.ends_at)}`,
    `hold ${p.reservation_ttl_seconds}s`, `limit ${p.per_shopper_limit}`, id];
  setText($("detail-sub"), sub.filter(Boolean).join(" · "));
  setText($("detail-settings"), shopSettings(p));

  const state = v && v.state ? v.state : "";
  const badge = $("stat-state");
  badge.dataset.state = state;
  setText(badge, state ? STATE_LABEL[state] || state : "unknown");
  $("pause").classList.toggle("suggested", state === "open");
  $("resume").classList.toggle("suggested", state === "paused");

  const st = (v && v.stock) || null;
  setNum($("stat-waiting"), v ? v.waiting : undefined);
  setNum($("stat-left"), st ? st.left : undefined);
  setNum($("stat-total"), st ? st.total : p.stock);
  setNum($("stat-held"), st ? st.held : undefined);
  setNum($("stat-sold"), st ? st.sold : undefined);
  setNum($("stat-orders"), v ? v.orders : undefined);
  const total = st && st.total > 0 ? st.total : 0;
  for (const k of ["sold", "held", "left"]) {
    $(`bar-${k}`).style.width = total ? `${Math.max(0, Math.min(100, (st[k] / total) * 100))}%` : "0";
  }
  renderEventProducts(p, v);

  setText($("stat-joins"), rate(v && v.joins_per_second));
  setText($("stat-admissions"), rate(v && v.admissions_per_second));
  setText($("stat-orders-rate"), rate(v && v.orders_per_second));
  setText($("stat-outflow"), `${rate(p.outflow_per_second)}/s`);
  setText($("pow-now"), p.pow_difficulty ? String(p.pow_difficulty) : "off");

  const f = (v && v.funnel) || null;
  const top = f && f.joined > 0 ? f.joined : 0;
  for (const k of FUNNEL) {
    const n = f ? f[k] : undefined;
    const node = $(`f-${k}`);
    node.replaceChildren(count(n));
    node.dataset.value = typeof n === "number" ? String(n) : "";
    if (top && k !== "joined" && typeof n === "number") {
      const small = document.createElement("small");
      small.textContent = `${Math.round((n / top) * 100)}%`;
      node.append(small);
    }
    $(`fb-${k}`).style.width = top && typeof n === "number" ? `${Math.min(100, (n / top) * 100)}%` : "0";
  }

  $("detail-stale").hidden = !!(v && v._src === "live" && Date.now() - v._at < STALE_MS);
  showPlanEdit(p, state, false);

  if (shownId !== id) { // another sale: its own inputs
    shownId = id;
    showSaleInputs(p);
    showStockProducts(p);
    flagResult("");
    renderFlags();
    showInvitations(p);
    showBranding(p);
    showPayments(id);
  }
}

// tick runs each second: live numbers that stopped coming are marked
// stale; the charts keep scrolling.
export function tick() {
  if (S.selected) {
    const v = S.view.get(S.selected);
    $("detail-stale").hidden = !!(v && v._src === "live" && Date.now() - v._at < STALE_MS);
    if (S.conn !== "live" && sinceDraw() > 1500) drawCharts();
    refreshPayments();
  }
}
