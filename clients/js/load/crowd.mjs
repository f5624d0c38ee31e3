// crowd.mjs: a crowd of shoppers in one Node process, each a FoyerClient of
// @foyer/client (the built dist/) with its own session, all joining one sale
// on a real Foyer. It reports the join rate, the time until everyone was
// placed, the process's memory and whether any shopper's position ever rose,
// as one JSON line on stdout (progress goes to stderr), and exits 1 unless
// every shopper was placed and no position rose.
//
//   node --expose-gc load/crowd.mjs --url http://127.0.0.1:8080 --sale s_... --shoppers 10000
//
// Not part of the npm package (package.json's files): tooling, run by
// `foyer-bench jscrowd` beside the Go load generator and, smaller, by a test
// of `make test` (internal/app/jscrowd_test.go).
import { parseArgs } from "node:util";
import WebSocket from "ws";

import { FoyerClient } from "../dist/esm/index.js";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" }, // the gateways' base URLs, comma-separated; shopper i uses the (i mod n)th
    sale: { type: "string" },
    shoppers: { type: "string", default: "500" },
    // Shoppers arriving at once, from the start of their session to their
    // place: the Go load generator's default, so the two storm alike.
    concurrency: { type: "string", default: "200" },
    // Source addresses for the WebSockets, comma-separated or a range
    // 127.0.0.2-127.0.0.9, used in turn: one address reaches about 28,000
    // ports of one gateway. Empty: the kernel chooses.
    sources: { type: "string", default: "" },
    timeout: { type: "string", default: "120" }, // seconds for everyone to be placed
    hold: { type: "string", default: "0" }, // seconds to stay, watching positions, once everyone is placed
  },
});
if (!args.url || !args.sale) {
  console.error("usage: node load/crowd.mjs --url URL[,URL...] --sale SALE_ID [--shoppers N] [--concurrency C] [--sources A-B] [--timeout S] [--hold S]");
  process.exit(2);
}
const urls = args.url.split(",").filter(Boolean);
const shoppers = positive("shoppers");
const concurrency = positive("concurrency");
const sources = parseSources(args.sources);

function positive(name) {
  const n = Number.parseInt(args[name], 10);
  if (!(n > 0)) {
    console.error(`--${name} ${args[name]}: a whole number above 0`);
    process.exit(2);
  }
  return n;
}

/** "127.0.0.2-127.0.0.9" or "a,b,c" into a list of addresses. */
function parseSources(spec) {
  if (!spec) return [];
  const range = /^(\d+\.\d+\.\d+\.)(\d+)-(?:\d+\.\d+\.\d+\.)?(\d+)$/.exec(spec);
  if (!range) return spec.split(",").filter(Boolean);
  const out = [];
  for (let k = Number(range[2]); k <= Number(range[3]); k++) out.push(`${range[1]}${k}`);
  return out;
}

/** The ws package's WebSocket, on a chosen source address, without compression (its memory is the crowd's). */
function webSocketFrom(localAddress) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    }
  };
}
const sockets = sources.length ? sources.map(webSocketFrom) : [webSocketFrom(undefined)];

// What the crowd saw.
const stats = {
  placed: 0,
  rose: 0, // positions that came higher than the one before: never, in an honest FIFO queue
  fell: 0, // positions that came lower: the queue moved while the crowd watched
  reconnects: 0,
  failed: 0, // shoppers not placed in time, or stopped for good
  errors: {}, // failures by their code
};
const latencies = []; // ms from a shopper's start to its place
let firstBegan = Infinity;
let lastPlaced = 0;
const clients = [];

// A semaphore: at most `concurrency` shoppers arriving at once.
let free = concurrency;
const waiting = [];
const acquire = () => (free > 0 ? (free--, Promise.resolve()) : new Promise((r) => waiting.push(r)));
const release = () => (waiting.length ? waiting.shift()() : free++);

function countError(code) {
  stats.errors[code] = (stats.errors[code] ?? 0) + 1;
}

