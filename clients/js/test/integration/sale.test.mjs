// A sale walked by the library against a real Foyer (real Redis and
// Postgres), started by internal/app/jsclient_test.go, which passes:
//   FOYER_URL       the gateway
//   FOYER_SALE_IDS  comma-separated sales in their prequeue, one per walk below
// Run alone, without them, it fails: it is not meant to be run by hand.
import assert from "node:assert/strict";
import { test } from "node:test";

import WebSocket from "ws";

import { FoyerClient } from "../../dist/esm/index.js";

const baseUrl = process.env.FOYER_URL;
const saleIds = (process.env.FOYER_SALE_IDS ?? "").split(",");

/** walk plays one shopper: prequeue, the draw, admission, checkout, order. */
async function walk(t, saleId, transport) {
  const c = new FoyerClient({ baseUrl, saleId, WebSocket, transport });
  t.after(() => c.close());
  const seen = [];
  for (const type of ["welcome", "prequeue", "position", "state", "admitted", "order", "failure", "closed"]) {
    c.on(type, (m) => seen.push(type === "state" ? `state:${m.state}` : type === "failure" ? `failure:${m.code}` : type));
  }
  const welcome = c.next("welcome");
  const prequeue = c.next("prequeue");
  const admitted = c.next("admitted");
  await c.start();
  const w = await welcome;
  assert.equal(w.sale.state, "prequeue", `sale ${saleId} is in its prequeue`);
  assert.equal(c.transport, transport);
  c.join();
  const p = await prequeue;
  assert.ok(p.ticket >= 1, `prequeue ticket ${p.ticket}`);
  assert.ok(c.countdown(p.starts_at).totalMs < 60_000, "the countdown runs on the server's clock");

  const a = await admitted; // after the draw at the start
  assert.equal(a.checkout, "foyer");
  const paid = new Promise((resolve) => c.on("order", (o) => o.status === "paid" && resolve(o)));
  if (transport === "websocket") {
    // Over the socket: no key, the checkout sent again is answered with the order as it stands.
    const first = await c.checkout(a, { over: "socket" });
    assert.equal(first.status, "confirmed");
    assert.equal(first.reservation_id, a.reservation_id);
    const again = await c.checkout(a, { over: "socket" });
    assert.equal(again.reservation_id, a.reservation_id, "the checkout sent again is answered with its order");
    assert.ok(["confirmed", "pending_payment", "paid"].includes(again.status), `sent again: ${again.status}`);
  } else {
    const key = `walk-${saleId}`;
    const first = await c.checkout(a, { idempotencyKey: key });
    assert.equal(first.status, "confirmed");
    assert.equal(first.reservation_id, a.reservation_id);
    const again = await c.checkout(a, { idempotencyKey: key });
    assert.equal(again.replayed, true, "a retry with the same key gets the first answer");
  }
  const order = await paid;
  assert.equal(order.reservation_id, a.reservation_id);
  assert.ok(order.order_id > 0);
  assert.ok(seen.indexOf("prequeue") < seen.indexOf("admitted"), seen.join(" "));
  assert.ok(!seen.some((s) => s.startsWith("failure")), seen.join(" "));
}

// Both walks run at once: each sale's prequeue ends at the same start.
test("shoppers walk a sale from prequeue to order", { concurrency: true }, async (t) => {
  assert.ok(baseUrl && saleIds.length === 2, "FOYER_URL and FOYER_SALE_IDS are set by internal/app/jsclient_test.go");
  await Promise.all([
    t.test("over a WebSocket: prequeue, draw, admission, checkout over the socket, order", (t) => walk(t, saleIds[0], "websocket")),
    t.test("over the HTTP fallback: the same messages, the same order", (t) => walk(t, saleIds[1], "events")),
  ]);
});
