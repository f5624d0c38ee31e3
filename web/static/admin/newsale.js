// The New sale form: a plan built from the fields, in the operator's local
// time, posted to the admin API; the fields the server names as wrong are
// marked. A product picked from the catalog stands for the SKU, name, price
// and currency; a discount makes the price the list price. An event sells
// several products, each a row (productrows.js) whose problems the server
// names are shown beside it.

import { $, setText, announce } from "./dom.js";
import { minorDigits, localInput, rfc3339, formatPrice } from "./format.js";
import { api } from "./api.js";
import { clearError, report } from "./errors.js";
import { loadSales, select } from "./sales.js";
import { showResult } from "./controls.js";
import { loadAudit } from "./audit.js";
import { onProducts, productBySKU } from "./catalog.js";
import { CHECKOUT_FIELDS, addCheckoutFields, resetCheckoutFields, wireCheckoutFields } from "./salecheckout.js";
import { productRows } from "./productrows.js";

const NS_FIELDS = [
  ["product_sku", "ns-product"], ["discount", "ns-discount"], ["list_price_cents", "ns-price"],
  ["sku", "ns-sku"], ["name", "ns-name"], ["price_cents", "ns-price"], ["currency", "ns-currency"],
  ["stock", "ns-stock"], ["ends_at", "ns-ends"], ["starts_at", "ns-starts"], ["outflow_per_second", "ns-outflow"],
  ["reservation_ttl_seconds", "ns-hold"], ["prequeue_seconds", "ns-prequeue"], ["per_shopper_limit", "ns-limit"],
  ...CHECKOUT_FIELDS,
  ["eligibility", "ns-eligibility"],
];

let rows = null; // the event's product rows (productRows)

const isEvent = () => $("ns-kind-event").checked;
const nsCurrency = () => ($("ns-currency").value.trim() || "EUR").toUpperCase();

// showKind shows the single product's fields, or the event's rows.
function showKind() {
  const event = isEvent();
  for (const node of $("new-sale").querySelectorAll(".single-only")) node.hidden = event;
  $("ns-products").hidden = !event;
  setText($("ns-submit"), event ? "Create event" : "Create sale");
}

function nsDefaults() {
  const f = $("new-sale");
  f.reset(); // back to the defaults written in the page: starts now
  rows.reset();
  showKind();
  showStartChoice();
  for (const [, id] of NS_FIELDS) $(id).removeAttribute("aria-invalid");
  resetCheckoutFields();
  showProduct();
  showDiscount();
}

// PRODUCT_INPUTS are what a picked product gives: shown filled, not typed.
const PRODUCT_INPUTS = ["ns-sku", "ns-name", "ns-price", "ns-currency"];

// showProduct fills the SKU, name, price and currency from the picked
// product and locks them, or unlocks them for a sale typed by hand.
function showProduct() {
  const p = productBySKU($("ns-product").value);
  for (const id of PRODUCT_INPUTS) $(id).disabled = !!p;
  if (!p) return;
  $("ns-sku").value = p.sku;
  $("ns-name").value = p.name;
  $("ns-price").value = String(p.list_price_cents / 10 ** minorDigits(p.currency));
  $("ns-currency").value = p.currency;
}

// showDiscount shows the amount field only with a kind of discount, with
// its unit.
function showDiscount() {
  const kind = $("ns-discount-kind").value;
  $("ns-discount-field").hidden = !kind;
  $("ns-discount").required = !!kind;
  const currency = ($("ns-currency").value.trim() || "EUR").toUpperCase();
  setText($("ns-discount-unit"), kind === "amount" ? `(${currency})` : "(%)");
}

// fillPicker offers the catalog's products, keeping the one picked.
function fillPicker(products) {
  const picker = $("ns-product");
  const picked = picker.value;
  const none = picker.options[0];
  picker.replaceChildren(none, ...products.map((p) => {
    const o = document.createElement("option");
    o.value = p.sku;
    o.textContent = `${p.name} (${p.sku}, ${formatPrice(p.list_price_cents, p.currency)})`;
    return o;
  }));
  picker.value = products.some((p) => p.sku === picked) ? picked : "";
  showProduct();
}

// showStartChoice shows the time input only for a start "at a time", and
// fills it, when empty, with the next round five minutes half an hour on:
// a start is never a time typed by nobody.
function showStartChoice() {
  const at = $("ns-start-at").checked;
  $("ns-starts-field").hidden = !at;
  $("ns-starts").required = at;
  if (at && !$("ns-starts").value) {
    const start = new Date(Date.now() + 30 * 60000);
    start.setSeconds(0, 0);
    start.setMinutes(Math.ceil(start.getMinutes() / 5) * 5);
    $("ns-starts").value = localInput(start);
  }
}

const numOr = (id, dflt) => {
  const s = $(id).value.trim();
  if (s === "") return dflt;
  const n = Number(s);
  return Number.isFinite(n) ? n : dflt;
};

function planFromForm() {
  if (isEvent()) return eventFromForm();
  const currency = nsCurrency();
  const price = numOr("ns-price", 0);
  const startsVal = $("ns-start-at").checked ? $("ns-starts").value : "";
  const starts = startsVal ? new Date(startsVal) : new Date();
  const plan = {
    sku: $("ns-sku").value.trim(),
    name: $("ns-name").value.trim(),
    price_cents: Math.round(price * 10 ** minorDigits(currency)),
    currency,
    stock: Math.trunc(numOr("ns-stock", 0)),
    starts_at: rfc3339(Number.isNaN(starts.getTime()) ? new Date() : starts),
    outflow_per_second: numOr("ns-outflow", 10),
    reservation_ttl_seconds: Math.trunc(numOr("ns-hold", 300)),
    prequeue_seconds: Math.round(numOr("ns-prequeue", 15) * 60),
    per_shopper_limit: Math.trunc(numOr("ns-limit", 1)),
    eligibility: $("ns-eligibility").value, // everyone, or invited: the sale's page then has Invitations
  };
  withEnd(plan);
  return addCheckoutFields(withProductAndDiscount(plan));
}

