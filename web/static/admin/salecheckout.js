// The New sale form's fields for a shop in front of Foyer: who may join
// (identity: off, optional, required), where an admitted shopper pays
// (checkout: Foyer's, or the shop's page at checkout_url, asked only then)
// and how much one customer may buy across the sale (per_customer_units,
// per_customer_orders); and the line of the sale's page that shows them.

import { $ } from "./dom.js";

// CHECKOUT_FIELDS are the plan's fields this part of the form fills, with
// their inputs, for newsale.js to mark the ones the server names as wrong.
export const CHECKOUT_FIELDS = [["identity", "ns-identity"], ["checkout_url", "ns-checkout-url"], ["checkout", "ns-checkout"],
  ["per_customer_units", "ns-per-customer-units"], ["per_customer_orders", "ns-per-customer-orders"]];

function showCheckoutURL() {
  const shop = $("ns-checkout").value === "shop";
  $("ns-checkout-url-field").hidden = !shop;
  $("ns-checkout-url").required = shop;
}

// wholeOr reads a whole-number input: dflt when empty, else the number as
// typed (truncated), for the server to judge.
function wholeOr(id, dflt) {
  const s = $(id).value.trim();
  const n = Number(s);
  return s === "" || !Number.isFinite(n) ? dflt : Math.trunc(n);
}

// addCheckoutFields adds the fields to plan; the defaults (off, foyer, no
// unit bound, one order) are left out, as a plan without them means.
export function addCheckoutFields(plan) {
  const identity = $("ns-identity").value;
  if (identity !== "off") plan.identity = identity;
  if ($("ns-checkout").value === "shop") {
    plan.checkout = "shop";
    plan.checkout_url = $("ns-checkout-url").value.trim();
  }
  const units = wholeOr("ns-per-customer-units", 0);
  if (units !== 0) plan.per_customer_units = units;
  const orders = wholeOr("ns-per-customer-orders", 1);
  if (orders !== 1) plan.per_customer_orders = orders;
  return plan;
}

const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;

// shopSettings is the line of the sale's page that says who may join, where
// its shoppers pay and what one customer may buy.
export function shopSettings(p) {
  const orders = plural(Math.max(p.per_customer_orders || 1, 1), "order");
  const units = p.per_customer_units > 0 ? `, ${plural(p.per_customer_units, "unit")}` : "";
  return [
    `identity ${p.identity || "off"}`,
    p.checkout === "shop" ? `checkout on the shop’s page (${p.checkout_url})` : "Foyer’s checkout",
    p.eligibility === "invited" ? "invited only" : "open to everyone",
    `per customer: at most ${orders}${units}`,
  ].join(" · ");
}

// resetCheckoutFields follows the form's reset (back to off and foyer).
export function resetCheckoutFields() {
  showCheckoutURL();
}

export function wireCheckoutFields() {
  $("ns-checkout").addEventListener("change", showCheckoutURL);
  showCheckoutURL();
}
