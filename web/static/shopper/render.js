// Drawing the shopper page from its state: every card, the status pill, the
// price and stock, and the clocks, redrawn every 250 ms.
import { el, JOINABLE, S, saleId, shopURL, STATES, t } from "./state.js";
import { clock, count, duration, formatPrice, percent, setText, timeOf } from "./format.js";
import { clearError, shout } from "./speak.js";
import { serverNow } from "./connection.js";
import { holdExpired, payment } from "./messages.js";
import { choiceToBuy, isEvent, renderProducts } from "./products.js";

// fatalTitle is the heading of a page that cannot show a sale.
const fatalTitle = (code) => t(`fatal.${code}`);

// allHeld: nothing left to admit, but units held by shoppers checking
// out, which may come back if a hold lapses.
const allHeld = (sale) => !!sale && !!sale.stock && sale.stock.left === 0 && sale.stock.held > 0;

// setLink points a "back to the shop" link at the shop, or hides it when
// the deployment names no shop.
// shopLink is the sale's own link back to its shop (branding.js), or the
// deployment's.
const shopLink = () => (globalThis.foyerBranding && globalThis.foyerBranding.shopURL()) || shopURL;

function setLink(a, show) {
  const url = shopLink();
  a.hidden = !(show && url);
  if (url && a.getAttribute("href") !== url) a.href = url;
}

