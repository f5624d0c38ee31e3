// What each message of the server does to the shopper page's state.
import { el, RETURN_WAIT, S, t } from "./state.js";
import { setText } from "./format.js";
import { announcePosition, clearError, say, shout } from "./speak.js";
import { forwarded, toShop } from "./actions.js";
import { render } from "./render.js";
import { orderBought, productsLeft } from "./products.js";

// payment is the Stripe payment of a pending order (payment.js).
export const payment = FoyerPayment.create({ mount: el.paymentElement, say, changed: () => render() });

export function resetPlace() {
  S.phase = "idle";
  S.position = S.ahead = S.firstPosition = 0;
  S.reservation = null;
}

// planOf keeps the fields of a plan push that a page shows, so a push can
// never overwrite the sale's stock or state.
function planOf(p) {
  const keep = ["name", "price_cents", "currency", "starts_at", "ends_at", "prequeue_at", "per_shopper_limit", "products"];
  const out = {};
  for (const k of keep) if (k in p) out[k] = p[k];
  out.list_price_cents = p.list_price_cents; // absent: the discount was taken off
  return out;
}

export function handle(m) {
  switch (m.type) {
    case "welcome":
      S.sale = m.sale;
      setOperatorMessage(m.sale.message || "");
      if (S.phase === "joining" && S.solving === null) S.phase = "idle";
      if (S.sale.state === "sold_out" || S.sale.state === "ended") leaveQueueState();
      // Back from a payment's redirect, the answer tells the order; none
      // (its order was cancelled, its unit back) leaves nothing to confirm.
      if (S.payReturn) {
        setTimeout(() => {
          if (!S.payReturn) return;
          S.payReturn = "";
          render();
        }, RETURN_WAIT);
      }
      break;
    case "prequeue":
      S.phase = "prequeued";
      S.hadPrequeue = true;
      S.preTicket = m.ticket;
      S.seedHash = m.seed_hash;
      S.notice = "";
      say(t("say.prequeued"));
      break;
    case "position":
      if (S.phase !== "waiting") {
        S.firstPosition = m.position;
        S.notice = "";
        // The draw placed this prequeue shopper: say where, once.
        if (S.phase === "prequeued") say(t("say.drawn", { position: m.position }));
      }
      if (S.phase !== "waiting") S.count.reset();
      S.phase = "waiting";
      // What the page shows: the position, counted down between messages
      // while the queue moves steadily (render.js, tick).
      S.position = S.count.take(m, performance.now());
      S.ahead = S.position - 1;
      S.waiting = m.waiting;
      S.eta = m.eta || null;
      S.firstPosition = Math.max(S.firstPosition, m.position);
      announcePosition();
      break;
    case "stock":
      if (S.sale) S.sale.stock = { total: m.total, left: m.left, held: m.held, sold: m.sold };
      S.allHeld = !!m.all_held;
      if (S.allHeld) S.count.stop(performance.now()); // nothing moves until a hold lapses
      productsLeft(m.products); // an event's: each product's left
      break;
    case "state": {
      const was = S.sale ? S.sale.state : "";
      // A state push that changes nothing and carries no draw is an
      // operator's message; with no text (or an empty one) it clears it.
      const isMessage = "message" in m || (m.state === was && !m.seed && !m.seed_hash);
      if (S.sale) S.sale.state = m.state;
      if (m.state !== "open") S.count.stop(performance.now()); // paused, sold out, ended: the queue stands
      // An operator changed the plan before the opening: the new times,
      // price and name replace the welcome's, and the countdown moves.
      if (m.sale && S.sale) Object.assign(S.sale, planOf(m.sale));
      // A sale ended and then closed 4004 was deleted before it opened.
      if (m.state === "ended") S.endedHere = true;
      if (m.seed && S.sale) S.sale.seed = m.seed;
      if (isMessage) {
        setOperatorMessage(m.message || "");
        if (m.message) say(m.message);
      } else if (was === "paused" && m.state !== "paused" && S.messageInPause) {
        // Resumed: a message sent during the pause spoke of it, and is stale.
        setOperatorMessage("");
      }
      if (m.state === "ended") leaveQueueState();
      break;
    }
    case "sold_out":
      if (S.sale && S.sale.state !== "ended") S.sale.state = "sold_out";
      leaveQueueState();
      break;
    case "admitted": {
      const same = S.reservation && S.reservation.id === m.reservation_id;
      if (same && S.phase === "ordered") break;
      S.reservation = {
        id: m.reservation_id, expiresAt: Date.parse(m.expires_at), url: m.checkout_url,
        shop: m.checkout === "shop", admitted: m,
      };
      if (!(same && S.phase === "buying")) S.phase = "admitted";
      S.notice = "";
      // The shop's checkout: the shopper goes there at once, once
      // (docs/protocol.md, "Where an admitted shopper goes").
      if (S.reservation.shop && !forwarded(m.reservation_id)) {
        say(t("say.turnToShop"));
        toShop(S.reservation);
        break;
      }
      if (!same) {
        // A new hold: the last order's outcome is not this one's.
        S.orderStatus = "";
        S.orderId = null;
        S.choice = S.choiceNotice = S.bought = null; // an event's choice is this hold's
        say(t(S.reservation.shop ? "say.turnShop" : "say.turnBuy"));
        S.holdWarned = 0;
        S.holdWarning = null;
        FoyerAttention.call(`${t("title.turn")} · Foyer`);
      }
      break;
    }
    case "expired":
      if (!S.reservation || S.reservation.id === m.reservation_id) holdExpired();
      break;
    case "order": {
      // News of another reservation's order (a late refund of an earlier
      // one, a customer's other order) is not about the hold or order this
      // page shows now: it would drop its view. Once that order is over
      // (cancelled, refunded) the page holds nothing, and hears any.
      const showing = S.phase === "admitted" || S.phase === "buying" || S.phase === "ordered";
      if (showing && S.reservation && m.reservation_id && m.reservation_id !== S.reservation.id) break;
      const over = m.status === "cancelled" || m.status === "refunded"; // the unit went back to the sale
      // Stripe's payment is made on this page; the test provider's pays by itself.
      if (m.status === "pending_payment" && m.payment && m.payment.provider === "stripe") payment.offer(m.payment, m.reservation_id, S.payReturn);
      else if (m.status === "paid" || over) payment.settled(m.reservation_id); // nothing left to pay
      S.payReturn = "";
      const pay = payment.current();
      const said = m.status === "pending_payment" ? { key: !pay ? "say.orderPending"
        : pay.state === "confirming" ? "say.orderConfirming" : "say.orderPayBelow" }
        : m.status === "paid" ? (m.order_id ? { key: "say.orderPaidNumber", params: { order: String(m.order_id) } } : { key: "say.orderPaid" })
          : m.status === "cancelled" ? { key: "say.orderCancelled" }
            : m.status === "refunded" ? { key: "say.orderRefunded" }
              : { key: "say.orderOther", params: { status: String(m.status) } };
      if (m.status !== S.orderStatus) say(t(said.key, said.params));
      S.orderStatus = m.status;
      if (m.order_id) S.orderId = m.order_id;
      if (!over) orderBought(m);
      S.phase = over ? "idle" : "ordered";
      if (over) S.reservation = null; // its hold is over: a later reservation's news is this page's
      S.notice = over ? said : "";
      break;
    }
    case "notice":
      // The servers cannot reach the sale's data (degraded), or can again
      // (recovered). The connection and the place stay: say so, do not reconnect.
      // The server's message is in English, for developers: the page says its own.
      if (m.code === "degraded") {
        el.alert.dataset.code = "degraded";
        setText(el.error, t("alert.degraded"));
        el.errorCode.hidden = true;
        el.alert.hidden = false;
        S.degraded = true;
        shout(el.error.textContent);
      } else if (m.code === "recovered" && S.degraded) {
        S.degraded = false;
        clearError();
      }
      break;
  }
}

// setOperatorMessage keeps the operator's latest message ("" clears it),
// noting whether it came during a pause.
function setOperatorMessage(text) {
  S.operatorMessage = text;
  S.messageInPause = !!text && !!S.sale && S.sale.state === "paused";
}

// leaveQueueState: the sale can sell no more, so waiting is over.
function leaveQueueState() {
  if (S.phase === "waiting" || S.phase === "prequeued" || S.phase === "joining") {
    S.phase = "idle";
    S.position = S.ahead = S.firstPosition = 0;
  }
}

export function holdExpired() {
  S.phase = "idle";
  S.reservation = null;
  S.notice = { key: "notice.holdExpired" };
  say(t(S.notice.key));
}
