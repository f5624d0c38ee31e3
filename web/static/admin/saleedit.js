// The selected sale's plan, editable until it opens, and its deletion
// (docs/admin-api.md): shown while the sale is scheduled or in prequeue.
// Only the fields changed are sent, so an edit never rewrites what another
// operator changed meanwhile in a field this one did not touch. An event's
// products are rows (productrows.js), sent whole when any of them changed:
// the API replaces them whole. A single product's price and discount are
// sent as the API takes them (discount.js): with a discount, the price is
// the list price; a discount set to None is sent as {} and taken off.

import { S, saleName } from "./state.js";
import { $, announce } from "./dom.js";
import { minorDigits, localInput, rfc3339 } from "./format.js";
import { api } from "./api.js";
import { clearError, report, showError } from "./errors.js";
import { act, confirmAction, showResult } from "./controls.js";
import { loadSales, renderSales } from "./sales.js";
import { renderDetail } from "./detail.js";
import { loadAudit } from "./audit.js";
import { productRows } from "./productrows.js";
import { isEvent } from "./eventproducts.js";
import { discountShown, discountAsked, showDiscountInputs } from "./discount.js";

const EDITABLE = new Set(["scheduled", "prequeue"]);

// The form's fields: the plan's field, the input, and how each reads and
// writes it. The price is priceChanges', with the discount.
const FIELDS = [
  ["name", "ed-name", (p) => p.name, (v) => v.trim()],
  ["sku", "ed-sku", (p) => p.sku, (v) => v.trim()],
  ["stock", "ed-stock", (p) => String(p.stock), (v) => Math.trunc(Number(v))],
  ["starts_at", "ed-starts", (p) => localInput(new Date(p.starts_at)), (v) => rfc3339(new Date(v))],
  ["ends_at", "ed-ends", (p) => localInput(new Date(p.ends_at)), (v) => rfc3339(new Date(v))],
  ["prequeue_seconds", "ed-prequeue", (p) => String(Math.round(p.prequeue_seconds / 60)), (v) => Math.round(Number(v) * 60)],
  ["per_shopper_limit", "ed-limit", (p) => String(p.per_shopper_limit), (v) => Math.trunc(Number(v))],
];

let filledFor = "";
let rows = null; // the event's product rows
let rowsAsFilled = ""; // what rows.read() gave when filled from the plan
let currency = "EUR"; // the edited sale's, for its products' prices
let priceAsFilled = { price: "", kind: "", off: "" }; // the price and discount inputs as filled (discountShown)

// SINGLE_ONLY are the fields an event takes from its products.
const SINGLE_ONLY = new Set(["sku", "stock"]);
// PRICE_INPUTS show a single product's price and discount.
const PRICE_INPUTS = ["ed-price", "ed-discount-kind", "ed-discount"];
const fieldsOf = (p) => FIELDS.filter(([field]) => !(isEvent(p) && SINGLE_ONLY.has(field)));

// showPlanEdit shows the form while the sale may change, filled from its
// plan when another sale is selected or after a save.
export function showPlanEdit(p, state, refill) {
  const box = $("plan-edit");
  box.hidden = !EDITABLE.has(state);
  if (box.hidden || (!refill && filledFor === p.id)) return;
  filledFor = p.id;
  for (const [, id, show] of FIELDS) {
    $(id).value = show(p);
    $(id).removeAttribute("aria-invalid");
  }
  const event = isEvent(p);
  for (const node of $("edit-form").querySelectorAll(".single-only")) node.hidden = event;
  $("ed-products").hidden = !event;
  currency = p.currency;
  priceAsFilled = discountShown(p, p.currency);
  $("ed-price").value = priceAsFilled.price;
  $("ed-discount-kind").value = priceAsFilled.kind;
  $("ed-discount").value = priceAsFilled.off;
  for (const id of PRICE_INPUTS) $(id).removeAttribute("aria-invalid");
  showDiscountInputs("ed", currency);
  rows.reset(event ? p.products : null);
  rowsAsFilled = event ? JSON.stringify(rows.read()) : "";
}

// changes are the fields whose input no longer shows the plan's value.
function changes(p) {
  const out = {};
  for (const [field, id, show, read] of fieldsOf(p)) {
    if ($(id).value !== show(p)) out[field] = read($(id).value, p);
  }
  if (isEvent(p)) {
    const products = rows.read();
    if (JSON.stringify(products) !== rowsAsFilled) out.products = products;
  } else {
    Object.assign(out, priceChanges(p));
  }
  return out;
}

