// The listing of sales (/sales): what is live, coming up and lately ended,
// for shoppers who arrive without a sale's link. It polls GET /v1/sales,
// which every node answers from a copy at most two seconds old
// (docs/listing.md): gently, every 15 to 25 seconds with jitter, so a crowd
// on this page spreads its requests out. The waiting room itself is the
// shopper page (/?sale=ID), which is pushed its state over a WebSocket.
(function () {
  "use strict";

  // POLL_MS and POLL_JITTER_MS: the next refresh comes POLL_MS plus up to
  // POLL_JITTER_MS after the last one.
  const POLL_MS = 15000;
  const POLL_JITTER_MS = 10000;
  // START_RECHECK_MS: once an upcoming sale's countdown runs out, the list
  // is read again within this (jittered): the sale opens at the admitter's
  // next tick, and every tab must not ask in the same second.
  const START_RECHECK_MS = 4000;

  const $ = (id) => document.getElementById(id);
  const lists = { live: $("live-list"), upcoming: $("upcoming-list"), ended: $("ended-list") };
  const empties = { live: $("live-empty"), upcoming: $("upcoming-empty"), ended: $("ended-empty") };
  const status = $("listing-status");
  const announce = $("announce");

  // offsetMs is the server's clock minus this device's, from the Date
  // header of the last answer (whole seconds: its middle is the guess), so
  // countdowns end when the sale opens, not when this device thinks so.
  let offsetMs = 0;
  const serverNow = () => Date.now() + offsetMs;

  let timer = 0;
  let known = null; // sale id -> its last state, to announce changes
  let sales = [];

  const phaseText = {
    scheduled: "Coming up", prequeue: "Prequeue open", open: "Open", paused: "Paused",
    sold_out: "Sold out", ended: "Ended",
  };

  function price(sale) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: sale.currency })
        .format(sale.price_cents / 100);
    } catch (e) {
      return (sale.price_cents / 100).toFixed(2) + " " + sale.currency;
    }
  }

  const when = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });

  // left says how long until t, as "2 d 03:04:05" or "04:05".
  function left(t) {
    let s = Math.max(0, Math.ceil((t - serverNow()) / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const two = (n) => String(n).padStart(2, "0");
    const clock = (h > 0 || d > 0 ? two(h) + ":" : "") + two(m) + ":" + two(s);
    return (d > 0 ? d + " d " : "") + clock;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function timeEl(prefix, iso) {
    const p = el("p", "muted");
    p.append(prefix + " ");
    const t = el("time", "", when.format(new Date(iso)));
    t.dateTime = iso;
    p.append(t);
    return p;
  }

  function joinLink(sale, text) {
    const a = el("a", "join-link", text);
    a.href = "/?sale=" + encodeURIComponent(sale.id);
    a.append(el("span", "visually-hidden", ": " + sale.name));
    return a;
  }

  function item(sale) {
    const li = el("li", "sale-item");
    li.dataset.sale = sale.id;
    li.dataset.state = sale.state;
    const head = el("div", "sale-head");
    head.append(el("h3", "sale-name", sale.name));
    const pill = el("span", "sale-phase", phaseText[sale.phase] || sale.phase);
    pill.dataset.phase = sale.phase;
    head.append(pill);
    li.append(head);
    li.append(el("p", "sale-price", price(sale)));
    if (sale.state === "upcoming") {
      const c = el("p", "sale-countdown");
      c.dataset.startsAt = String(Date.parse(sale.starts_at));
      li.append(c);
      li.append(timeEl("Starts", sale.starts_at));
      if (sale.phase === "prequeue") {
        li.append(el("p", "hint", "Join now: everyone in the prequeue gets a place by a fair draw at the start."));
        li.append(joinLink(sale, "Join the prequeue"));
      } else {
        li.append(timeEl("Prequeue opens", sale.prequeue_at));
      }
    } else if (sale.state === "live") {
      if (sale.stock_left !== null) li.append(el("p", "muted", sale.stock_left + " left"));
      li.append(timeEl("Ends", sale.ends_at));
      li.append(joinLink(sale, sale.phase === "paused" ? "Join the queue (paused)" : "Join the queue"));
    } else if (Date.parse(sale.ends_at) <= serverNow()) {
      li.append(timeEl("Ended", sale.ends_at));
    } else {
      // Sold out or stopped before its planned end, which is still to come.
      li.append(timeEl("Ended early; it started", sale.starts_at));
    }
    return li;
  }

  function draw() {
    for (const state of Object.keys(lists)) {
      const mine = sales.filter((s) => s.state === state);
      lists[state].replaceChildren(...mine.map(item));
      lists[state].hidden = mine.length === 0;
      empties[state].hidden = mine.length > 0;
    }
    tick();
  }

  // tick moves every countdown on, and reads the list again soon after one
  // runs out.
  let recheck = false;
  function tick() {
    for (const c of document.querySelectorAll(".sale-countdown")) {
      const t = Number(c.dataset.startsAt);
      if (t > serverNow()) {
        c.textContent = "Starts in " + left(t);
      } else {
        c.textContent = "Starting now…";
        if (!recheck) {
          recheck = true;
          schedule(1000 + Math.random() * START_RECHECK_MS);
        }
      }
    }
  }

  // announceChanges tells screen readers which sales changed state since the
  // last read (not on the first: the page itself says that).
  function announceChanges() {
    const now = new Map(sales.map((s) => [s.id, s.state]));
    if (known) {
      const changed = sales.filter((s) => known.has(s.id) && known.get(s.id) !== s.state);
      if (changed.length) {
        announce.textContent = changed.map((s) =>
          s.state === "live" ? s.name + " is live: you can join the queue." : s.name + ": " + (phaseText[s.phase] || s.phase) + ".",
        ).join(" ");
      }
    }
    known = now;
  }

  function syncClock(resp, sentAt) {
    const date = Date.parse(resp.headers.get("Date") || "");
    if (Number.isNaN(date)) return;
    const age = Number(resp.headers.get("Age") || 0) * 1000;
    offsetMs = date + age + 500 - (sentAt + Date.now()) / 2;
  }

  async function refresh() {
    recheck = false;
    const sentAt = Date.now();
    try {
      const resp = await fetch("/v1/sales", { headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error("status " + resp.status);
      syncClock(resp, sentAt);
      const body = await resp.json();
      sales = body.sales;
      announceChanges();
      draw();
      status.textContent = "";
      status.dataset.kind = "";
    } catch (e) {
      status.textContent = "The list could not be updated just now; trying again shortly.";
      status.dataset.kind = "error";
    }
    schedule(POLL_MS + Math.random() * POLL_JITTER_MS);
  }

  function schedule(ms) {
    clearTimeout(timer);
    // A hidden tab does not poll; it reads the list when seen again.
    if (document.hidden) return;
    timer = setTimeout(refresh, ms);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) schedule(Math.random() * 1000);
  });
  setInterval(tick, 1000);
  refresh();
})();
