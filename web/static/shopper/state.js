// The shopper page's state: its constants, the elements it draws into, the
// sale and invite of its link, and S, what it knows of the sale and of the
// shopper's place (changed by connection.js, messages.js and actions.js, drawn
// by render.js).

export const SESSION_KEY = "foyer.session";
// FORWARDED_KEY remembers the reservation this browser was last sent to a
// shop's checkout with: a shopper who comes back (the back button, another
// tab) is offered the way on, not sent away again.
export const FORWARDED_KEY = "foyer.forwarded";
export const JOINABLE = new Set(["prequeue", "open", "paused"]);
// t says a message of the page in the shopper's language (i18n/i18n.js).
export const t = FoyerI18n.t;
export const STATES = new Set(["scheduled", "prequeue", "open", "paused", "sold_out", "ended"]);
export const SILENT_LIMIT = 50000; // no word from the server for this long: the connection is dead (the library's deadAfterMs)
// RETURN_PARAMS are what Stripe adds to the return URL when a payment
// method (a bank's 3-D Secure page) took the shopper away and back.
const RETURN_PARAMS = ["payment_intent", "payment_intent_client_secret", "redirect_status"];
export const RETURN_WAIT = 10000; // back from a redirect, no order told this long after welcome: nothing to confirm

const $ = (id) => document.getElementById(id);
export const el = {};
for (const id of [
  "sale-name", "price", "state", "countdown", "connection", "alert", "error", "error-close",
  "checkout", "checkout-title", "hold-line", "hold-countdown", "buy", "order-status",
  "notice", "hint", "queue-card", "stock-card", "join", "queue", "position", "ahead", "waiting", "progress", "progress-bar",
  "leave", "stock-left", "stock-detail", "bar-sold", "bar-held", "bar-left", "announce",
  "eta", "all-held", "operator-message", "pay", "payment-element", "pay-message", "pay-button", "pay-retry",
  "error-code", "fatal", "fatal-title", "fatal-text", "fatal-shop", "hold-warning", "receipt", "receipt-item",
  "receipt-quantity", "receipt-amount", "receipt-order", "receipt-reservation", "order-shop", "queue-shop",
  "fairness", "draw-link", "notify", "announce-alert", "lang",
]) el[id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = $(id);

// shopURL is the shop's page, where a shopper goes back to when the sale
// is over or bought (FOYER_SHOP_URL, rendered into the page by the
// server); "" when the deployment names none.
export const shopURL = (() => {
  const m = document.querySelector('meta[name="foyer-shop-url"]');
  const u = m ? m.content : "";
  return /^https?:\/\//.test(u) ? u : "";
})();

export const saleId = new URLSearchParams(location.search).get("sale") || "";
// invite is the invite code of a sale that admits only whom it invited
// (docs/integration.md, "Who may join"): a shop links to ?sale=...&invite=...
export const invite = new URLSearchParams(location.search).get("invite") || "";

export const S = {
  sale: null, // the sale as last heard: GET /v1/sales/<id>, then welcome/stock/state
  conn: "connecting", // connecting | open | reconnecting | gone
  phase: "idle", // idle | joining | waiting | admitted | buying | ordered
  position: 0, ahead: 0, waiting: 0, firstPosition: 0,
  count: new Foyer.PositionCount(), // the position shown, counted down between messages (docs/protocol.md)
  reservation: null, // {id, expiresAt (ms), url, shop (url is the shop's page, to open), admitted (the message, to check out with)}
  orderId: null,
  // notice: what the queue card says of the shopper's place ("" for
  // nothing): a message key and its params, so a change of language
  // says it again in the new one.
  notice: "",
  degraded: false, // the alert shows a "notice" degraded, until recovered
  fatal: "", // the page cannot work: "no_sale" (no ?sale= in the link) or "sale_not_found"
  operatorMessage: "", // the operator's latest message; "" when cleared or none
  messageInPause: false, // the message came while the sale was paused: it is about the pause, and goes with it
  hadPrequeue: false, // this tab waited in the prequeue: the draw's outcome is announced
  holdWarned: 0, // the last hold warning said (seconds left), so each is said once
  holdWarning: null, // {key, params}: the hold warning shown, to say again in another language
  solving: null, // while the library solves the proof of work before joining: the percent of the expected work done
  powBy: "", // where the last proof of work was solved: "worker" or "page" (FoyerPow.solvedBy below)
  payReturn: "", // redirect_status, when the page was opened on coming back from a payment's redirect
  // An event's (products.js): the product and quantity chosen, what the
  // choice says (a product sold out under the shopper, a limit), and what
  // the order is of, for its receipt.
  choice: null, // {sku, quantity}
  choiceNotice: null, // {key, params}
  bought: null, // {name, price_cents, quantity}
};

// A payment's redirect came back here: read how it went, and take its
// parameters (the client secret among them) out of the address bar and
// the history. The order itself comes with the socket's answer.
{
  const q = new URLSearchParams(location.search);
  if (RETURN_PARAMS.some((k) => q.has(k))) {
    S.payReturn = q.get("redirect_status") || "unknown";
    for (const k of RETURN_PARAMS) q.delete(k);
    const rest = q.toString();
    history.replaceState(history.state, "", `${location.pathname}${rest ? `?${rest}` : ""}${location.hash}`);
  }
}
