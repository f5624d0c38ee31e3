// The selected sale since its prequeue opened, drawn by the vendored uPlot
// (a classic script that sets window.uPlot, loaded before the modules): its
// per-second series is read from the admin API when the sale is first
// shown (history.js's pages), and the live feed's pushes carry it on.

import { S, serverNow } from "./state.js";
import { $, setText } from "./dom.js";
import { count, compact } from "./format.js";
import { api } from "./api.js";

const MIN_WINDOW_S = 300; // a sale younger than this is drawn over 5 minutes
const MAX_POINTS = 200000; // a point a second: more than two days of a sale
const PAGE_S = 6 * 3600; // the widest span the series API answers
const KEYS = ["waiting", "joins", "admissions", "orders", "left", "held", "sold"];
const COLORS = {
  accent: "#1f4fd1", accent2: "#3a66de", ok: "#1a7f43", warn: "#b07800", sold: "#4a505c", bad: "#b3261e",
  muted: "#555c69", grid: "#eceef2", tick: "#d9dce3", purple: "#7b3fb3",
};

const charts = {}; // name -> uPlot
let lastDraw = 0;

// sinceDraw is how long ago the charts were last drawn, in ms.
export const sinceDraw = () => Date.now() - lastDraw;

const num = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);

const emptyHistory = () => ({ t: [], waiting: [], joins: [], admissions: [], orders: [], left: [], held: [], sold: [] });

// push adds one point to a sale's history, breaking the lines over a gap
// instead of drawing across it.
function push(h, t, point) {
  const last = h.t.length ? h.t[h.t.length - 1] : null;
  if (last !== null && t <= last) return; // a repeat
  if (last !== null && t - last > 3.5) {
    h.t.push(last + 1);
    for (const k of KEYS) h[k].push(null);
  }
  h.t.push(t);
  for (const k of KEYS) h[k].push(point[k]);
  if (h.t.length > MAX_POINTS) for (const k of Object.keys(h)) h[k].splice(0, h.t.length - MAX_POINTS);
}

// record keeps a push of the live feed in the sale's history.
export function record(sale, at) {
  let h = S.history.get(sale.id);
  if (!h) {
    h = emptyHistory();
    S.history.set(sale.id, h);
  }
  const st = sale.stock || {};
  push(h, at / 1000, {
    waiting: num(sale.waiting), joins: num(sale.joins_per_second), admissions: num(sale.admissions_per_second),
    orders: num(sale.orders_per_second), left: num(st.left), held: num(st.held), sold: num(st.sold),
  });
}

// loads are the sales whose series was asked for in this session:
// "<session>:<id>" -> promise (signing out forgets the histories).
const loads = new Map();

// loadSeries reads a sale's series from its prequeue's opening up to now,
// a page of at most six hours at a time, and puts it before what the live
// feed brought meanwhile. The series holds running totals: rates are their
// differences.
function loadSeries(id) {
  const key = `${S.gen}:${id}`;
  if (loads.has(key) || !S.token) return;
  const p = S.byId.get(id);
  if (!p) return;
  const from = Math.floor(Date.parse(p.starts_at) / 1000) - (p.prequeue_seconds || 0);
  const until = Math.floor(serverNow() / 1000) + 1;
  const box = $("charts");
  const gen = S.gen;
  if (box) box.dataset.series = "loading";
  const job = (async () => {
    const h = emptyHistory();
    let prev = null;
    for (let start = from; start < until; start += PAGE_S) {
      const page = await api("GET", `/v1/admin/sales/${encodeURIComponent(id)}/series?from=${start}&to=${Math.min(start + PAGE_S, until)}`);
      const n = (page && page.second) || [];
      for (let i = 0; i < n.length; i++) {
        const t = n[i];
        const rate = (k) => (prev && t > prev.t ? Math.max(0, (page[k][i] - prev[k]) / (t - prev.t)) : null);
        push(h, t, {
          waiting: page.waiting[i], joins: rate("joins"), admissions: rate("admitted"), orders: rate("orders"),
          left: page.available[i], held: page.held[i], sold: page.checkouts[i],
        });
        prev = { t, joins: page.joins[i], admitted: page.admitted[i], orders: page.orders[i] };
      }
    }
    // What the live feed recorded while the pages came goes after them.
    const live = S.history.get(id);
    if (live) for (let i = 0; i < live.t.length; i++) {
      if (live.t[i] > (h.t.length ? h.t[h.t.length - 1] : 0)) {
        const point = {};
        for (const k of KEYS) point[k] = live[k][i];
        push(h, live.t[i], point);
      }
    }
    if (S.gen === gen) S.history.set(id, h);
  })();
  loads.set(key, job);
  job.then(() => {
    if (box && S.selected === id) {
      // For the browser tests: what was drawn, from when.
      const h = S.history.get(id);
      box.dataset.first = h && h.t.length ? String(h.t[0]) : "";
      box.dataset.points = h ? String(h.t.length) : "0";
      box.dataset.series = "loaded:" + id;
    }
    drawCharts();
  }, () => {
    loads.delete(key); // asked again at the next draw
    if (box) box.dataset.series = "failed";
  });
}

// span is the time the charts show: from the sale's first point (at least
// 5 minutes back) up to now, or up to its last point once it is over.
function span() {
  const now = serverNow() / 1000;
  const h = S.history.get(S.selected);
  const v = S.view.get(S.selected);
  const over = v && (v.state === "ended" || v.state === "sold_out");
  const first = h && h.t.length ? h.t[0] : now;
  const last = over && h && h.t.length ? h.t[h.t.length - 1] : now;
  return [Math.min(first, last - MIN_WINDOW_S), last];
}

function makeChart(box, series, yRange) {
  const width = Math.max(240, box.clientWidth || 320);
  const fmt = (u, v) => (v == null ? "–" : Number.isInteger(v) ? count(v) : v.toFixed(1));
  const opts = {
    width, height: 170,
    pxAlign: 0,
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    legend: { live: true },
    scales: {
      x: { time: true, range: span },
      y: { range: yRange },
    },
    axes: [
      { stroke: COLORS.muted, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.tick, width: 1 }, font: "11px system-ui, sans-serif",
        space: 52, incrs: [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400],
        values: (u, splits) => splits.map((v) => new Date(v * 1000).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })) },
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

export function drawCharts() {
  if (!ensureCharts()) {
    if (!window.uPlot) setText($("charts-empty"), "Charts are unavailable: the chart library did not load.");
    return;
  }
  lastDraw = Date.now();
  if (S.selected) {
    loadSeries(S.selected);
    $("report-link").href = `report.html?sale=${encodeURIComponent(S.selected)}`;
  }
  const h = S.history.get(S.selected);
  const empty = !h || h.t.length === 0;
  $("charts-empty").hidden = !empty;
  const t = h ? h.t : [];
  charts.queue.setData([t, h ? h.waiting : []]);
  charts.rates.setData([t, h ? h.joins : [], h ? h.admissions : [], h ? h.orders : []]);
  charts.stock.setData([t, h ? h.left : [], h ? h.held : [], h ? h.sold : []]);
}
