// The selected sale's last five minutes, drawn by the vendored uPlot (a
// classic script that sets window.uPlot, loaded before the modules), from a
// rolling window of pushes kept per sale.

import { S, serverNow } from "./state.js";
import { $, setText } from "./dom.js";
import { count, compact } from "./format.js";

const WINDOW_S = 300; // the charts show the last 5 minutes
const COLORS = {
  accent: "#1f4fd1", accent2: "#3a66de", ok: "#1a7f43", warn: "#b07800", sold: "#4a505c", bad: "#b3261e",
  muted: "#555c69", grid: "#eceef2", tick: "#d9dce3", purple: "#7b3fb3",
};

const charts = {}; // name -> uPlot
let lastDraw = 0;

// sinceDraw is how long ago the charts were last drawn, in ms.
export const sinceDraw = () => Date.now() - lastDraw;

const num = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);

// record keeps a sale's rolling window of pushes for the charts.
export function record(sale, at) {
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

export function drawCharts() {
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
