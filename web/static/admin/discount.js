// A single price and its discount as the dashboard's forms show and send
// them (docs/admin-api.md, "Discounts"): with a discount, the price typed
// is the list price, and the server derives the sale price from it.

import { minorDigits } from "./format.js";

// discountShown is what a form shows of a plan's (or a product's) price in
// currency: the price typed (the list price when discounted), the kind of
// discount ("", "percent" or "amount") and the amount off, in the
// currency's units for an amount.
export function discountShown(p, currency) {
  const unit = 10 ** minorDigits(currency);
  const kind = p.discount_percent ? "percent" : p.discount_amount_cents ? "amount" : "";
  return {
    price: String((kind ? p.list_price_cents : p.price_cents) / unit),
    kind,
    off: kind === "percent" ? String(p.discount_percent) : kind === "amount" ? String(p.discount_amount_cents / unit) : "",
  };
}

// discountAsked is the API's discount of a kind and an amount off as typed
// (a percent, or an amount in currency's units); no kind is none ({}).
export function discountAsked(kind, off, currency) {
  if (kind === "percent") return { percent: off };
  if (kind === "amount") return { amount_cents: Math.round(off * 10 ** minorDigits(currency)) };
  return {};
}

// showDiscountInputs shows a form's amount off (the inputs named
// <prefix>-discount-kind, -discount-field, -discount and -discount-unit)
// only with a kind of discount, in its unit: a percent is whole.
export function showDiscountInputs(prefix, currency) {
  const kind = document.getElementById(`${prefix}-discount-kind`).value;
  const off = document.getElementById(`${prefix}-discount`);
  document.getElementById(`${prefix}-discount-field`).hidden = !kind;
  off.required = !!kind;
  off.step = kind === "percent" ? "1" : "any";
  const unit = document.getElementById(`${prefix}-discount-unit`);
  unit.textContent = kind === "amount" ? `(${currency})` : "(%)";
}
