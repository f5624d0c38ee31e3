// The New sale form's fields for a shop in front of Foyer: who may join
// (identity: off, optional, required) and where an admitted shopper pays
// (checkout: Foyer's, or the shop's page at checkout_url, asked only then).

import { $ } from "./dom.js";

// CHECKOUT_FIELDS are the plan's fields this part of the form fills, with
// their inputs, for newsale.js to mark the ones the server names as wrong.
export const CHECKOUT_FIELDS = [["identity", "ns-identity"], ["checkout_url", "ns-checkout-url"], ["checkout", "ns-checkout"]];

function showCheckoutURL() {
  const shop = $("ns-checkout").value === "shop";
  $("ns-checkout-url-field").hidden = !shop;
  $("ns-checkout-url").required = shop;
}

// addCheckoutFields adds the fields to plan; the defaults (off, foyer) are
// left out, as a plan without them means.
export function addCheckoutFields(plan) {
  const identity = $("ns-identity").value;
  if (identity !== "off") plan.identity = identity;
  if ($("ns-checkout").value === "shop") {
    plan.checkout = "shop";
    plan.checkout_url = $("ns-checkout-url").value.trim();
  }
  return plan;
}

// resetCheckoutFields follows the form's reset (back to off and foyer).
export function resetCheckoutFields() {
  showCheckoutURL();
}

export function wireCheckoutFields() {
  $("ns-checkout").addEventListener("change", showCheckoutURL);
  showCheckoutURL();
}
