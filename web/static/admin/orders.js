// The selected sale's orders, downloaded as CSV (GET .../orders.csv).

import { S } from "./state.js";
import { $ } from "./dom.js";
import { download } from "./api.js";
import { report } from "./errors.js";

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
