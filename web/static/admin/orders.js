// The selected sale's orders, downloaded as CSV (GET .../orders.csv), and
// where its payments stand (GET .../payments).

import { S } from "./state.js";
import { $, setText } from "./dom.js";
import { api, download } from "./api.js";
import { report } from "./errors.js";
import { count, formatPrice } from "./format.js";

// PAYMENTS_EVERY is how often the payments line is read again while a sale
// is shown: Postgres is asked, not the live feed, so not every second.
const PAYMENTS_EVERY = 10000;
let paymentsAt = 0;

// showPayments reads the sale's payment summary and writes it on one line:
// paid / failed / pending / refunded, with amounts.
export async function showPayments(id) {
  paymentsAt = Date.now();
  const node = $("payments-summary");
  try {
    const p = await api("GET", `/v1/admin/sales/${encodeURIComponent(id)}/payments`);
    if (S.selected !== id) return; // another sale was chosen meanwhile
    const part = (label, t) => `${label} ${count(t.count)} (${formatPrice(t.amount_cents, p.currency)})`;
    setText(node, [part("paid", p.paid), part("failed", p.failed), part("pending", p.pending),
      part("refunded", p.refunded)].join(" · "));
    node.dataset.loaded = id;
  } catch (err) {
    setText(node, "–");
    report(err, "Read payments");
  }
}

// refreshPayments reads them again when PAYMENTS_EVERY has passed.
export function refreshPayments() {
  if (S.selected && Date.now() - paymentsAt > PAYMENTS_EVERY) showPayments(S.selected);
}

export function wireOrders() {
  $("orders-csv").addEventListener("click", async (e) => {
    const id = S.selected;
    if (!id) return;
    const button = e.currentTarget;
    button.disabled = true;
    try {
      await download(`/v1/admin/sales/${encodeURIComponent(id)}/orders.csv`, `orders-${id}.csv`, "text/csv");
    } catch (err) {
      report(err, "Download orders");
    } finally {
      button.disabled = false;
    }
  });
}