export function render() {
  const sale = S.sale;
  const state = sale ? sale.state : "";
  const fatal = S.fatal;

  setText(el.saleName, fatal ? fatalTitle(fatal) : sale ? sale.name : t("page.loading"));
  el.fatal.hidden = !fatal;
  if (fatal) {
    el.fatal.dataset.code = fatal;
    setText(el.fatalText, FoyerErrors.friendly(fatal) + (shopLink() ? "" : ` ${t("fatal.findLink")}`));
    setLink(el.fatalShop, true);
    clearError(); // the page says it in full; the alert would repeat it
  }
  // A shopper holding a unit, or with an order, is pushed no stock (docs/protocol.md): its
  // card would stand still, so it is not shown.
  el.stockCard.hidden = !!fatal || S.phase === "admitted" || S.phase === "buying" || S.phase === "ordered";
  // The sale price, with the list price struck through when discounted (price.js).
  // An event's is its lowest: "from".
  if (isEvent(sale) && !fatal) {
    delete el.price.dataset.price;
    setText(el.price, t("products.from", { price: formatPrice(sale.price_cents, sale.currency) }));
  } else {
    foyerPrice.render(el.price, sale && !fatal ? sale : null, FoyerI18n.locale());
  }
  FoyerAttention.setTitle(fatal ? `${fatalTitle(fatal)} · Foyer` : sale
    ? (S.phase === "waiting" ? `#${S.position} · ${sale.name}` : `${sale.name} · Foyer`)
    : "Foyer");

  el.state.hidden = !state || !!fatal;
  el.state.dataset.state = state;
  setText(el.state, state === "open" && allHeld(sale) ? t("state.openAllHeld") : STATES.has(state) ? t(`state.${state}`) : state);

  // The pill says "Live" only when it all works: a degraded alert beside
  // a green "Live" would say two things at once.
  const conn = S.conn === "open" && S.degraded ? "degraded" : S.conn;
  const connText = t(`conn.${conn}`);
  el.connection.hidden = !!fatal; // no sale to be live about
  el.connection.dataset.status = conn;
  setText(el.connection, connText);

  // stock
  if (sale && sale.stock) {
    const { total, left, held, sold } = sale.stock;
    setText(el.stockLeft, t("stock.left", { left, total }));
    setText(el.stockDetail, t("stock.detail", { held, sold }));
    const pct = (n) => (total > 0 ? `${(100 * n) / total}%` : "0%");
    el.barSold.style.width = pct(sold);
    el.barHeld.style.width = pct(held);
    el.barLeft.style.width = pct(left);
  }

  // operator message, estimate, held stock
  el.operatorMessage.hidden = !S.operatorMessage || !!fatal;
  setText(el.operatorMessage, S.operatorMessage || "");
  // The estimate is of a queue that moves: while paused, or with every
  // unit held, it does not, and a number from before would mislead.
  const waiting = S.phase === "waiting";
  const etaText = !waiting ? ""
    : state === "paused" ? t("eta.paused")
      : S.allHeld ? "" // #all-held says why there is no estimate
        : S.eta ? turnIn(duration(S.eta.min_seconds), duration(S.eta.max_seconds)) : "";
  el.eta.hidden = !etaText;
  el.eta.dataset.kind = state === "paused" ? "paused" : S.eta ? "estimate" : "";
  setText(el.eta, etaText);
  el.allHeld.hidden = !(S.allHeld && waiting);

  // queue
  const p = S.phase;
  el.notice.hidden = !S.notice;
  setText(el.notice, S.notice ? t(S.notice.key, S.notice.params) : "");
  const held = sale && sale.stock ? sale.stock.held : 0;
  const hint = p !== "idle" ? ""
    : state === "sold_out" ? (held > 0 ? t("hint.soldOutHeld", { n: held })
      : (globalThis.foyerBranding && globalThis.foyerBranding.soldOutText()) || t("hint.soldOut"))
      : state === "ended" ? t("hint.ended")
        : state === "scheduled" ? t("hint.scheduled", { time: timeOf(sale && sale.prequeue_at) })
          : state === "prequeue" ? t("hint.prequeue")
            : state === "paused" ? t("hint.paused")
              : state === "open" && allHeld(sale) ? t("hint.allHeld")
                : "";
  el.hint.hidden = !hint || !!S.notice;
  el.hint.dataset.kind = state === "open" && allHeld(sale) ? "all_held" : state;
  setText(el.hint, hint);
  // Sold out and ended are not dead ends: the way back to the shop.
  setLink(el.queueShop, p === "idle" && (state === "sold_out" || state === "ended"));
  el.queueCard.hidden = !!fatal || p === "admitted" || p === "buying" || p === "ordered" || !!S.payReturn;
  el.join.hidden = !(p === "idle" || p === "joining");
  // Busy buttons are aria-disabled rather than disabled, so keyboard focus stays on them.
  el.join.disabled = !((p === "idle" || p === "joining") && S.conn === "open" && JOINABLE.has(state)) || !!fatal;
  el.join.setAttribute("aria-disabled", p === "joining");
  setText(el.join, p !== "joining" ? t("queue.join")
    : S.solving !== null ? t("queue.solving", { percent: percent(S.solving) }) : t("queue.joining"));
  el.queue.hidden = p !== "waiting" && p !== "prequeued";
  if (p === "prequeued") {
    // A ticket number reads like a place in line; it is not one.
    setText(el.position, t("prequeue.position"));
    setText(el.ahead, t("prequeue.drawn"));
    setText(el.waiting, t("prequeue.starts", { time: timeOf(sale && sale.starts_at) }));
    el.ahead.dataset.ticket = S.preTicket;
    el.progressBar.style.width = "0%";
  }
  // The draw can be checked by anyone: while in the prequeue, and after it placed you.
  el.fairness.hidden = !(p === "prequeued" || (p === "waiting" && S.hadPrequeue));
  const drawHref = `/v1/sales/${encodeURIComponent(saleId)}/draw`;
  if (el.drawLink.getAttribute("href") !== drawHref) el.drawLink.href = drawHref;
  el.notify.hidden = !((p === "waiting" || p === "prequeued") && FoyerAttention.canNotify());
  if (p === "waiting") {
    setText(el.position, t("queue.position", { position: S.position }));
    setText(el.ahead, t("queue.ahead", { ahead: S.ahead }));
    setText(el.waiting, t("queue.waiting", { waiting: S.waiting }));
    el.position.dataset.value = S.position;
    el.ahead.dataset.value = S.ahead;
    el.waiting.dataset.value = S.waiting;
    const span = Math.max(S.firstPosition - 1, 1);
    const done = S.firstPosition <= 1 ? 100 : Math.round((100 * (S.firstPosition - S.position)) / span);
    el.progressBar.style.width = `${Math.max(done, 2)}%`;
    el.progress.setAttribute("aria-valuenow", done);
  }
  el.leave.disabled = S.conn !== "open";

  // checkout
  const holding = p === "admitted" || p === "buying";
  // Back from a payment's redirect: its order is on its way over the socket.
  const returning = !!S.payReturn && p === "idle";
  const pay = p === "ordered" ? payment.current() : null;
  const paying = pay && pay.state !== "confirming";
  el.checkout.hidden = !(holding || p === "ordered" || returning);
  // "Thank you!" once the money is in; before, the order is only placed.
  const done = p === "ordered" && S.orderStatus === "paid";
  setText(el.checkoutTitle, t(paying ? "checkout.pay" : done ? "checkout.thanks"
    : p === "ordered" || returning ? "checkout.placed" : "checkout.turn"));
  el.holdLine.hidden = !holding;
  if (!holding) el.holdWarning.hidden = true;
  else if (S.holdWarning) setText(el.holdWarning, t(S.holdWarning.key, S.holdWarning.params));
  el.buy.hidden = !holding;
  // An event's product is chosen here for Foyer's checkout; the shop's
  // checkout (checkout: shop) asks at the shop.
  const choosing = holding && !(S.reservation && S.reservation.shop);
  renderProducts(sale, choosing, !!fatal || p === "ordered" || returning || (holding && !choosing));
  el.buy.setAttribute("aria-disabled", p !== "admitted" || (choosing && isEvent(sale) && !choiceToBuy()));
  setText(el.buy, t(p === "buying" ? "checkout.buying" : S.reservation && S.reservation.shop ? "checkout.toShop" : "checkout.buy"));
  el.orderStatus.dataset.status = p === "ordered" ? (S.orderStatus || "confirmed") : p === "buying" || returning ? "pending" : "";
  const number = S.orderId ? t("order.number", { order: String(S.orderId) }) : "";
  setText(el.orderStatus,
    p === "buying" ? t("order.confirming")
      : returning ? t("order.returning")
        : p !== "ordered" ? ""
          : t(S.orderStatus === "paid" ? "order.paid"
            : pay ? (paying ? "order.placedPay" : "order.placedConfirming")
              : S.orderStatus === "pending_payment" ? "order.placedWaiting"
                : S.orderStatus === "confirmed" ? "order.placedConfirming"
                  : "order.confirmed", { number }));
  renderReceipt(p === "ordered" && sale);

  // payment (Stripe's Payment Element is mounted in #payment-element)
  el.pay.hidden = !paying;
  if (paying) {
    const failed = pay.state === "failed";
    const message = pay.message || (pay.state === "loading" ? t("pay.loading") : "");
    el.payMessage.hidden = !message;
    el.payMessage.dataset.kind = pay.message ? "error" : "info";
    setText(el.payMessage, message);
    el.paymentElement.hidden = failed;
    el.payButton.hidden = failed;
    el.payButton.setAttribute("aria-disabled", pay.state !== "ready");
    setText(el.payButton, t(pay.state === "paying" ? "pay.paying" : "pay.button"));
    el.payRetry.hidden = !failed;
  }

  // Keep keyboard focus on something that is still there.
  const a = document.activeElement;
  const lostFocus = a && a !== document.body ? a.closest("[hidden]") : lastFocused && (lastFocused.closest("[hidden]") || lastFocused.disabled);
  if (lostFocus) {
    const next = holding ? el.buy : paying ? (el.payRetry.hidden ? el.payButton : el.payRetry) : p === "waiting" || p === "prequeued" ? el.leave : p === "idle" ? el.join : null;
    if (next && !next.disabled) next.focus();
  }
  tick();
}