async function shopper(i, deadline) {
  await acquire();
  const began = performance.now();
  firstBegan = Math.min(firstBegan, began);
  const client = new FoyerClient({
    baseUrl: urls[i % urls.length],
    saleId: args.sale,
    WebSocket: sockets[i % sockets.length],
    transport: "websocket", // the crowd measures the WebSocket path; the fallback has its own tests
  });
  clients.push(client);
  let last = Infinity; // the last position told
  let isPlaced = false;
  let done;
  const placed = new Promise((resolve) => (done = resolve));
  const place = () => {
    if (isPlaced) return;
    isPlaced = true;
    const now = performance.now();
    stats.placed++;
    latencies.push(now - began);
    lastPlaced = Math.max(lastPlaced, now);
    done(true);
  };
  client.on("position", (p) => {
    if (p.position > last) stats.rose++;
    else if (p.position < last && last !== Infinity) stats.fell++;
    place();
    last = p.position;
  });
  client.on("prequeue", place); // placed; the draw gives the positions
  client.on("admitted", place);
  client.on("failure", (err) => countError(err.code));
  client.on("reconnecting", () => stats.reconnects++);
  client.on("closed", ({ error }) => {
    if (error) countError(error.code ?? `close_${error.closeCode}`);
    done(false);
  });
  client.join(); // sent once the welcome comes; a reconnect resumes the place by the session
  const timer = setTimeout(() => done(false), Math.max(0, deadline - performance.now()));
  try {
    await client.start(); // makes the session (POST /v1/sessions), then connects
  } catch (err) {
    countError(err?.code ?? "no_session");
    done(false);
  }
  const ok = await placed;
  clearTimeout(timer);
  if (!ok) stats.failed++;
  release();
}

const runStart = performance.now();
const cpuStart = process.cpuUsage();
const deadline = runStart + positive("timeout") * 1000;
const progress = setInterval(() => {
  process.stderr.write(`crowd: ${stats.placed} of ${shoppers} placed, ${stats.failed} failed, ${stats.reconnects} reconnects\n`);
}, 1000);
await Promise.all(Array.from({ length: shoppers }, (_, i) => shopper(i, deadline)));
const allPlaced = performance.now();
const cpu = process.cpuUsage(cpuStart); // what the joins cost this process, user and system
clearInterval(progress);

// Memory with everyone connected and placed, after a collection when Node
// allows one (--expose-gc): what the crowd holds, not what it left behind.
globalThis.gc?.();
const memory = process.memoryUsage();

const holdMs = Number(args.hold) * 1000;
if (holdMs > 0) await new Promise((r) => setTimeout(r, holdMs));
for (const c of clients) c.close();

latencies.sort((a, b) => a - b);
const pct = (q) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]) : 0);
const joinSpanMs = lastPlaced - firstBegan;
const result = {
  shoppers,
  placed: stats.placed,
  failed: stats.failed,
  rose: stats.rose,
  fell: stats.fell,
  reconnects: stats.reconnects,
  errors: stats.errors,
  // Joins answered over the time from the first shopper's start to the last
  // place: the Go load generator's joins_per_second, read the same way.
  joins_per_second: joinSpanMs > 0 ? Math.round((stats.placed / joinSpanMs) * 1000 * 10) / 10 : 0,
  all_placed_ms: Math.round(allPlaced - runStart),
  join_latency_ms: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99), max: pct(1) },
  // This process's CPU until everyone was placed, per shopper placed: the
  // crowd's own cost, on a machine it shares with the Foyer it measures.
  cpu_per_join_us: stats.placed ? Math.round((cpu.user + cpu.system) / stats.placed) : 0,
  rss_bytes: memory.rss,
  heap_used_bytes: memory.heapUsed,
  gc: typeof globalThis.gc === "function",
  node: process.version,
};
process.stdout.write(JSON.stringify(result) + "\n");
// Sockets may take a moment to close; the numbers are out.
process.exit(stats.placed === shoppers && stats.rose === 0 ? 0 : 1);