// eventFromForm is the plan of an event: the sale's own settings, and the
// products of the rows instead of a SKU, price and stock; its per-order
// limit is left to the server (the highest of its products').
function eventFromForm() {
  const startsVal = $("ns-start-at").checked ? $("ns-starts").value : "";
  const starts = startsVal ? new Date(startsVal) : new Date();
  const plan = {
    name: $("ns-name").value.trim(),
    currency: nsCurrency(),
    starts_at: rfc3339(Number.isNaN(starts.getTime()) ? new Date() : starts),
    outflow_per_second: numOr("ns-outflow", 10),
    reservation_ttl_seconds: Math.trunc(numOr("ns-hold", 300)),
    prequeue_seconds: Math.round(numOr("ns-prequeue", 15) * 60),
    eligibility: $("ns-eligibility").value,
    products: rows.read(),
  };
  withEnd(plan);
  return addCheckoutFields(plan);
}

// withEnd sets the plan's end: the time given, or its start and the duration.
function withEnd(plan) {
  const endsVal = $("ns-ends").value;
  if (endsVal && !Number.isNaN(new Date(endsVal).getTime())) {
    plan.ends_at = rfc3339(new Date(endsVal));
  } else {
    const minutes = numOr("ns-duration", 60);
    plan.ends_at = rfc3339(new Date(Date.parse(plan.starts_at) + minutes * 60000));
  }
}

// markRefused points at what the server named in a refused plan: an
// event's rows first, each problem beside its field, then the sale's own
// fields named in what is left of the message.
function markRefused(err) {
  let message = String(err.message);
  let first = null;
  if (isEvent()) {
    first = rows.showProblems(message);
    message = message.replace(/products\[\d+\][^;]*/g, "");
  }
  if (err.code !== "invalid_sale") {
    if (first) first.focus();
    return;
  }
  const visible = (id) => !$(id).closest("[hidden]");
  for (const [field, id] of NS_FIELDS) {
    if (message.includes(field) && visible(id)) {
      $(id).setAttribute("aria-invalid", "true");
      if (!first) first = $(id);
    }
  }
  if (message.includes("ends_at")) $("ns-duration").setAttribute("aria-invalid", "true");
  if (first) first.focus();
}

// withProductAndDiscount names the picked product instead of what it gives,
// and adds the discount, the price then being the list price.
function withProductAndDiscount(plan) {
  const product = productBySKU($("ns-product").value);
  if (product) {
    delete plan.sku;
    delete plan.name;
    delete plan.currency;
    plan.product_sku = product.sku;
  }
  const kind = $("ns-discount-kind").value;
  if (kind) {
    const off = numOr("ns-discount", 0);
    const currency = product ? product.currency : plan.currency;
    plan.discount = kind === "percent" ? { percent: off } : { amount_cents: Math.round(off * 10 ** minorDigits(currency)) };
    if (!product) plan.list_price_cents = plan.price_cents;
  }
  if (product || kind) delete plan.price_cents;
  return plan;
}

export function wireNewSale() {
  $("new-sale").addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = $("ns-submit");
    if (btn.getAttribute("aria-disabled") === "true") return;
    for (const [, id] of NS_FIELDS) $(id).removeAttribute("aria-invalid");
    rows.clearProblems();
    const plan = planFromForm();
    const what = isEvent() ? "event" : "sale";
    btn.setAttribute("aria-disabled", "true");
    setText(btn, "Creating…");
    try {
      const created = await api("POST", "/v1/admin/sales", plan);
      clearError();
      const said = what === "event" ? `Event created: ${created.name} (${created.id}), ${plan.products.length} products.`
        : `Sale created: ${created.name} (${created.id}).`;
      announce(said);
      nsDefaults();
      await loadSales().catch(report);
      if (created && created.id) select(created.id, true);
      showResult($("ns-result"), said); // beside the form that made it
      loadAudit().catch(report);
    } catch (err) {
      report(err, what === "event" ? "Create event" : "Create sale");
      markRefused(err);
    } finally {
      btn.removeAttribute("aria-disabled");
      setText(btn, isEvent() ? "Create event" : "Create sale");
    }
  });
  for (const id of ["ns-kind-one", "ns-kind-event"]) $(id).addEventListener("change", showKind);
  $("ns-currency").addEventListener("change", () => {
    $("ns-currency").value = $("ns-currency").value.trim().toUpperCase();
    rows.refreshUnits();
  });
  for (const id of ["ns-start-now", "ns-start-at"]) $(id).addEventListener("change", showStartChoice);
  $("ns-product").addEventListener("change", () => { showProduct(); showDiscount(); });
  $("ns-discount-kind").addEventListener("change", showDiscount);
  rows = productRows($("ns-product-rows"), { prefix: "ns", currency: nsCurrency, withCatalog: true });
  onProducts(fillPicker);
  onProducts((products) => rows.catalog(products));
  wireCheckoutFields();
  nsDefaults();
}