// turnIn says when the shopper's turn may come: a range, or one time
// when both ends say the same ("about 1 min", not "1 min to 1 min").
function turnIn(min, max) {
  return min === max ? t("eta.about", { time: min }) : t("eta.range", { min, max });
}

// renderReceipt fills the order's receipt: what, how many, for how much,
// and its numbers, for the shopper to keep; and the way back to the shop.
function renderReceipt(sale) {
  el.receipt.hidden = !sale;
  setLink(el.orderShop, !!sale);
  if (!sale) return;
  // Foyer's checkout of the page buys the one unit held, or in an event
  // the product and quantity chosen.
  const what = S.bought || { name: sale.name, price_cents: sale.price_cents, quantity: 1 };
  setText(el.receiptItem, what.name);
  setText(el.receiptQuantity, count(what.quantity));
  setText(el.receiptAmount, formatPrice(what.price_cents * what.quantity, sale.currency));
  setText(el.receiptOrder, S.orderId ? `#${S.orderId}` : t("receipt.writing"));
  setText(el.receiptReservation, S.reservation ? S.reservation.id : "");
}

// HOLD_WARNINGS are the seconds left at which the shopper is told, aloud
// too, that the hold is running out: a red clock alone is not enough.
const HOLD_WARNINGS = [60, 15];

