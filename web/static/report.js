// The sale report page. report.html?sale=<id> shows the operator's
// post-sale report when the dashboard's admin token is in this tab's
// session (open it from the dashboard), with its CSV, printing and the
// public report's publishing; report.html?sale=<id>&view=public, or without
// the token, the public fairness report a shop can link to: counts, an
// event's products' units, waits and the draw, nothing of any shopper. Everything is written as text,
// never as HTML.
(function () {
  "use strict";

  const TOKEN_KEY = "foyer.admin"; // the dashboard's (admin/state.js)
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const saleID = params.get("sale") || "";
  let token = "";
  try { token = sessionStorage.getItem(TOKEN_KEY) || ""; } catch { /* storage unavailable */ }
  const operator = token !== "" && params.get("view") !== "public";
  const page = $("report");

  const zone = (() => {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time"; } catch { return "local time"; }
  })();
  const when = (iso) => (iso ? new Date(iso).toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" }) : "–");
  const minute = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  const count = (n) => (typeof n === "number" ? n.toLocaleString() : "–");
  const money = (cents, currency) => {
    try { return (cents / 100).toLocaleString([], { style: "currency", currency: currency || "EUR" }); } catch { return String(cents / 100); }
  };
  // duration reads milliseconds as the words a person would use.
  function duration(ms) {
    if (typeof ms !== "number") return "–";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    const m = Math.floor(s / 60), rest = Math.round(s % 60);
    if (m < 60) return `${m} min ${rest} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  function setStatus(text, state) {
    $("status").textContent = text;
    page.dataset.state = state;
    page.setAttribute("aria-busy", state === "loading" ? "true" : "false");
  }

  // rows fills a two-column table with [label, value] pairs.
  function rows(tbody, pairs) {
    tbody.replaceChildren();
    for (const [label, value] of pairs) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      const td = document.createElement("td");
      td.textContent = value;
      tr.append(th, td);
      tbody.append(tr);
    }
  }

  async function get(path) {
    const headers = { Accept: "application/json" };
    if (operator) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(path, { headers, cache: "no-store" });
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) {
      const err = new Error((body && body.error && body.error.message) || `HTTP ${res.status}`);
      err.code = (body && body.error && body.error.code) || `http_${res.status}`;
      throw err;
    }
    return body;
  }

  function showWaits(waits) {
    const tbody = $("waits-rows");
    tbody.replaceChildren();
    const add = (label, w) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      tr.append(th);
      for (const v of [count(w.shoppers), duration(w.p50_ms), duration(w.p90_ms), duration(w.p99_ms), duration(w.max_ms)]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      tbody.append(tr);
    };
    add("Whole sale", waits.overall);
    for (const m of waits.by_minute || []) add(minute(m.arrived_at), m);
    $("waits-note").textContent = `By the minute shoppers arrived in (${zone}). Percentiles come from a histogram and are `
      + `within ${Math.round((waits.bucket_error || 0) * 1000) / 10} % of the exact wait (the longest is exact); `
      + "a shopper's arrival is known to the admitter's tick.";
    $("waits").hidden = false;
  }

  // showProducts adds, after the summary, a table of an event's products:
  // stock, sold and left of each, and, on the operator's report, the
  // revenue of its paid orders. report.html has no place for it, since a
  // single-product sale has none: it is built here, as text.
  function showProducts(products, currency) {
    const old = $("products");
    if (old) old.remove();
    if (!products || products.length === 0) return;
    const withRevenue = products.some((p) => typeof p.revenue_cents === "number");
    const section = document.createElement("section");
    section.id = "products";
    section.setAttribute("aria-labelledby", "products-title");
    const h2 = document.createElement("h2");
    h2.id = "products-title";
    h2.textContent = "Products";
    const scroll = document.createElement("div");
    scroll.className = "scroll";
    scroll.tabIndex = 0;
    scroll.setAttribute("role", "region");
    scroll.setAttribute("aria-label", "Products, scrolls sideways");
    const table = document.createElement("table");
    table.className = "grid";
    const caption = document.createElement("caption");
    caption.className = "visually-hidden";
    caption.textContent = "Each product's units" + (withRevenue ? " and revenue" : "");
    const head = document.createElement("tr");
    for (const label of ["Product", "Stock", "Sold", "Left"].concat(withRevenue ? ["Revenue (paid)"] : [])) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = label;
      head.append(th);
    }
    const thead = document.createElement("thead");
    thead.append(head);
    const tbody = document.createElement("tbody");
    tbody.id = "products-rows";
    for (const p of products) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = `${p.name || p.sku} (${p.sku})`;
      tr.append(th);
      const cells = [count(p.stock), count(p.sold), count(p.left)];
      if (withRevenue) cells.push(money(p.revenue_cents, currency));
      for (const v of cells) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      }
      tbody.append(tr);
    }
    table.append(caption, thead, tbody);
    scroll.append(table);
    section.append(h2, scroll);
    $("summary").after(section);
  }

  function showDraw(draw) {
    if (!draw.seed_hash) {
      rows($("draw-rows"), [["Draw", "none: no prequeue opened, so shoppers were served in the order they arrived"]]);
      $("draw").hidden = false;
      return;
    }
    const pairs = [["Prequeue shoppers drawn", count(draw.prequeue_tickets)], ["Commitment (SHA-256 of the seed)", draw.seed_hash || "–"],
      ["Seed", draw.seed || "not revealed yet"],
      ["Seed matches the commitment", draw.seed ? (draw.seed_matches_hash ? "yes" : "NO") : "–"]];
    rows($("draw-rows"), pairs);
    $("draw-link").href = draw.check_url;
    $("draw").hidden = false;
  }

  function showOperator(r) {
    document.title = `${r.name || r.sale_id} report · Foyer`;
    $("title").textContent = `${r.name || r.sale_id}: sale report`;
    $("subtitle").textContent = `${when(r.starts_at)} – ${when(r.ends_at)} · ${r.state || "not loaded"}${r.live ? "" : " · from the copy kept after the sale"}`;
    const p = r.payments || {};
    rows($("summary-rows"), [
      ["Stock", count(r.stock)], ["Joined", count(r.funnel.joined)], ["Admitted", count(r.funnel.admitted)],
      ["Checked out", count(r.funnel.checked_out)], ["Orders", count(r.funnel.orders)],
      ["Paid", `${count(p.paid && p.paid.count)} (${money(p.paid && p.paid.amount_cents, p.currency)})`],
      ["Payment failed", `${count(p.failed && p.failed.count)} (${money(p.failed && p.failed.amount_cents, p.currency)})`],
      ["Payment pending", `${count(p.pending && p.pending.count)} (${money(p.pending && p.pending.amount_cents, p.currency)})`],
      ["Refunded", `${count(p.refunded && p.refunded.count)} (${money(p.refunded && p.refunded.amount_cents, p.currency)})`],
      ["Holds that lapsed unpaid", count(r.holds.lapsed)], ["Holds released (shopper away)", count(r.holds.away)],
    ]);
    $("summary").hidden = false;
    showProducts(r.products, p.currency);
    showWaits(r.waits);
    const f = r.flags;
    const flagPairs = [["Policy now", { allow: "recorded only", back: "sent to the back of the queue", remove: "removed from the queue" }[f.policy] || f.policy],
      ["Shoppers flagged", count(f.flagged)]];
    for (const [signal, n] of Object.entries(f.by_signal || {})) flagPairs.push([`Signal ${signal.replace(/_/g, " ")}`, count(n)]);
    for (const c of f.policy_changes || []) {
      const a = c.applied || {};
      flagPairs.push([`Policy set ${when(c.at)}`, `${a.policy}: ${count(a.requeued)} sent back, ${count(a.removed)} removed`]);
    }
    rows($("flags-rows"), flagPairs);
    $("flags").hidden = false;
    showDraw(r.draw);
    showPublishing(r.fairness);
    $("actions").hidden = false;
  }

  function showPublishing(fairness) {
    const button = $("publish");
    button.textContent = fairness.published ? "Withdraw the public report" : "Publish the public report";
    button.dataset.published = fairness.published ? "true" : "false";
    const link = new URL(location.pathname, location.origin);
    link.searchParams.set("sale", saleID);
    link.searchParams.set("view", "public");
    $("publish-note").textContent = fairness.published
      ? `Public since ${when(fairness.published_at)} at ${link.href}` : "The public fairness report is not published.";
  }

  function showPublic(r) {
    document.title = `${r.name || r.sale_id}: fairness report`;
    $("title").textContent = `${r.name || r.sale_id}: how the queue went`;
    $("subtitle").textContent = `${when(r.starts_at)} – ${when(r.ends_at)} · published ${when(r.published_at)}`;
    rows($("summary-rows"), [["Units for sale", count(r.stock)], ["Shoppers who joined", count(r.joined)],
      ["Shoppers let in to buy", count(r.admitted)], ["Orders paid", count(r.sold)], ["Shoppers flagged as automated", count(r.flagged)]]);
    $("summary").hidden = false;
    showProducts(r.products);
    showWaits(r.waits);
    showDraw(r.draw);
  }

  async function load() {
    if (!saleID) {
      setStatus("Open this page with a sale: report.html?sale=<sale id>.", "error");
      return;
    }
    setStatus("Loading…", "loading");
    try {
      if (operator) showOperator(await get(`/v1/admin/sales/${encodeURIComponent(saleID)}/report`));
      else showPublic(await get(`/v1/sales/${encodeURIComponent(saleID)}/fairness`));
      setStatus(`Report as of ${when(new Date().toISOString())}.`, "ready");
    } catch (e) {
      const why = { fairness_unpublished: "The shop has not published a fairness report for this sale.",
        sale_not_found: "There is no such sale.", unauthorized: "The admin session has ended: sign in on the dashboard again." }[e.code];
      setStatus(why || `The report could not be loaded: ${e.message}`, "error");
    }
  }

  $("print").addEventListener("click", () => window.print());
  $("download-csv").addEventListener("click", async () => {
    try {
      const res = await fetch(`/v1/admin/sales/${encodeURIComponent(saleID)}/report.csv`, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = `report-${saleID}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      setStatus(`The CSV could not be downloaded: ${e.message}`, "error");
    }
  });
  $("publish").addEventListener("click", async (ev) => {
    const publish = ev.currentTarget.dataset.published !== "true";
    try {
      const res = await fetch(`/v1/admin/sales/${encodeURIComponent(saleID)}/fairness`, {
        method: "PUT", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ published: publish }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error((body.error && body.error.message) || `HTTP ${res.status}`);
      showPublishing(body);
      setStatus(publish ? "The public fairness report is published." : "The public fairness report is withdrawn.", "ready");
    } catch (e) {
      setStatus(`Publishing failed: ${e.message}`, "error");
    }
  });
  load();
})();
