// Foyer shopper page: one sale's waiting room. The page is static and draws
// what @foyer/client tells it (connection.js); every text it shows is said
// in the shopper's language (i18n/). ES modules, one idea each: state.js,
// format.js, speak.js, connection.js, messages.js, actions.js, render.js.
import { el, S, saleId, t } from "./state.js";
import { setText } from "./format.js";
import { clearError, showError } from "./speak.js";
import { start } from "./connection.js";
import { payment } from "./messages.js";
import { buy, join, leave } from "./actions.js";
import { render, tick } from "./render.js";
import { wireProducts } from "./products.js";

async function httpError(res) {
  // Retry-After (busy, rate_limited) in whole seconds, 0 when absent.
  const retryAfter = parseInt(res.headers.get("Retry-After") || "0", 10) || 0;
  try {
    const body = await res.json();
    if (body && body.error) return { ...body.error, retry_after: retryAfter };
  } catch { /* not JSON */ }
  return { code: `http_${res.status}`, message: res.statusText || "request failed" };
}

el.join.addEventListener("click", () => {
  FoyerAttention.unlockSound(); // a click: the one moment a browser lets a page make sound later
  join();
});
el.notify.addEventListener("click", async () => {
  await FoyerAttention.askToNotify();
  render();
});
el.leave.addEventListener("click", leave);
el.buy.addEventListener("click", buy);
wireProducts(render);
el.errorClose.addEventListener("click", clearError);
el.pay.addEventListener("submit", (e) => payment.payNow(e));
el.payRetry.addEventListener("click", () => payment.retry());
setInterval(tick, 250);
// The page in the shopper's language, and again in another when they
// pick one: what is live is drawn anew, the alert showing said again.
FoyerI18n.start(el.lang);
document.addEventListener("foyer:branding", () => render()); // the sale's look and texts came
FoyerI18n.onChange(() => {
  const code = el.alert.dataset.code;
  if (code && !el.alert.hidden) {
    setText(el.error, code === "degraded" ? t("alert.degraded") : FoyerErrors.friendly(code));
    if (!el.errorCode.hidden) setText(el.errorCode, t("alert.code", { code }));
  }
  render();
});

async function main() {
  if (!saleId) {
    S.conn = "gone";
    S.fatal = "no_sale";
    render();
    return;
  }
  render();
  try {
    const res = await fetch(`/v1/sales/${encodeURIComponent(saleId)}`);
    if (res.ok) {
      if (!S.sale) S.sale = await res.json();
    } else {
      const err = await httpError(res);
      if (res.status === 404) {
        S.conn = "gone";
        S.fatal = "sale_not_found";
        render();
        return;
      }
      showError(err.code);
    }
  } catch {
    // the connection will tell us, or retry
  }
  render();
  start();
}

main();
