// Foyer operators' dashboard. The admin REST API does the actions; the
// numbers come pushed every second over the foyer.admin.v1 WebSocket. Plain
// ES2020, no build step; charts by the vendored uPlot (vendor/).
"use strict";

(() => {
  const TOKEN_KEY = "foyer.admin";
  const SELECTED_KEY = "foyer.admin.sale";
  const WINDOW_S = 300; // the charts show the last 5 minutes
  const STALE_MS = 5000; // no push for this long: the live numbers are not live any more
  const SILENT_LIMIT = 6000; // an open socket this quiet is dead (the server pushes every second)
  const AUDIT_EVERY = 10000;
  const FLAGS_EVERY = 5000; // reading the flags goes over every flagged shopper in Redis: not every push
  const STATE_LABEL = {
    scheduled: "scheduled", prequeue: "prequeue", open: "open", paused: "paused", sold_out: "sold out", ended: "ended",
  };
  const FUNNEL = ["joined", "admitted", "checked_out", "paid"];
  const BLOCK_KIND = { ip: "IP", net: "network", shopper: "shopper" };
  const BLOCK_EXAMPLE = { ip: "203.0.113.7", net: "203.0.113.0/24", shopper: "v_…" };
  const POLICY_LABEL = { allow: "Allow: record only", back: "Send to the back", remove: "Remove" };
  const SIGNAL_LABEL = {
    early_join: "joined at the very start", fast_checkout: "checked out implausibly fast",
    many_identities: "many identities from one address",
  };
  const COLORS = {
    accent: "#1f4fd1", accent2: "#3a66de", ok: "#1a7f43", warn: "#b07800", sold: "#4a505c", bad: "#b3261e",
    muted: "#555c69", grid: "#eceef2", tick: "#d9dce3", purple: "#7b3fb3",
  };

  const $ = (id) => document.getElementById(id);

  // ---- state ----

  const S = {
    token: "",
    gen: 0, // bumped at sign-out: answers to an earlier session's requests are dropped
    plans: [], // GET /v1/admin/sales, newest start first
    byId: new Map(), // id -> plan
    view: new Map(), // id -> latest known live numbers (push shape), with _src "live"|"rest" and _at (local ms)
    history: new Map(), // id -> rolling window for the charts
    selected: "",
    nodes: null,
    pipeline: null,
    conn: "offline", // connecting | live | reconnecting | offline
    offset: 0, // server clock minus local clock, ms (from the pushes)
    audit: [],
    auditMax: 0, // newest audit id seen, to highlight what is new
    blocks: [], // GET /v1/admin/blocklist, newest first
    flags: null, // GET /v1/admin/sales/:sale/flags of the selected sale, with its id as sale
  };

  // ---- small helpers ----

  const nf = new Intl.NumberFormat();
  const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
  const count = (n) => (typeof n === "number" && Number.isFinite(n) ? nf.format(n) : "–");
  const rate = (x) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : 1) : "–");
  const serverNow = () => Date.now() + S.offset;

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }
  function setNum(node, n) {
    setText(node, count(n));
    if (node) node.dataset.value = typeof n === "number" ? String(n) : "";
  }

  function minorDigits(currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      return 2;
    }
  }
  function formatPrice(cents, currency) {
    try {
      const fmt = new Intl.NumberFormat(undefined, { style: "currency", currency });
      return fmt.format(cents / 10 ** fmt.resolvedOptions().maximumFractionDigits);
    } catch {
      return `${(cents / 100).toFixed(2)} ${currency || ""}`.trim();
    }
  }
  function formatWhen(iso, withSeconds) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return "–";
    const today = new Date().toDateString() === d.toDateString();
    const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...(withSeconds ? { second: "2-digit" } : {}) });
    return today ? time : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
  }
  const pad = (n) => String(n).padStart(2, "0");
  // localInput formats a moment for a datetime-local input, in local time.
  function localInput(d) {
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  // rfc3339 turns a datetime-local value (local time) into RFC 3339 in UTC.
  function rfc3339(d) {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  // announce tells screen-reader users what an action did.
  let announceTimer = 0;
  function announce(text) {
    const node = $("announce");
    clearTimeout(announceTimer);
    node.textContent = "";
    // A fresh text node each time, so the same words are announced again.
    announceTimer = setTimeout(() => { node.textContent = text; }, 50);
  }

  // ---- errors ----

  class ApiError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status || 0;
      this.handled = false;
    }
  }

  function showError(code, message) {
    const box = $("error");
    box.replaceChildren();
    const c = document.createElement("code");
    c.textContent = code;
    box.append(c, " — ");
    const msg = String(message || "something went wrong");
    // An invalid sale lists every problem, separated by semicolons: one per line.
    const colon = msg.indexOf(": ");
    const rest = colon >= 0 ? msg.slice(colon + 2) : msg;
    if (rest.includes("; ")) {
      box.append(`${msg.slice(0, colon + 1)} `);
      const ul = document.createElement("ul");
      for (const p of rest.split("; ")) {
        const li = document.createElement("li");
        li.textContent = p;
        ul.append(li);
      }
      box.append(ul);
    } else {
      box.append(msg);
    }
    $("alert").hidden = false;
  }
  function clearError() {
    $("alert").hidden = true;
    $("error").replaceChildren();
  }
  // report shows a failed request, unless it was already dealt with (401).
  function report(err, what) {
    if (!err || err.handled) return;
    const code = err.code || "error";
    const message = err.message || String(err);
    showError(code, message);
    if (what) announce(`${what} failed: ${code}. ${message}`);
  }

  async function errorOf(res) {
    try {
      const body = await res.json();
      if (body && body.error && body.error.code) return new ApiError(body.error.code, body.error.message || "", res.status);
    } catch { /* not JSON */ }
    return new ApiError(`http_${res.status}`, res.statusText || "request failed", res.status);
  }

  // api calls the admin API with the token. A 401 signs out.
  async function api(method, path, body) {
    const gen = S.gen;
    const headers = { Authorization: `Bearer ${S.token}`, Accept: "application/json" };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError("network", `could not reach the server (${e.message || e})`);
    }
    if (gen !== S.gen) { // signed out meanwhile
      const stale = new ApiError("signed_out", "signed out");
      stale.handled = true;
      throw stale;
    }
    if (!res.ok) {
      const err = await errorOf(res);
      if (res.status === 401) {
        signOut("The admin token was refused. Sign in again.", err);
        err.handled = true;
      }
      throw err;
    }
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  // ---- sign in and out ----

  function showSignin(message) {
    $("dashboard").hidden = true;
    $("live").hidden = true;
    $("signout").hidden = true;
    $("signin-view").hidden = false;
    setText($("signin-message"), message || "");
    $("token").setAttribute("aria-invalid", message ? "true" : "false");
    $("token").value = "";
    $("token").focus();
  }

  function signOut(message, err) {
    S.gen++;
    S.token = "";
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* ignore */ }
    stopLive();
    clearInterval(auditTimer);
    auditTimer = 0;
    S.plans = [];
    S.byId.clear();
    S.view.clear();
    S.history.clear();
    S.nodes = null;
    S.pipeline = null;
    S.audit = [];
    S.auditMax = 0;
    S.blocks = [];
    S.flags = null;
    salesKey = "";
    blocksKey = "";
    flagsKey = "";
    policyShown = "";
    $("sales").replaceChildren();
    $("audit").replaceChildren();
    $("blocklist").replaceChildren();
    $("flags").replaceChildren();
    blockMessage("");
    if (err) showError(err.code, err.message); else clearError();
    showSignin(message);
    announce(message || "Signed out.");
  }

  async function enter(token, fromForm) {
    S.token = token;
    $("signin-view").hidden = true;
    $("dashboard").hidden = false;
    $("live").hidden = false;
    $("signout").hidden = false;
    if (fromForm) clearError();
    try {
      await loadSales();
    } catch (e) {
      report(e);
      if (e.handled) return; // 401: back at the sign-in form
    }
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* this page only */ }
    if (fromForm) {
      announce("Signed in.");
      // Keyboard users land on the list of sales, not on a hidden form.
      const current = S.selected && $(`sale-${S.selected}`);
      (current || $("main")).focus();
    }
    connectLive();
    loadPipeline().catch(report);
    loadAudit().catch(report);
    loadBlocklist().catch(report);
    refreshFlags();
    clearInterval(auditTimer);
    auditTimer = setInterval(periodic, AUDIT_EVERY);
  }

  $("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = $("token").value.trim();
    if (!token) {
      setText($("signin-message"), "Enter the admin token.");
      $("token").setAttribute("aria-invalid", "true");
      $("token").focus();
      return;
    }
    const btn = $("signin-submit");
    btn.disabled = true;
    setText($("signin-message"), "");
    try {
      await enter(token, true);
    } finally {
      btn.disabled = false;
    }
  });

  $("signout").addEventListener("click", () => signOut("Signed out."));
  $("error-close").addEventListener("click", () => {
    clearError();
    const main = $("main");
    main.focus();
  });

  // ---- loading ----

  let salesKey = "";
  async function loadSales() {
    const body = await api("GET", "/v1/admin/sales");
    const plans = (body && body.sales) || [];
    plans.sort((a, b) => Date.parse(b.starts_at) - Date.parse(a.starts_at) || String(a.id).localeCompare(b.id));
    S.plans = plans;
    S.byId = new Map(plans.map((p) => [p.id, p]));
    if (!S.byId.has(S.selected)) {
      let want = "";
      try { want = sessionStorage.getItem(SELECTED_KEY) || ""; } catch { /* ignore */ }
      if (!S.byId.has(want)) {
        const live = plans.find((p) => { const v = S.view.get(p.id); return v && v.state !== "ended"; });
        want = (live || plans.find((p) => Date.parse(p.ends_at) > Date.now()) || plans[0] || {}).id || "";
      }
      S.selected = want;
    }
    renderSales();
    renderDetail();
    // Without the live feed the list has no states yet: ask each sale once.
    if (S.conn !== "live") {
      const missing = plans.filter((p) => !S.view.has(p.id)).slice(0, 30);
      await Promise.all(missing.map((p) => loadSaleView(p.id).catch(() => {})));
    }
  }

  let salesReload = 0;
  // reloadSalesSoon fetches the list again, at most every few seconds.
  function reloadSalesSoon() {
    if (salesReload) return;
    salesReload = setTimeout(() => {
      loadSales().catch(report).finally(() => { setTimeout(() => { salesReload = 0; }, 5000); });
    }, 0);
  }

  // loadSaleView asks for one sale's state over REST: used when there is no
  // live feed, and right after an action.
  async function loadSaleView(id) {
    const body = await api("GET", `/v1/admin/sales/${encodeURIComponent(id)}`);
    if (!body || !body.live) return;
    if (body.plan) S.byId.set(id, Object.assign(S.byId.get(id) || {}, body.plan));
    const prev = S.view.get(id);
    if (prev && prev._src === "live" && Date.now() - prev._at < 3000) {
      // The live feed is fresher, except for a state an action just changed.
      prev.state = body.live.state;
    } else {
      S.view.set(id, {
        ...(prev || {}),
        id, name: body.live.name, state: body.live.state, stock: body.live.stock, waiting: body.live.waiting,
        _src: "rest", _at: Date.now(),
      });
    }
    renderSales();
    if (id === S.selected) renderDetail();
  }

  async function loadPipeline() {
    const body = await api("GET", "/v1/admin/pipeline");
    if (body && S.conn !== "live") {
      S.pipeline = body;
      renderSystem();
    }
  }

  async function loadAudit() {
    const body = await api("GET", "/v1/admin/audit");
    S.audit = (body && body.entries) || [];
    renderAudit();
  }

  function periodic() {
    loadAudit().catch(report);
    loadBlocklist().catch(report); // another operator may have changed it
    if (S.conn !== "live") {
      loadPipeline().catch(report);
      if (S.selected) loadSaleView(S.selected).catch(report);
      refreshFlags();
    }
  }
  let auditTimer = 0;

  // ---- live feed ----

  let ws = null, attempt = 0, retryTimer = 0, lastPush = 0;

  function setConn(status) {
    S.conn = status;
    const node = $("live");
    node.dataset.status = status;
    setText(node, { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", offline: "Offline" }[status]);
    node.title = status === "live" ? "Numbers pushed every second" : "Live numbers unavailable; retrying";
  }

  // tokenProtocol is the subprotocol that carries the admin token to the
  // live feed: "bearer." and the token's UTF-8 bytes in base64url, unpadded.
  function tokenProtocol(token) {
    let bin = "";
    for (const b of new TextEncoder().encode(token)) bin += String.fromCharCode(b);
    return "bearer." + btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function connectLive() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (!S.token) return;
    const proto = location.protocol === "https:" ? "wss" : "ws";
    let sock;
    try {
      // The token rides as a second subprotocol, never in the URL, where
      // proxies would log it; the server answers with foyer.admin.v1 alone.
      sock = new WebSocket(`${proto}://${location.host}/v1/admin/live`, ["foyer.admin.v1", tokenProtocol(S.token)]);
    } catch {
      scheduleReconnect();
      return;
    }
    ws = sock;
    lastPush = Date.now();
    if (S.conn !== "reconnecting") setConn("connecting");
    sock.onopen = () => { if (ws === sock) lastPush = Date.now(); };
    sock.onmessage = (e) => {
      if (ws !== sock) return;
      lastPush = Date.now();
      let m;
      try { m = JSON.parse(e.data); } catch { return; }
      if (m && m.type === "stats") {
        attempt = 0;
        if (S.conn !== "live") {
          setConn("live");
        }
        onStats(m);
      }
    };
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null;
      if (e.code === 4001) {
        signOut("The live feed refused the admin token. Sign in again.",
          new ApiError("unauthorized", e.reason || "the admin token was refused (4001)"));
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (!S.token) return;
    setConn("reconnecting");
    attempt++;
    const max = Math.min(30000, 1000 * 2 ** Math.min(attempt - 1, 5));
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connectLive, max / 2 + Math.random() * max / 2);
  }

  function stopLive() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    attempt = 0;
    const sock = ws;
    ws = null;
    if (sock) {
      try { sock.close(1000, "signed out"); } catch { /* ignore */ }
    }
    setConn("offline");
  }

  // The watchdog: an open socket that says nothing is dead.
  setInterval(() => {
    if (!S.token) return;
    if (ws && Date.now() - lastPush > SILENT_LIMIT) {
      const sock = ws;
      ws = null;
      try { sock.close(); } catch { /* ignore */ }
      scheduleReconnect();
    }
    tick();
  }, 1000);

  function onStats(m) {
    const at = typeof m.at === "number" ? m.at : Date.now();
    S.offset = at - Date.now();
    const now = Date.now();
    let unknown = false;
    for (const sale of m.sales || []) {
      if (!sale || !sale.id) continue;
      S.view.set(sale.id, { ...sale, _src: "live", _at: now });
      record(sale, at);
      if (!S.byId.has(sale.id)) unknown = true;
    }
    if (m.nodes) S.nodes = m.nodes;
    if (m.pipeline) S.pipeline = m.pipeline;
    renderWarnings(m.warnings || []);
    if (unknown) reloadSalesSoon();
    renderSales();
    renderDetail();
    renderSystem();
    drawCharts();
    refreshFlags();
  }

  // renderWarnings shows what the node knows is wrong with the setup (a
  // Redis that could lose checkouts) in a banner above everything, made on
  // first need and hidden when the pushes carry no warning.
  function renderWarnings(warnings) {
    let banner = $("setup-warnings");
    if (!banner && !warnings.length) return;
    if (!banner) {
      banner = document.createElement("p");
      banner.id = "setup-warnings";
      banner.className = "notice";
      banner.setAttribute("role", "alert");
      $("main").prepend(banner);
    }
    banner.textContent = warnings.join(" ");
    banner.hidden = !warnings.length;
  }

  // record keeps a sale's rolling window of pushes for the charts.
  function record(sale, at) {
    let h = S.history.get(sale.id);
    if (!h) {
      h = { t: [], waiting: [], joins: [], admissions: [], orders: [], left: [], held: [], sold: [] };
      S.history.set(sale.id, h);
    }
    const t = at / 1000;
    const last = h.t.length ? h.t[h.t.length - 1] : null;
    if (last !== null && t <= last) return; // a repeat
    if (last !== null && t - last > 3.5) {
      // A gap in the feed: break the lines instead of drawing across it.
      h.t.push(last + 1);
      for (const k of ["waiting", "joins", "admissions", "orders", "left", "held", "sold"]) h[k].push(null);
    }
    const st = sale.stock || {};
    h.t.push(t);
    h.waiting.push(num(sale.waiting));
    h.joins.push(num(sale.joins_per_second));
    h.admissions.push(num(sale.admissions_per_second));
    h.orders.push(num(sale.orders_per_second));
    h.left.push(num(st.left));
    h.held.push(num(st.held));
    h.sold.push(num(st.sold));
    const cutoff = t - WINDOW_S - 5;
    let drop = 0;
    while (drop < h.t.length && h.t[drop] < cutoff) drop++;
    if (drop) for (const k of Object.keys(h)) h[k].splice(0, drop);
  }
  const num = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);

  function tick() {
    // Live numbers that stopped coming are marked stale; the charts keep scrolling.
    if (S.selected) {
      const v = S.view.get(S.selected);
      $("detail-stale").hidden = !!(v && v._src === "live" && Date.now() - v._at < STALE_MS);
      if (S.conn !== "live" && Date.now() - lastDraw > 1500) drawCharts();
    }
  }

  // ---- rendering: sales list ----

  function stateOf(id) {
    const v = S.view.get(id);
    return v && v.state ? v.state : "";
  }

  function renderSales() {
    const list = $("sales");
    const key = S.plans.map((p) => p.id).join(",");
    $("sales-empty").hidden = S.plans.length > 0;
    if (key !== salesKey) {
      const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".sale") : null;
      const focusId = focused ? focused.id : "";
      salesKey = key;
      list.replaceChildren(...S.plans.map((p) => {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "sale";
        b.id = `sale-${p.id}`;
        b.dataset.id = p.id;
        const name = document.createElement("span");
        name.className = "sale-name";
        const badge = document.createElement("span");
        badge.className = "badge";
        const meta = document.createElement("span");
        meta.className = "sale-meta";
        b.append(name, badge, meta);
        li.append(b);
        return li;
      }));
      if (focusId && $(focusId)) $(focusId).focus();
    }
    for (const p of S.plans) {
      const b = $(`sale-${p.id}`);
      if (!b) continue;
      const v = S.view.get(p.id);
      const state = v && v.state ? v.state : "";
      setText(b.children[0], p.name || p.sku || p.id);
      b.children[0].title = p.name || "";
      const badge = b.children[1];
      badge.dataset.state = state;
      setText(badge, state ? STATE_LABEL[state] || state : "…");
      const bits = [];
      if (v && v.stock) bits.push(`${count(v.stock.left)} of ${count(v.stock.total)} left`);
      else bits.push(`${count(p.stock)} units`);
      if (v && typeof v.waiting === "number") bits.push(`${count(v.waiting)} waiting`);
      bits.push(`starts ${formatWhen(p.starts_at)}`);
      setText(b.children[2], bits.join(" · "));
      b.setAttribute("aria-current", p.id === S.selected ? "true" : "false");
      b.setAttribute("aria-label", `${p.name || p.id}, ${state ? STATE_LABEL[state] || state : "state unknown"}, ${bits.join(", ")}`);
    }
  }

  $("sales").addEventListener("click", (e) => {
    const b = e.target.closest(".sale");
    if (b) select(b.dataset.id);
  });
  // Up and down arrows move through the list.
  $("sales").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const items = [...$("sales").querySelectorAll(".sale")];
    const i = items.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    const next = items[Math.max(0, Math.min(items.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)))];
    next.focus();
  });
  $("sales-refresh").addEventListener("click", () => {
    loadSales().then(() => announce("Sales refreshed.")).catch((e) => report(e, "Refresh"));
  });

  function select(id, quiet) {
    if (!S.byId.has(id)) return;
    const changed = id !== S.selected;
    S.selected = id;
    try { sessionStorage.setItem(SELECTED_KEY, id); } catch { /* ignore */ }
    renderSales();
    renderDetail();
    if (changed) {
      drawCharts();
      if ($("audit-only").checked) renderAudit();
      const p = S.byId.get(id);
      if (!quiet) announce(`Selected ${p.name || id}.`);
    }
    const v = S.view.get(id);
    if (!v || v._src !== "live") loadSaleView(id).catch(report);
    refreshFlags();
  }

  // ---- rendering: detail ----

  let shownId = "";
  function renderDetail() {
    const id = S.selected;
    const p = S.byId.get(id);
    $("detail-empty").hidden = !!p;
    $("detail-body").hidden = !p;
    if (!p) return;
    const v = S.view.get(id) || null;

    setText($("detail-title"), p.name || id);
    const sub = [p.sku, formatPrice(p.price_cents, p.currency),
      `${formatWhen(p.starts_at)} – ${formatWhen(p.ends_at)}`,
      `hold ${p.reservation_ttl_seconds}s`, `limit ${p.per_shopper_limit}`, id];
    setText($("detail-sub"), sub.filter(Boolean).join(" · "));

    const state = v && v.state ? v.state : "";
    const badge = $("stat-state");
    badge.dataset.state = state;
    setText(badge, state ? STATE_LABEL[state] || state : "unknown");
    $("pause").classList.toggle("suggested", state === "open");
    $("resume").classList.toggle("suggested", state === "paused");

    const st = (v && v.stock) || null;
    setNum($("stat-waiting"), v ? v.waiting : undefined);
    setNum($("stat-left"), st ? st.left : undefined);
    setNum($("stat-total"), st ? st.total : p.stock);
    setNum($("stat-held"), st ? st.held : undefined);
    setNum($("stat-sold"), st ? st.sold : undefined);
    setNum($("stat-orders"), v ? v.orders : undefined);
    const total = st && st.total > 0 ? st.total : 0;
    for (const k of ["sold", "held", "left"]) {
      $(`bar-${k}`).style.width = total ? `${Math.max(0, Math.min(100, (st[k] / total) * 100))}%` : "0";
    }

    setText($("stat-joins"), rate(v && v.joins_per_second));
    setText($("stat-admissions"), rate(v && v.admissions_per_second));
    setText($("stat-orders-rate"), rate(v && v.orders_per_second));
    setText($("stat-outflow"), `${rate(p.outflow_per_second)}/s`);
    setText($("pow-now"), p.pow_difficulty ? String(p.pow_difficulty) : "off");

    const f = (v && v.funnel) || null;
    const top = f && f.joined > 0 ? f.joined : 0;
    for (const k of FUNNEL) {
      const n = f ? f[k] : undefined;
      const node = $(`f-${k}`);
      node.replaceChildren(count(n));
      node.dataset.value = typeof n === "number" ? String(n) : "";
      if (top && k !== "joined" && typeof n === "number") {
        const small = document.createElement("small");
        small.textContent = `${Math.round((n / top) * 100)}%`;
        node.append(small);
      }
      $(`fb-${k}`).style.width = top && typeof n === "number" ? `${Math.min(100, (n / top) * 100)}%` : "0";
    }

    $("detail-stale").hidden = !!(v && v._src === "live" && Date.now() - v._at < STALE_MS);

    if (shownId !== id) { // another sale: its own inputs
      shownId = id;
      $("action-result").hidden = true;
      $("rate").value = p.outflow_per_second != null ? String(p.outflow_per_second) : "";
      $("stock-add-n").value = "";
      $("pow").value = String(p.pow_difficulty || 0);
      $("message").value = "";
      updateMessageCount();
      flagResult("");
      renderFlags();
    }
  }

  // ---- rendering: nodes and pipeline ----

  function renderSystem() {
    const pl = S.pipeline;
    setNum($("pipe-orders"), pl ? pl.orders_backlog : undefined);
    setNum($("pipe-payments"), pl ? pl.payments_backlog : undefined);
    const poison = $("poison");
    setNum(poison, pl ? pl.poison_messages : undefined);
    poison.dataset.bad = pl && pl.poison_messages > 0 ? "true" : "false";
    poison.title = pl && pl.poison_messages > 0 ? "Messages the order workers could not process: look at the dead-letter stream" : "";

    const list = $("nodes");
    if (!S.nodes) return;
    if (!S.nodes.length) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = "No gateway nodes reported.";
      list.replaceChildren(li);
      return;
    }
    const nodes = [...S.nodes].sort((a, b) => String(a.id).localeCompare(b.id));
    const most = Math.max(1, ...nodes.map((n) => n.connections || 0));
    const sum = nodes.reduce((a, n) => a + (n.connections || 0), 0);
    const items = nodes.map((n) => {
      const li = document.createElement("li");
      li.className = "node";
      const id = document.createElement("span");
      id.className = "node-id";
      id.textContent = n.id;
      id.title = n.id;
      const bar = document.createElement("span");
      bar.className = "node-bar";
      bar.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.style.width = `${((n.connections || 0) / most) * 100}%`;
      bar.append(fill);
      const c = document.createElement("span");
      c.className = "node-num";
      c.textContent = count(n.connections || 0);
      c.setAttribute("aria-label", `${count(n.connections || 0)} connections`);
      li.append(id, bar, c);
      return li;
    });
    const totalLi = document.createElement("li");
    totalLi.className = "node-total";
    totalLi.textContent = `${count(sum)} connections on ${nodes.length} node${nodes.length === 1 ? "" : "s"}`;
    list.replaceChildren(...items, totalLi);
  }

  // ---- charts ----

  const charts = {}; // name -> uPlot
  let lastDraw = 0;

  function makeChart(box, series, yRange) {
    const width = Math.max(240, box.clientWidth || 320);
    const fmt = (u, v) => (v == null ? "–" : Number.isInteger(v) ? count(v) : v.toFixed(1));
    const opts = {
      width, height: 170,
      pxAlign: 0,
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { live: true },
      scales: {
        x: { time: true, range: () => { const now = serverNow() / 1000; return [now - WINDOW_S, now]; } },
        y: { range: yRange },
      },
      axes: [
        { stroke: COLORS.muted, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.tick, width: 1 }, font: "11px system-ui, sans-serif",
          space: 52, incrs: [15, 30, 60, 120, 300, 600], values: (u, splits) => splits.map((v) => new Date(v * 1000).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })) },
        { stroke: COLORS.muted, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.tick, width: 1 }, font: "11px system-ui, sans-serif", size: 46,
          values: (u, splits) => splits.map((v) => (v == null ? "" : Math.abs(v) >= 1000 ? compact.format(v) : String(+v.toFixed(2)))) },
      ],
      series: [
        { value: (u, v) => (v == null ? "–" : new Date(v * 1000).toLocaleTimeString()) },
        ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: s.fill, points: { show: false }, value: fmt, spanGaps: false })),
      ],
    };
    const data = [[], ...series.map(() => [])];
    const u = new window.uPlot(opts, data, box);
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        const w = Math.max(240, box.clientWidth);
        if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: 170 });
      }).observe(box);
    }
    return u;
  }

  const atLeast = (floor, head) => (u, min, max) => [0, Math.max(floor, (max || 0) * head)];

  function ensureCharts() {
    if (charts.queue || !window.uPlot || $("detail-body").hidden) return !!charts.queue;
    charts.queue = makeChart($("chart-queue"), [
      { label: "Waiting", color: COLORS.accent, fill: "rgba(31,79,209,.10)" },
    ], atLeast(5, 1.15));
    charts.rates = makeChart($("chart-rates"), [
      { label: "Joins/s", color: COLORS.accent },
      { label: "Admissions/s", color: COLORS.ok },
      { label: "Orders/s", color: COLORS.purple },
    ], atLeast(1, 1.15));
    charts.stock = makeChart($("chart-stock"), [
      { label: "Left", color: COLORS.ok, fill: "rgba(26,127,67,.08)" },
      { label: "Held", color: COLORS.warn },
      { label: "Sold", color: COLORS.sold },
    ], (u, min, max) => {
      const p = S.byId.get(S.selected);
      const v = S.view.get(S.selected);
      const total = (v && v.stock && v.stock.total) || (p && p.stock) || 0;
      return [0, Math.max(1, total, max || 0)];
    });
    return true;
  }

  function drawCharts() {
    if (!ensureCharts()) {
      if (!window.uPlot) setText($("charts-empty"), "Charts are unavailable: the chart library did not load.");
      return;
    }
    lastDraw = Date.now();
    const h = S.history.get(S.selected);
    const empty = !h || h.t.length === 0;
    $("charts-empty").hidden = !empty;
    const t = h ? h.t : [];
    charts.queue.setData([t, h ? h.waiting : []]);
    charts.rates.setData([t, h ? h.joins : [], h ? h.admissions : [], h ? h.orders : []]);
    charts.stock.setData([t, h ? h.left : [], h ? h.held : [], h ? h.sold : []]);
  }

  // ---- actions ----

  const busy = new Set();

  // act runs one action on the selected sale: one at a time per button, the
  // result announced, the audit log and the sale's state fetched afterwards.
  async function act(button, what, run, done) {
    const id = S.selected;
    if (!id || busy.has(button.id)) return;
    busy.add(button.id);
    button.setAttribute("aria-disabled", "true");
    $("detail").setAttribute("aria-busy", "true");
    try {
      const result = await run(id);
      clearError();
      const said = done(result);
      announce(said);
      flash(said);
      return result;
    } catch (e) {
      report(e, what);
      return undefined;
    } finally {
      busy.delete(button.id);
      button.removeAttribute("aria-disabled");
      $("detail").setAttribute("aria-busy", "false");
      if (S.token) {
        loadAudit().catch(report);
        loadSaleView(id).catch(() => {});
      }
    }
  }

  // flash shows the last action's result for a while, for sighted users
  // (the aria-live region speaks it).
  let flashTimer = 0;
  function flash(text) {
    const node = $("action-result");
    setText(node, text);
    node.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { node.hidden = true; }, 8000);
  }

  const saleName = (id) => { const p = S.byId.get(id); return p ? p.name || id : id; };
  const path = (id, rest) => `/v1/admin/sales/${encodeURIComponent(id)}/${rest}`;

  function stateAfter(id, r) {
    if (r && r.state) {
      const v = S.view.get(id);
      if (v) v.state = r.state;
      renderSales();
      renderDetail();
    }
  }

  $("pause").addEventListener("click", (e) => act(e.currentTarget, "Pause",
    (id) => api("POST", path(id, "pause")),
    (r) => { stateAfter(S.selected, r); return `${saleName(S.selected)} is now ${STATE_LABEL[r.state] || r.state}.`; }));

  $("resume").addEventListener("click", (e) => act(e.currentTarget, "Resume",
    (id) => api("POST", path(id, "resume")),
    (r) => { stateAfter(S.selected, r); return `${saleName(S.selected)} is now ${STATE_LABEL[r.state] || r.state}.`; }));

  $("stop").addEventListener("click", (e) => {
    const button = e.currentTarget;
    if (!S.selected) return;
    const id = S.selected;
    const dlg = $("confirm");
    setText($("confirm-text"),
      `Stop “${saleName(id)}” now? The sale ends for everyone waiting and cannot be restarted.`);
    const onClose = () => {
      dlg.removeEventListener("close", onClose);
      button.focus();
      if (dlg.returnValue !== "ok" || S.selected !== id) {
        announce("Stop cancelled.");
        return;
      }
      act(button, "Stop", (sid) => api("POST", path(sid, "stop")),
        (r) => { stateAfter(id, r); return `${saleName(id)} is stopped: ${STATE_LABEL[r.state] || r.state}.`; });
    };
    dlg.returnValue = "";
    dlg.addEventListener("close", onClose);
    if (typeof dlg.showModal === "function") {
      dlg.showModal();
      $("confirm-cancel").focus();
    } else if (window.confirm($("confirm-text").textContent)) { // very old browsers
      dlg.returnValue = "ok";
      onClose();
    } else {
      onClose();
    }
  });

  function needValue(input, what) {
    if (input.value.trim() === "" || !Number.isFinite(Number(input.value))) {
      input.setAttribute("aria-invalid", "true");
      showError("invalid_input", `${what} needs a number.`);
      announce(`${what} needs a number.`);
      input.focus();
      return null;
    }
    input.removeAttribute("aria-invalid");
    return Number(input.value);
  }

  $("rate-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = needValue($("rate"), "The outflow");
    if (n === null) return;
    act($("rate-set"), "Set outflow",
      (id) => api("PUT", path(id, "rate"), { outflow_per_second: n }),
      () => {
        const p = S.byId.get(S.selected);
        if (p) p.outflow_per_second = n;
        renderDetail();
        return `Outflow of ${saleName(S.selected)} set to ${rate(n)} shoppers per second.`;
      });
  });

  $("stock-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = needValue($("stock-add-n"), "Stock to add");
    if (n === null) return;
    act($("stock-add"), "Add stock",
      (id) => api("POST", path(id, "stock"), { add: n }),
      (r) => {
        $("stock-add-n").value = "";
        const p = S.byId.get(S.selected);
        if (p) p.stock += n;
        stateAfter(S.selected, r);
        return `Added ${count(n)} units to ${saleName(S.selected)}.`;
      });
  });

  $("pow-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = needValue($("pow"), "The difficulty");
    if (n === null) return;
    act($("pow-set"), "Set proof of work",
      (id) => api("PUT", path(id, "pow"), { difficulty: n }),
      () => {
        const p = S.byId.get(S.selected);
        if (p) p.pow_difficulty = n;
        renderDetail();
        return n ? `Joining ${saleName(S.selected)} now takes proof of work of difficulty ${n}.`
          : `Proof of work for ${saleName(S.selected)} is off.`;
      });
  });

  function updateMessageCount() {
    setText($("message-count"), `${$("message").value.length} / 500`);
  }
  $("message").addEventListener("input", updateMessageCount);
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $("message-form").requestSubmit();
    }
  });

  $("message-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("message").value;
    if (!text.trim()) {
      $("message").setAttribute("aria-invalid", "true");
      showError("invalid_input", "Write a message first (1 to 500 characters).");
      announce("Write a message first.");
      $("message").focus();
      return;
    }
    $("message").removeAttribute("aria-invalid");
    act($("message-send"), "Send message",
      (id) => api("POST", path(id, "messages"), { text: text.trim() }),
      () => {
        $("message").value = "";
        updateMessageCount();
        return `Message sent to everyone waiting for ${saleName(S.selected)}.`;
      });
  });

  // ---- suspected automation ----

  let flagsAt = 0, flagsBusy = false;
  // refreshFlags fetches the selected sale's flagged shoppers: at once for a
  // sale just selected, else at most every FLAGS_EVERY.
  function refreshFlags() {
    const id = S.selected;
    if (!id || !S.token || flagsBusy) return;
    const same = S.flags && S.flags.sale === id;
    if (same && Date.now() - flagsAt < FLAGS_EVERY) return;
    flagsBusy = true;
    flagsAt = Date.now();
    loadFlags(id).catch(report).finally(() => { flagsBusy = false; });
  }

  async function loadFlags(id) {
    const body = await api("GET", path(id, "flags"));
    if (!body) return;
    S.flags = { ...body, sale: id };
    if (id === S.selected) renderFlags();
  }

  // policyApplied says what setting a policy did to those flagged so far.
  function policyApplied(r) {
    if (r.policy === "back") return `${count(r.requeued)} sent to the back`;
    if (r.policy === "remove") return `${count(r.removed)} removed`;
    return "Flags are recorded only";
  }

  const signalWords = (signals) => (signals || []).map((s) => SIGNAL_LABEL[s] || s.replace(/_/g, " ")).join(", ");

  let policyShown = ""; // sale:policy the select was last set to: a refresh leaves an operator's choice alone
  function renderFlags() {
    const f = S.flags && S.flags.sale === S.selected ? S.flags : null;
    setNum($("flag-count"), f ? f.flagged : undefined);
    setText($("flag-policy-now"), f ? POLICY_LABEL[f.policy] || f.policy : "–");
    if (f && policyShown !== `${f.sale}:${f.policy}`) {
      policyShown = `${f.sale}:${f.policy}`;
      $("flag-policy").value = f.policy;
    }
    const cut = !!(f && f.truncated);
    $("flag-truncated").hidden = !cut;
    setText($("flag-truncated"), cut ? `Showing the ${count(f.shoppers.length)} newest of ${count(f.flagged)}.` : "");
    renderFlagRows(f);
  }

  let flagsKey = ""; // what the table shows: a refresh that changes nothing leaves it alone
  function renderFlagRows(f) {
    const key = f ? JSON.stringify([f.sale, f.shoppers]) : "";
    if (key === flagsKey && key) return;
    flagsKey = key;
    const rows = f ? f.shoppers.map(flagRow) : [];
    if (!rows.length) rows.push(emptyRow(4, f ? "No shopper flagged." : "Loading…"));
    $("flags").replaceChildren(...rows);
  }

  function flagRow(x) {
    const tr = document.createElement("tr");
    tr.dataset.shopper = x.shopper;
    const cell = (text, className) => {
      const td = document.createElement("td");
      if (className) td.className = className;
      td.textContent = text;
      return td;
    };
    const first = cell("", "when");
    const time = document.createElement("time");
    time.dateTime = x.first_at;
    time.title = x.first_at;
    time.textContent = formatWhen(x.first_at, true);
    first.append(time);
    tr.append(cell(x.shopper, "value"), cell(signalWords(x.signals)), cell(x.ip || "–", "ip"), first);
    return tr;
  }

  // flagResult shows what the last Apply did, or why it failed; "" clears it.
  function flagResult(text, bad) {
    const node = $("flag-result");
    setText(node, text);
    node.dataset.bad = bad ? "true" : "false";
    node.hidden = !text;
  }

  $("flag-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = $("flag-apply");
    const id = S.selected;
    if (!id || btn.getAttribute("aria-disabled") === "true") return;
    btn.setAttribute("aria-disabled", "true");
    try {
      const r = await api("PUT", path(id, "flagged"), { policy: $("flag-policy").value });
      const said = policyApplied(r);
      if (id === S.selected) flagResult(said);
      announce(`${POLICY_LABEL[r.policy] || r.policy} for ${saleName(id)}: ${said}.`);
    } catch (err) {
      if (err.handled) return; // signed out
      if (id === S.selected) flagResult(err.message || err.code, true); // what the server says is wrong
      announce(`Apply policy failed: ${err.message || err.code}`);
    } finally {
      btn.removeAttribute("aria-disabled");
      if (S.token) {
        loadFlags(id).catch(report);
        loadAudit().catch(report);
      }
    }
  });

  // ---- new sale ----

  const NS_FIELDS = [
    ["sku", "ns-sku"], ["name", "ns-name"], ["price_cents", "ns-price"], ["currency", "ns-currency"],
    ["stock", "ns-stock"], ["ends_at", "ns-ends"], ["starts_at", "ns-starts"], ["outflow_per_second", "ns-outflow"],
    ["reservation_ttl_seconds", "ns-hold"], ["prequeue_seconds", "ns-prequeue"], ["per_shopper_limit", "ns-limit"],
  ];

  function nsDefaults() {
    const f = $("new-sale");
    f.reset(); // back to the defaults written in the page
    const start = new Date(Date.now() + 30 * 60000);
    start.setSeconds(0, 0);
    start.setMinutes(Math.ceil(start.getMinutes() / 5) * 5);
    $("ns-starts").value = localInput(start);
    for (const [, id] of NS_FIELDS) $(id).removeAttribute("aria-invalid");
  }

  const numOr = (id, dflt) => {
    const s = $(id).value.trim();
    if (s === "") return dflt;
    const n = Number(s);
    return Number.isFinite(n) ? n : dflt;
  };

  function planFromForm() {
    const currency = ($("ns-currency").value.trim() || "EUR").toUpperCase();
    const price = numOr("ns-price", 0);
    const startsVal = $("ns-starts").value;
    const starts = startsVal ? new Date(startsVal) : new Date();
    const plan = {
      sku: $("ns-sku").value.trim(),
      name: $("ns-name").value.trim(),
      price_cents: Math.round(price * 10 ** minorDigits(currency)),
      currency,
      stock: Math.trunc(numOr("ns-stock", 0)),
      starts_at: rfc3339(Number.isNaN(starts.getTime()) ? new Date() : starts),
      outflow_per_second: numOr("ns-outflow", 10),
      reservation_ttl_seconds: Math.trunc(numOr("ns-hold", 300)),
      prequeue_seconds: Math.round(numOr("ns-prequeue", 15) * 60),
      per_shopper_limit: Math.trunc(numOr("ns-limit", 1)),
    };
    const endsVal = $("ns-ends").value;
    if (endsVal && !Number.isNaN(new Date(endsVal).getTime())) {
      plan.ends_at = rfc3339(new Date(endsVal));
    } else {
      const minutes = numOr("ns-duration", 60);
      plan.ends_at = rfc3339(new Date(Date.parse(plan.starts_at) + minutes * 60000));
    }
    return plan;
  }

  $("new-sale").addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = $("ns-submit");
    if (btn.getAttribute("aria-disabled") === "true") return;
    for (const [, id] of NS_FIELDS) $(id).removeAttribute("aria-invalid");
    const plan = planFromForm();
    btn.setAttribute("aria-disabled", "true");
    setText(btn, "Creating…");
    try {
      const created = await api("POST", "/v1/admin/sales", plan);
      clearError();
      const said = `Sale created: ${created.name} (${created.id}).`;
      announce(said);
      nsDefaults();
      await loadSales().catch(report);
      if (created && created.id) {
        select(created.id, true);
        const b = $(`sale-${created.id}`);
        if (b) b.scrollIntoView({ block: "nearest" });
      }
      flash(said);
      loadAudit().catch(report);
    } catch (err) {
      report(err, "Create sale");
      if (err.code === "invalid_sale") {
        // Point at the fields the server named.
        let first = null;
        for (const [field, id] of NS_FIELDS) {
          if (String(err.message).includes(field)) {
            $(id).setAttribute("aria-invalid", "true");
            if (!first) first = $(id);
          }
        }
        if (String(err.message).includes("ends_at")) $("ns-duration").setAttribute("aria-invalid", "true");
        if (first) first.focus();
      }
    } finally {
      btn.removeAttribute("aria-disabled");
      setText(btn, "Create sale");
    }
  });
  $("ns-currency").addEventListener("change", () => {
    $("ns-currency").value = $("ns-currency").value.trim().toUpperCase();
  });

  // ---- audit log ----

  function describeDetail(d, action) {
    if (!d || typeof d !== "object") return d == null ? "" : String(d);
    if (action === "create" && d.sku) {
      return [d.sku, `${count(d.stock)} units`, formatPrice(d.price_cents || 0, d.currency || "EUR"),
        `${formatWhen(d.starts_at)} – ${formatWhen(d.ends_at)}`, `outflow ${d.outflow_per_second}/s`,
        `hold ${d.reservation_ttl_seconds}s`, `prequeue ${Math.round((d.prequeue_seconds || 0) / 60)} min`,
        `limit ${d.per_shopper_limit}`].join(" · ");
    }
    if ((action === "block" || action === "unblock") && d.kind) {
      return [describeBlock(d), d.reason ? `“${d.reason}”` : ""].filter(Boolean).join(" · ");
    }
    if (action === "flagged_policy" && d.policy) {
      return [`policy ${d.policy}`, d.requeued || d.removed ? policyApplied(d) : ""].filter(Boolean).join(" · ");
    }
    if (action === "pow") return d.value ? `difficulty ${d.value}` : "difficulty 0 (off)";
    const parts = [];
    for (const [k, v] of Object.entries(d)) {
      if (v === null || v === "" || (k === "value" && v === 0) || k === "id") continue;
      let s = typeof v === "object" ? JSON.stringify(v) : String(v);
      if (k === "text") s = `“${s}”`;
      if (k === "price_cents" && typeof v === "number") { parts.push(`price ${formatPrice(v, d.currency || "EUR")}`); continue; }
      if (k === "currency") continue;
      parts.push(`${k}: ${s}`);
    }
    return parts.join(", ");
  }

  // emptyRow is a table's one row when it has nothing to show.
  function emptyRow(columns, text) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = columns;
    td.className = "hint";
    td.textContent = text;
    tr.append(td);
    return tr;
  }

  function renderAudit() {
    const body = $("audit");
    const only = $("audit-only").checked && S.selected;
    const entries = only ? S.audit.filter((a) => a.sale_id === S.selected) : S.audit;
    const prevMax = S.auditMax;
    const rows = entries.map((a) => {
      const tr = document.createElement("tr");
      tr.id = `audit-${a.id}`;
      if (prevMax && a.id > prevMax) tr.className = "fresh";
      const when = document.createElement("td");
      when.className = "when";
      const time = document.createElement("time");
      time.dateTime = a.at;
      time.title = a.at;
      time.textContent = formatWhen(a.at, true);
      when.append(time);
      const sale = document.createElement("td");
      sale.className = "sale-id";
      sale.textContent = a.sale_id ? saleName(a.sale_id) : "–";
      if (a.sale_id) sale.title = a.sale_id;
      const action = document.createElement("td");
      action.className = "action";
      action.textContent = a.action;
      const detail = document.createElement("td");
      detail.className = "detail-cell";
      const text = describeDetail(a.detail, a.action);
      detail.textContent = text.length > 220 ? `${text.slice(0, 219)}…` : text;
      detail.title = a.detail ? JSON.stringify(a.detail) : "";
      const actor = document.createElement("td");
      actor.textContent = a.actor || "";
      tr.append(when, sale, action, detail, actor);
      return tr;
    });
    if (!rows.length) rows.push(emptyRow(5, "No entries yet."));
    body.replaceChildren(...rows);
    for (const a of S.audit) S.auditMax = Math.max(S.auditMax, a.id || 0);
  }
  $("audit-only").addEventListener("change", renderAudit);

  // ---- blocklist ----

  const blockKey = (e) => `${e.kind}:${e.value}`;
  const describeBlock = (e) => `${BLOCK_KIND[e.kind] || e.kind} ${e.value}`;

  // loadBlocklist fetches the list; fresh names an entry just added, to
  // highlight it.
  async function loadBlocklist(fresh) {
    const body = await api("GET", "/v1/admin/blocklist");
    const entries = (body && body.entries) || [];
    entries.sort((a, b) => Date.parse(b.added_at) - Date.parse(a.added_at) || blockKey(a).localeCompare(blockKey(b)));
    S.blocks = entries;
    renderBlocklist(fresh);
  }

  // blockMessage shows why the last change failed, under the form; "" clears it.
  function blockMessage(text) {
    setText($("bl-message"), text);
    if (text) $("bl-value").setAttribute("aria-invalid", "true");
    else $("bl-value").removeAttribute("aria-invalid");
  }

  let blocksKey = ""; // what the table shows: a refresh that changes nothing leaves it, and the focus, alone
  function renderBlocklist(fresh) {
    const key = JSON.stringify(S.blocks);
    if (key === blocksKey && !fresh) return;
    blocksKey = key;
    const body = $("blocklist");
    const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest("#blocklist button") : null;
    const focusKey = focused ? focused.dataset.key : "";
    const rows = S.blocks.map((e) => {
      const tr = document.createElement("tr");
      tr.dataset.kind = e.kind;
      tr.dataset.value = e.value;
      if (fresh && fresh === blockKey(e)) tr.className = "fresh";
      const kind = document.createElement("td");
      kind.textContent = BLOCK_KIND[e.kind] || e.kind;
      const value = document.createElement("td");
      value.className = "value";
      value.textContent = e.value;
      const reason = document.createElement("td");
      reason.className = e.reason ? "" : "hint";
      reason.textContent = e.reason || "–";
      const added = document.createElement("td");
      added.className = "when";
      const time = document.createElement("time");
      time.dateTime = e.added_at;
      time.title = e.added_at;
      time.textContent = formatWhen(e.added_at);
      added.append(time);
      const remove = document.createElement("td");
      remove.className = "remove";
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn danger small";
      b.dataset.key = blockKey(e);
      b.textContent = "Remove";
      b.setAttribute("aria-label", `Remove ${describeBlock(e)}`);
      remove.append(b);
      tr.append(kind, value, reason, added, remove);
      return tr;
    });
    if (!rows.length) rows.push(emptyRow(5, "Nothing is blocked."));
    body.replaceChildren(...rows);
    if (focusKey) {
      const again = [...body.querySelectorAll("button[data-key]")].find((x) => x.dataset.key === focusKey);
      if (again) again.focus();
    }
  }

  function showBlockExample() {
    $("bl-value").placeholder = BLOCK_EXAMPLE[$("bl-kind").value] || "";
  }
  $("bl-kind").addEventListener("change", showBlockExample);

  $("bl-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = $("bl-add");
    if (btn.getAttribute("aria-disabled") === "true") return;
    const kind = $("bl-kind").value;
    const value = $("bl-value").value.trim();
    if (!value) {
      blockMessage(`Enter the ${BLOCK_KIND[kind] || kind} to block.`);
      $("bl-value").focus();
      return;
    }
    btn.setAttribute("aria-disabled", "true");
    setText(btn, "Blocking…");
    let added = null;
    try {
      added = await api("POST", "/v1/admin/blocklist", { kind, value, reason: $("bl-reason").value.trim() });
      blockMessage("");
      $("bl-value").value = "";
      $("bl-reason").value = "";
      announce(`Blocked ${describeBlock(added)}: every node turns it away within a second.`);
    } catch (err) {
      if (err.handled) return; // signed out
      blockMessage(err.message || err.code); // the server says what is wrong with the value
      $("bl-value").focus();
    } finally {
      btn.removeAttribute("aria-disabled");
      setText(btn, "Block");
      if (S.token) {
        loadBlocklist(added ? blockKey(added) : "").catch(report);
        loadAudit().catch(report);
      }
    }
  });

  $("blocklist").addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-key]");
    if (!b || b.getAttribute("aria-disabled") === "true") return;
    const entry = S.blocks.find((x) => blockKey(x) === b.dataset.key);
    if (!entry) return;
    const at = [...$("blocklist").querySelectorAll("button[data-key]")].indexOf(b);
    b.setAttribute("aria-disabled", "true");
    setText(b, "Removing…");
    try {
      await api("DELETE", "/v1/admin/blocklist", { kind: entry.kind, value: entry.value });
      blockMessage("");
      announce(`Unblocked ${describeBlock(entry)}.`);
    } catch (err) {
      if (err.handled) return; // signed out
      blockMessage(err.message || err.code); // an unknown entry: someone removed it already
    } finally {
      b.removeAttribute("aria-disabled");
      setText(b, "Remove");
    }
    if (!S.token) return;
    loadAudit().catch(report);
    await loadBlocklist().catch(report);
    if (!b.isConnected && (!document.activeElement || document.activeElement === document.body)) {
      // Its row is gone, and the focus with it: focus the row that took its place, or the form.
      const left = [...$("blocklist").querySelectorAll("button[data-key]")];
      (left[Math.min(at, left.length - 1)] || $("bl-value")).focus();
    }
  });

  // ---- start ----

  nsDefaults();
  showBlockExample();
  setConn("offline");
  let stored = "";
  try { stored = sessionStorage.getItem(TOKEN_KEY) || ""; } catch { /* storage unavailable */ }
  if (stored) {
    enter(stored, false);
  } else {
    showSignin("");
  }
})();