// tick redraws the clocks from the synced time; it runs every 250 ms.
export function tick() {
  const now = serverNow(), sale = S.sale;
  let text = "";
  if (sale) {
    const starts = Date.parse(sale.starts_at), ends = Date.parse(sale.ends_at);
    const opens = Date.parse(sale.prequeue_at);
    if (sale.state === "scheduled" && opens > now) text = t("countdown.queueOpens", { clock: clock(opens - now) });
    else if (sale.state === "scheduled" || sale.state === "prequeue") text = starts > now ? t("countdown.starts", { clock: clock(starts - now) }) : t("countdown.starting");
    else if (sale.state === "open" && ends > now) text = t("countdown.ends", { clock: clock(ends - now) });
  }
  setText(el.countdown, text);

  // A position counted down between messages (docs/protocol.md, "Counting
  // a position down"): what the page shows falls each second with the queue.
  if (S.phase === "waiting") {
    const shown = S.count.shows(performance.now());
    if (shown !== S.position) {
      S.position = shown;
      S.ahead = shown - 1;
      render();
    }
  }

  if ((S.phase === "admitted" || S.phase === "buying") && S.reservation) {
    const left = S.reservation.expiresAt - now;
    setText(el.holdCountdown, clock(left, true));
    el.holdCountdown.classList.toggle("urgent", left < 30000);
    // The smallest threshold passed, said once; a hold shorter than the
    // first is warned of at once, with the seconds it has.
    const warn = [...HOLD_WARNINGS].reverse().find((s) => left <= s * 1000);
    if (warn && left > 0 && S.phase === "admitted" && (S.holdWarned === 0 || warn < S.holdWarned)) {
      S.holdWarned = warn;
      const secs = Math.ceil(left / 1000);
      S.holdWarning = { key: S.reservation.shop ? "hold.warnShop" : "hold.warnBuy", params: { n: secs } };
      const text = t(S.holdWarning.key, S.holdWarning.params);
      setText(el.holdWarning, text);
      el.holdWarning.hidden = false;
      shout(text);
    }
    // The server says so too; a socket that is down would not hear it.
    if (left < -1000 && S.phase === "admitted") {
      holdExpired();
      render();
    }
  }
}

let lastFocused = null; // the last of our buttons to have focus, while it still counts
document.addEventListener("focusin", (e) => {
  lastFocused = e.target instanceof HTMLButtonElement ? e.target : null;
});
