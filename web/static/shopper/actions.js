// What the shopper does: join, leave, buy (or go on to the shop's checkout).
import { el, FORWARDED_KEY, invite, S, t } from "./state.js";
import { clearError, say, showError } from "./speak.js";
import { client } from "./connection.js";
import { holdExpired, resetPlace } from "./messages.js";
import { render } from "./render.js";
import { bought, choiceToBuy, focusChoice, isEvent, refused } from "./products.js";

export function join() {
  if (S.phase !== "idle" || !client) return;
  clearError();
  S.phase = "joining";
  S.notice = "";
  S.firstPosition = 0;
  // The library solves the sale's proof of work first when it asks for
  // one (solving, above), and answers a pow_* error's fresh challenge once.
  client.join(invite ? { invite } : {});
  render();
}

export function leave() {
  if (client && S.conn === "open") {
    client.leave();
    resetPlace();
    say(t("say.left"));
  }
  render();
  el.join.focus();
}

// forwarded reports whether this browser was sent to the shop's checkout
// with the reservation already.
export function forwarded(id) {
  try { return localStorage.getItem(FORWARDED_KEY) === id; } catch { return false; }
}

// toShop sends the browser to the shop's checkout page, which carries the
// token: a navigation, never a POST (the shop's page is on its own origin,
// and Foyer's checkout refuses a shop sale's token). The hold stays while
// the shopper is away.
export function toShop(r) {
  try { localStorage.setItem(FORWARDED_KEY, r.id); } catch { /* sent on anyway */ }
  location.assign(r.url);
}

export async function buy() {
  const r = S.reservation;
  if (!r || S.phase !== "admitted") return;
  if (r.shop) {
    toShop(r);
    return;
  }
  // An event's checkout names a product the shopper chose, left.
  const event = isEvent(S.sale);
  const choice = event ? choiceToBuy() : null;
  if (event && !choice) {
    S.choiceNotice = { key: "choice.pick" };
    render();
    focusChoice();
    return;
  }
  clearError();
  S.choiceNotice = null;
  S.phase = "buying";
  render();
  let err = null;
  try {
    // Keyed by the reservation: a second try of the same hold is answered
    // as the first, never confirmed twice (docs/protocol.md, "3. Checkout").
    // An event's key is the reservation's and the choice's: the answer to
    // one choice (its product sold out) is kept for that choice, and
    // another is a request of its own; the hold is confirmed once whatever.
    await client.checkout(r.admitted, !choice ? { idempotencyKey: r.id } : {
      idempotencyKey: `${r.id}.${S.sale.products.indexOf(choice.product)}.${choice.quantity}`,
      product: choice.product.sku, quantity: choice.quantity,
    });
  } catch (e) {
    err = e;
  }
  if (err && !(err instanceof Foyer.FoyerError)) {
    if (S.phase === "buying") S.phase = "admitted";
    showError("network");
    render();
    return;
  }
  if (S.reservation !== r && S.reservation?.id !== r.id) return; // moved on meanwhile
  if (!err) {
    if (choice) bought(choice);
    // Confirmed; the order push brings the order number. Should it not come,
    // the answer alone is enough to say so.
    setTimeout(() => {
      if (S.phase === "buying" && S.reservation?.id === r.id) {
        S.phase = "ordered";
        render();
      }
    }, 10000);
    return;
  }
  // A product sold out or past its limit: the hold stands, and the
  // choice says so beside itself.
  if (choice && S.phase === "buying" && refused(err.code)) {
    S.phase = "admitted";
    render();
    focusChoice();
    return;
  }
  showError(err.code);
  if (S.phase !== "buying") { render(); return; }
  if (err.code === "reservation_expired" || err.code === "token_expired" || err.code === "reservation_unknown") {
    holdExpired();
  } else {
    S.phase = "admitted";
  }
  render();
}