// priceChanges are a single product's price and discount, each sent only
// when its inputs changed: a discount asked for (or {}, None, to take it
// off), and the price typed, which is the list price with a discount.
function priceChanges(p) {
  const out = {};
  const kind = $("ed-discount-kind").value;
  const off = $("ed-discount").value;
  if (kind !== priceAsFilled.kind || (kind && off !== priceAsFilled.off)) {
    out.discount = discountAsked(kind, Number(off), p.currency);
  }
  const price = $("ed-price").value;
  if (price !== priceAsFilled.price) {
    out[kind ? "list_price_cents" : "price_cents"] = Math.round(Number(price) * 10 ** minorDigits(p.currency));
  }
  return out;
}

// wholePercent refuses a percent off with a fraction before it is sent:
// the API takes whole percents only, and would answer with a JSON error.
function wholePercent(change) {
  if (!change.discount || change.discount.percent === undefined || Number.isInteger(change.discount.percent)) return true;
  const said = "The percent off is a whole number.";
  $("ed-discount").setAttribute("aria-invalid", "true");
  showError("invalid_input", said);
  announce(said);
  $("ed-discount").focus();
  return false;
}

// markRefusedPrice points at the price or the discount the server named.
function markRefusedPrice(said) {
  if (said.includes("price_cents")) $("ed-price").setAttribute("aria-invalid", "true");
  if (said.includes("discount")) {
    $($("ed-discount-kind").value ? "ed-discount" : "ed-discount-kind").setAttribute("aria-invalid", "true");
  }
}

// keepPlan keeps the plan an edit answered with. The answer leaves out a
// discount the plan no longer has (the API omits empty fields), so what
// was kept of one goes first.
function keepPlan(plan) {
  const kept = S.byId.get(plan.id) || {};
  for (const k of ["list_price_cents", "discount_percent", "discount_amount_cents"]) delete kept[k];
  S.byId.set(plan.id, Object.assign(kept, plan));
  const i = S.plans.findIndex((x) => x.id === plan.id);
  if (i >= 0) S.plans[i] = S.byId.get(plan.id);
}

export function wirePlanEdit() {
  $("edit-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const p = S.byId.get(S.selected);
    if (!p) return;
    const change = changes(p);
    if (Object.keys(change).length === 0) {
      showResult($("action-result"), "Nothing to save: no field changed.");
      $("edit-form").after($("action-result"));
      return;
    }
    if (!wholePercent(change)) return;
    for (const [, id] of FIELDS) $(id).removeAttribute("aria-invalid");
    for (const id of PRICE_INPUTS) $(id).removeAttribute("aria-invalid");
    rows.clearProblems();
    let refused = null;
    act($("edit-save"), "Save changes", (id) => api("PATCH", `/v1/admin/sales/${encodeURIComponent(id)}`, change)
      .catch((err) => { refused = err; throw err; }),
      (plan) => {
        keepPlan(plan);
        showPlanEdit(plan, "scheduled", true);
        renderSales();
        renderDetail();
        return `${saleName(plan.id)} changed: ${Object.keys(change).join(", ").replaceAll("_", " ")}.`;
      }).then((r) => {
      if (r !== undefined) return;
      // Refused: point at the fields the server named, an event's
      // products' problems beside their rows.
      let said = refused ? String(refused.message) : "";
      if (isEvent(p)) {
        const first = rows.showProblems(said);
        said = said.replace(/products\[\d+\][^;]*/g, "");
        if (first) first.focus();
      }
      for (const [field, id] of fieldsOf(p)) if (said.includes(field)) $(id).setAttribute("aria-invalid", "true");
      if (!isEvent(p)) markRefusedPrice(said);
    });
  });
  $("ed-discount-kind").addEventListener("change", () => showDiscountInputs("ed", currency));
  rows = productRows($("ed-product-rows"), { prefix: "ed", currency: () => currency, withCatalog: false });

  $("delete-sale").addEventListener("click", (e) => {
    const button = e.currentTarget;
    const id = S.selected;
    confirmAction(button, {
      title: "Delete the sale?", ok: "Delete sale",
      text: `Delete “${saleName(id)}”? It is gone for good; shoppers waiting for it are told it ended.`,
    }, async (sid) => {
      const name = saleName(sid);
      try {
        await api("DELETE", `/v1/admin/sales/${encodeURIComponent(sid)}`);
      } catch (err) {
        report(err, "Delete sale");
        return;
      }
      clearError();
      const said = `${name} is deleted.`;
      announce(said);
      S.selected = "";
      S.autoSelected = true;
      await loadSales().catch(report);
      // The form that asked is gone with the sale: the list says it.
      showResult($("sales-result"), said);
      loadAudit().catch(report);
    });
  });
}
