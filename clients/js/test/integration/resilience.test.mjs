// The library through a sale's faults, against a real Foyer started by
// internal/app/jsclient_resilience_test.go, which passes:
//   FOYER_URL          a proxy in front of two gateway nodes
//   FOYER_SALE_IDS     an open sale whose queue does not move
//   FOYER_CONTROL_URL  POST /kill-node, /stop-redis, /start-redis do what they say
import assert from "node:assert/strict";
import { test } from "node:test";

import WebSocket from "ws";

import { FoyerClient } from "../../dist/esm/index.js";

const baseUrl = process.env.FOYER_URL;
const saleId = process.env.FOYER_SALE_IDS;
const control = process.env.FOYER_CONTROL_URL;

async function fault(name) {
  const res = await fetch(`${control}/${name}`, { method: "POST" });
  assert.equal(res.status, 204, `fault ${name}: ${await res.text()}`);
}

function newClient(t, extra = {}) {
  const c = new FoyerClient({ baseUrl, saleId, WebSocket, backoff: { minMs: 100, maxMs: 1000 }, ...extra });
  t.after(() => c.close());
  return c;
}

/** waiting starts a client and joins; it resolves with the first position. */
async function waiting(c) {
  const position = c.next("position");
  c.on("welcome", () => c.join());
  await c.start();
  return position;
}

test("the shopper's node dies: the client reconnects to another and finds its place", async (t) => {
  assert.ok(baseUrl && saleId && control, "set by internal/app/jsclient_resilience_test.go");
  const c = newClient(t);
  const before = await waiting(c);
  const shopper = c.currentSession.shopper_id;
  const reconnecting = c.next("reconnecting");
  const again = c.next("position"); // pushed on reconnecting with the session
  await fault("kill-node");
  const r = await reconnecting;
  assert.equal(r.code, 1006, "a dead node sends no close frame");
  const after = await again;
  assert.equal(after.position, before.position, "the same place");
  assert.equal(c.currentSession.shopper_id, shopper);
  assert.equal(c.state, "open");
});

test("Redis restarts: the client is told degraded, then recovered, and stays connected", async (t) => {
  const c = newClient(t);
  const before = await waiting(c);
  let reconnects = 0;
  c.on("reconnecting", () => reconnects++);
  const degraded = c.next("notice");
  await fault("stop-redis");
  assert.equal((await degraded).code, "degraded");
  const recovered = c.next("notice");
  await fault("start-redis");
  assert.equal((await recovered).code, "recovered");
  assert.equal(reconnects, 0, "a notice is not a reason to reconnect");
  const position = c.next("position");
  c.resume();
  assert.equal((await position).position, before.position, "the place survived the restart");
});

test("WebSockets are blocked: the client falls back to the event stream and joins over it", async (t) => {
  // A WebSocket that a proxy refuses: every connection goes to a closed port.
  class BlockedWebSocket extends WebSocket {
    constructor(_url, protocols) {
      super("ws://127.0.0.1:9/blocked", protocols);
    }
  }
  const c = newClient(t, { WebSocket: BlockedWebSocket });
  const fallback = c.next("fallback");
  const position = await waiting(c);
  await fallback;
  assert.equal(c.transport, "events");
  assert.ok(position.position >= 1);
  const pong = c.next("position");
  c.resume(); // a POST, answered on the stream
  assert.equal((await pong).position, position.position);
});
