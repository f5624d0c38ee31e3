// Foyer shopper page: one sale's waiting room. The page is static and draws
// what @foyer/client (client/foyer.js, the global Foyer; clients/js) tells
// it: the library owns the protocol (session, socket or HTTP fallback,
// reconnecting, clock, keepalive, proof of work, checkout), this page the
// rendering. Every text it shows is said in the shopper's language (i18n/, t below).
"use strict";

(() => {
  const SESSION_KEY = "foyer.session";
  // FORWARDED_KEY remembers the reservation this browser was last sent to a
  // shop's checkout with: a shopper who comes back (the back button, another
  // tab) is offered the way on, not sent away again.
  const FORWARDED_KEY = "foyer.forwarded";
  const JOINABLE = new Set(["prequeue", "open", "paused"]);
  // t says a message of the page in the shopper's language (i18n/i18n.js).
  const t = FoyerI18n.t;
  const STATES = new Set(["scheduled", "prequeue", "open", "paused", "sold_out", "ended"]);
  const SILENT_LIMIT = 50000; // no word from the server for this long: the connection is dead (the library's deadAfterMs)
  // RETURN_PARAMS are what Stripe adds to the return URL when a payment
  // method (a bank's 3-D Secure page) took the shopper away and back.
  const RETURN_PARAMS = ["payment_intent", "payment_intent_client_secret", "redirect_status"];
  const RETURN_WAIT = 10000; // back from a redirect, no order told this long after welcome: nothing to confirm

  const $ = (id) => document.getElementById(id);
  const el = {};
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

  // duration says a number of seconds the way a person would, in the
  // shopper's language: seconds, minutes, or hours and minutes.
  function duration(s) {
    const parts = s < 60 ? { seconds: Math.max(1, s) } : s < 3600 ? { minutes: Math.round(s / 60) }
      : { hours: Math.floor(s / 3600), minutes: Math.round((s % 3600) / 60) };
    if (typeof Intl.DurationFormat === "function") return new Intl.DurationFormat(FoyerI18n.locale(), { style: "short" }).format(parts);
    const unit = (n, u) => new Intl.NumberFormat(FoyerI18n.locale(), { style: "unit", unit: u, unitDisplay: "short" }).format(n);
    return Object.entries(parts).map(([u, n]) => unit(n, u.slice(0, -1))).join(" ");
  }

  // FAR is how far ahead a moment is told with its day, not only its time.
  const FAR = 12 * 3600 * 1000;

  // timeOf says when a moment is, in the shopper's own time zone, and names
  // the zone: a shopper abroad should not have to guess. One more than
  // half a day away is told with its day.
  function timeOf(iso) {
    if (!iso) return t("time.unknown");
    const at = new Date(iso);
    const opts = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
    if (Math.abs(at - serverNow()) > FAR) Object.assign(opts, { weekday: "short", day: "numeric", month: "short" });
    return new Intl.DateTimeFormat(FoyerI18n.locale(), opts).format(at);
  }

  // shopURL is the shop's page, where a shopper goes back to when the sale
  // is over or bought (FOYER_SHOP_URL, rendered into the page by the
  // server); "" when the deployment names none.
  const shopURL = (() => {
    const m = document.querySelector('meta[name="foyer-shop-url"]');
    const u = m ? m.content : "";
    return /^https?:\/\//.test(u) ? u : "";
  })();

  const saleId = new URLSearchParams(location.search).get("sale") || "";
  // invite is the invite code of a sale that admits only whom it invited
  // (docs/integration.md, "Who may join"): a shop links to ?sale=...&invite=...
  const invite = new URLSearchParams(location.search).get("invite") || "";

  const S = {
    sale: null, // the sale as last heard: GET /v1/sales/<id>, then welcome/stock/state
    conn: "connecting", // connecting | open | reconnecting | gone
    phase: "idle", // idle | joining | waiting | admitted | buying | ordered
    position: 0, ahead: 0, waiting: 0, firstPosition: 0,
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

  // ---- small helpers ----

  let client = null; // the Foyer.FoyerClient of this page's sale, once started
  // payment is the Stripe payment of a pending order (payment.js).
  const payment = FoyerPayment.create({ mount: el.paymentElement, say, changed: () => render() });
  const serverNow = () => (client ? client.serverNow() : Date.now());

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function pad(n) { return String(n).padStart(2, "0"); }

  // clock formats a duration as HH:MM:SS (MM:SS when short is set and under an hour).
  function clock(ms, short) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const d = Math.floor(total / 86400), h = Math.floor(total / 3600) % 24;
    const m = Math.floor(total / 60) % 60, s = total % 60;
    if (short && total < 3600) return `${pad(m)}:${pad(s)}`;
    const days = d ? new Intl.NumberFormat(FoyerI18n.locale(), { style: "unit", unit: "day", unitDisplay: "narrow" }).format(d) + " " : "";
    return `${days}${pad(h)}:${pad(m)}:${pad(s)}`;
  }

  function formatPrice(cents, currency) {
    try {
      const fmt = new Intl.NumberFormat(FoyerI18n.locale(), { style: "currency", currency });
      const digits = fmt.resolvedOptions().maximumFractionDigits; // minor units: 2 for EUR, 0 for JPY
      return fmt.format(cents / 10 ** digits);
    } catch {
      return `${(cents / 100).toFixed(2)} ${currency || ""}`.trim();
    }
  }

  const count = (n) => new Intl.NumberFormat(FoyerI18n.locale()).format(n);
  const percent = (n) => new Intl.NumberFormat(FoyerI18n.locale(), { style: "percent" }).format(n / 100);

  let sayTimer = 0, saidAt = 0;
  function say(text) {
    saidAt = Date.now();
    el.announce.textContent = text;
  }
  // shout announces what cannot wait (an error, a hold about to lapse)
  // through a role=alert region that is always in the page: one shown only
  // with its text is not reliably read out.
  function shout(text) {
    el.announceAlert.textContent = text;
  }
  // Position changes are announced politely, at most every few seconds.
  function announcePosition() {
    if (sayTimer) return;
    sayTimer = setTimeout(() => {
      sayTimer = 0;
      if (S.phase === "waiting") say(t("say.position", { position: S.position, ahead: S.ahead }));
    }, Math.max(0, saidAt + 8000 - Date.now()));
  }

  // showError tells the shopper what went wrong in words meant for them
  // (errors.js), and keeps the code, for support, in small print and in
  // the alert's data-code. The server's message, written for developers,
  // is not shown.
  function showError(code) {
    const text = FoyerErrors.friendly(code);
    el.alert.dataset.code = code;
    setText(el.error, text);
    el.errorCode.hidden = false;
    setText(el.errorCode, t("alert.code", { code: String(code) }));
    el.alert.hidden = false;
    shout(text);
  }
  function clearError() {
    el.alert.hidden = true;
    delete el.alert.dataset.code;
    el.error.replaceChildren();
    el.errorCode.hidden = true;
  }

  async function httpError(res) {
    // Retry-After (busy, rate_limited) in whole seconds, 0 when absent.
    const retryAfter = parseInt(res.headers.get("Retry-After") || "0", 10) || 0;
    try {
      const body = await res.json();
      if (body && body.error) return { ...body.error, retry_after: retryAfter };
    } catch { /* not JSON */ }
    return { code: `http_${res.status}`, message: res.statusText || "request failed" };
  }

  // ---- session ----

  function loadSession() {
    try {
      const s = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
      if (s && s.token && Date.parse(s.expires_at) - 60000 > Date.now()) return s;
    } catch { /* storage unavailable or garbage */ }
    return null;
  }
  function storeSession(s) {
    try { localStorage.setItem(SESSION_KEY, JSON.stringify(s)); } catch { /* this tab only */ }
  }

  // ---- the connection: @foyer/client ----

  // powWorkerURL is the library's proof-of-work worker, served beside its
  // bundle (web/static/client/, one content-named folder), which the page's
  // Content-Security-Policy (worker-src 'self') lets run.
  function powWorkerURL() {
    const script = document.getElementById("foyer-client");
    return script ? new URL("pow-worker.js", script.src).href : undefined;
  }

  // CONN is the pill's word for each state of the library's connection.
  const CONN = { idle: "connecting", connecting: "connecting", open: "open", reconnecting: "reconnecting", closed: "gone" };

  // MESSAGES are the server's pushes the page draws (handle, below); the
  // library answers the rest (time, pong) itself.
  const MESSAGES = ["welcome", "prequeue", "position", "stock", "state", "sold_out", "admitted", "expired", "order", "notice"];

  function start() {
    client = new Foyer.FoyerClient({
      baseUrl: location.origin, saleId, session: loadSession() || undefined,
      powWorkerUrl: powWorkerURL(), deadAfterMs: SILENT_LIMIT,
      // A place lost with its session is the shopper's to take again (notice.sessionRenewed).
      rejoinAfterNewSession: false,
    });
    client.on("session", storeSession);
    client.on("connection", (e) => {
      // A reconnect's new attempt is still reconnecting, to the shopper.
      S.conn = e.state === "connecting" && S.conn === "reconnecting" ? "reconnecting" : CONN[e.state] || "connecting";
      render();
    });
    client.on("reconnecting", lost);
    client.on("closed", closed);
    client.on("failure", failed);
    client.on("pow", solving);
    for (const type of MESSAGES) {
      client.on(type, (m) => {
        handle(m);
        render();
      });
    }
    client.start().catch(() => { /* refused for good: told by closed */ });
  }

  // lost: the connection ended and the library reconnects. A session it had
  // to renew (4001) took the place with it.
  function lost({ code }) {
    if (S.phase === "joining") S.phase = "idle"; // the server restores a join that went through
    if (code === 4001) {
      const hadPlace = S.phase !== "idle";
      resetPlace();
      if (hadPlace) S.notice = { key: "notice.sessionRenewed" };
      else clearError(); // a stale stored session: nothing lost, nothing to say
    }
    render();
  }

  // closed: the library gave up for good (a close code no retry fixes).
  function closed({ code, error }) {
    if (code === 4004) {
      S.fatal = S.endedHere ? "sale_cancelled" : "sale_not_found";
    } else if (code === 4003 || (error && error.code === "blocked")) {
      resetPlace(); // blocked by the operators: a new connection would be refused too
      showError("blocked");
    } else if (error) {
      showError(error.code || `closed_${code}`);
    }
    render();
  }

  // solving shows how far the library's proof of work before the join got.
  function solving(p) {
    if (p.state === "solving") {
      if (p.tried === 0) say(t("say.checking"));
      const pct = Math.min(99, Math.floor((100 * p.tried) / p.expected)); // a solve can take longer than average
      if (pct === S.solving) return;
      S.solving = pct;
    } else {
      S.solving = null;
      if (p.by) S.powBy = p.by === "worker" ? "worker" : "page";
    }
    render();
  }

  // failed: an error the server answered (a message, a refused request), or
  // the proof of work the browser could not do.
  function failed(err) {
    const code = String(err.code);
    showError(code);
    if (code === "sale_not_found") S.fatal = "sale_not_found";
    if ((code === "busy" || code === "rate_limited" || code === "unavailable") && S.phase === "joining") {
      // The node asked us to wait: join again then, with jitter.
      S.phase = "idle";
      const wait = (err.retryAfter || 1) * 1000 + Math.random() * 1000;
      S.notice = { key: "notice.busy", params: { seconds: Math.ceil(wait / 1000) } };
      setTimeout(join, wait);
    }
    const queued = S.phase === "waiting" || S.phase === "prequeued" || S.phase === "joining";
    if (code === "not_joined" && queued) S.phase = "idle";
    // An operator's rule took this shopper, flagged as automated, out of the queue.
    if (code === "flagged" && queued) S.phase = "idle";
    if ((code === "sold_out" || code === "sale_ended" || code === "too_early" || code.startsWith("pow_")) && S.phase === "joining") S.phase = "idle";
    render();
  }

  window.addEventListener("online", () => client && client.reconnectNow());

  // FoyerPow tells where the page's last proof of work was solved ("worker",
  // or "page" where no worker could run): for support, and the browser tests.
  globalThis.FoyerPow = Object.freeze({ solvedBy: () => S.powBy });

  function resetPlace() {
    S.phase = "idle";
    S.position = S.ahead = S.firstPosition = 0;
    S.reservation = null;
  }

  // ---- messages ----

  // planOf keeps the fields of a plan push that a page shows, so a push can
  // never overwrite the sale's stock or state.
  function planOf(p) {
    const keep = ["name", "price_cents", "currency", "starts_at", "ends_at", "prequeue_at", "per_shopper_limit"];
    const out = {};
    for (const k of keep) if (k in p) out[k] = p[k];
    out.list_price_cents = p.list_price_cents; // absent: the discount was taken off
    return out;
  }

  function handle(m) {
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
        S.phase = "waiting";
        S.position = m.position;
        S.ahead = m.ahead;
        S.waiting = m.waiting;
        S.eta = m.eta || null;
        S.firstPosition = Math.max(S.firstPosition, m.position);
        announcePosition();
        break;
      case "stock":
        if (S.sale) S.sale.stock = { total: m.total, left: m.left, held: m.held, sold: m.sold };
        S.allHeld = !!m.all_held;
        break;
      case "state": {
        const was = S.sale ? S.sale.state : "";
        // A state push that changes nothing and carries no draw is an
        // operator's message; with no text (or an empty one) it clears it.
        const isMessage = "message" in m || (m.state === was && !m.seed && !m.seed_hash);
        if (S.sale) S.sale.state = m.state;
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

  function holdExpired() {
    S.phase = "idle";
    S.reservation = null;
    S.notice = { key: "notice.holdExpired" };
    say(t(S.notice.key));
  }

  // ---- actions ----

  function join() {
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

  function leave() {
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
  function forwarded(id) {
    try { return localStorage.getItem(FORWARDED_KEY) === id; } catch { return false; }
  }

  // toShop sends the browser to the shop's checkout page, which carries the
  // token: a navigation, never a POST (the shop's page is on its own origin,
  // and Foyer's checkout refuses a shop sale's token). The hold stays while
  // the shopper is away.
  function toShop(r) {
    try { localStorage.setItem(FORWARDED_KEY, r.id); } catch { /* sent on anyway */ }
    location.assign(r.url);
  }

  async function buy() {
    const r = S.reservation;
    if (!r || S.phase !== "admitted") return;
    if (r.shop) {
      toShop(r);
      return;
    }
    clearError();
    S.phase = "buying";
    render();
    let err = null;
    try {
      // Keyed by the reservation: a second try of the same hold is answered
      // as the first, never confirmed twice (docs/protocol.md, "3. Checkout").
      await client.checkout(r.admitted, { idempotencyKey: r.id });
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
    showError(err.code);
    if (S.phase !== "buying") { render(); return; }
    if (err.code === "reservation_expired" || err.code === "token_expired" || err.code === "reservation_unknown") {
      holdExpired();
    } else {
      S.phase = "admitted";
    }
    render();
  }

  // ---- drawing ----

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

  function render() {
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
    foyerPrice.render(el.price, sale && !fatal ? sale : null, FoyerI18n.locale());
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
    el.buy.setAttribute("aria-disabled", p !== "admitted");
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
    const quantity = 1; // Foyer's checkout of the page buys the one unit held
    setText(el.receiptItem, sale.name);
    setText(el.receiptQuantity, count(quantity));
    setText(el.receiptAmount, formatPrice(sale.price_cents * quantity, sale.currency));
    setText(el.receiptOrder, S.orderId ? `#${S.orderId}` : t("receipt.writing"));
    setText(el.receiptReservation, S.reservation ? S.reservation.id : "");
  }

  // HOLD_WARNINGS are the seconds left at which the shopper is told, aloud
  // too, that the hold is running out: a red clock alone is not enough.
  const HOLD_WARNINGS = [60, 15];

  // tick redraws the clocks from the synced time; it runs every 250 ms.
  function tick() {
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

  // ---- start ----

  let lastFocused = null; // the last of our buttons to have focus, while it still counts
  document.addEventListener("focusin", (e) => {
    lastFocused = e.target instanceof HTMLButtonElement ? e.target : null;
  });
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
})();
