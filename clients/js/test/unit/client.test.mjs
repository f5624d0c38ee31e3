// The client's state machine against a scripted gateway (gateway.mjs).
import assert from "node:assert/strict";
import { test } from "node:test";

import { FoyerClosedError } from "../../dist/esm/index.js";
import { client, gateway, welcome } from "./gateway.mjs";

test("a welcome opens the connection and the clock syncs to the server's", async (t) => {
  const times = [];
  const gw = await gateway(t, {
    onSocket: (ws) => {
      ws.send(welcome());
      ws.on("message", (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type !== "time") return;
        times.push(m);
        ws.send(JSON.stringify({ type: "time", client_time: m.client_time, server_time: m.client_time + 5000 }));
      });
    },
  });
  const c = client(t, gw.url);
  const welcomed = c.next("welcome");
  const states = [];
  c.on("connection", (e) => states.push(e.state));
  await c.start();
  assert.equal((await welcomed).you.shopper_id, "v_1");
  assert.equal(c.state, "open");
  assert.equal(c.transport, "websocket");
  for (let i = 0; i < 5; i++) await c.next("time");
  assert.equal(times.length, 5, "five time requests, as the protocol suggests");
  assert.ok(Math.abs(c.serverNow() - Date.now() - 5000) < 100, `offset ${c.serverNow() - Date.now()}`);
  const left = c.countdown(Date.now() + 65_000).totalMs; // the server is 5 s ahead
  assert.ok(Math.abs(left - 60_000) < 100, `countdown ${left}`);
  assert.deepEqual(states, ["connecting", "open"]);
});

test("after 1001 the client reconnects at once with the same session, and keeps its place", async (t) => {
  const tokens = [];
  const gw = await gateway(t, {
    onSocket: (ws, url, n) => {
      tokens.push(url.searchParams.get("session"));
      ws.send(welcome());
      if (n === 1) ws.close(1001, "draining");
      else ws.send(JSON.stringify({ type: "position", position: 3, ahead: 2, waiting: 9 }));
    },
  });
  const c = client(t, gw.url);
  const reconnecting = c.next("reconnecting");
  const position = c.next("position");
  await c.start();
  assert.deepEqual(await reconnecting, { code: 1001, reason: "draining", delayMs: 0 });
  assert.equal((await position).position, 3);
  assert.deepEqual(tokens, ["tok-1", "tok-1"]);
  assert.equal(gw.sessions(), 1);
});

test("4001 gets a new session before reconnecting", async (t) => {
  const tokens = [];
  const gw = await gateway(t, {
    onSocket: (ws, url, n) => {
      tokens.push(url.searchParams.get("session"));
      if (n === 1) return ws.close(4001, "session invalid");
      ws.send(welcome("v_2"));
    },
  });
  const c = client(t, gw.url);
  const session = c.next("session").then(() => c.next("session"));
  const welcomed = c.next("welcome");
  await c.start();
  await welcomed;
  assert.equal((await session).token, "tok-2");
  assert.deepEqual(tokens, ["tok-1", "tok-2"]);
});

for (const code of [4002, 4003, 4004, 1009]) {
  test(`close ${code} stops the client with a typed error`, async (t) => {
    const gw = await gateway(t, { onSocket: (ws) => (ws.send(welcome()), ws.close(code)) });
    const c = client(t, gw.url);
    const closed = c.next("closed");
    await c.start();
    const { error } = await closed;
    assert.ok(error instanceof FoyerClosedError);
    assert.equal(error.closeCode, code);
    assert.equal(c.state, "closed");
  });
}

test("an error's retry_after holds the reconnect back (1013)", async (t) => {
  const gw = await gateway(t, {
    onSocket: (ws, _url, n) => {
      if (n > 1) return ws.send(welcome());
      ws.send(JSON.stringify({ type: "error", code: "unavailable", message: "redis", retry_after: 2 }));
      ws.close(1013);
    },
  });
  const c = client(t, gw.url);
  const failure = c.next("failure");
  const reconnecting = c.next("reconnecting");
  await c.start();
  const err = await failure;
  assert.equal(err.code, "unavailable");
  assert.equal(err.retryAfter, 2);
  assert.equal(err.known, true);
  const r = await reconnecting;
  assert.equal(r.code, 1013);
  assert.ok(r.delayMs >= 2000 && r.delayMs < 2500, `delay ${r.delayMs}`);
});

test("bad frames are reported and ignored; the connection carries on", async (t) => {
  const gw = await gateway(t, {
    onSocket: (ws) => {
      ws.send(welcome());
      ws.send("not json");
      ws.send("[1,2]");
      ws.send('{"type":5}');
      ws.send("null");
      ws.send(Buffer.from([1, 2, 3]), { binary: true });
      ws.send('{"type":"teleport","to":"mars"}');
      ws.send(JSON.stringify({ type: "stock", total: 1, left: 0, held: 1, sold: 0, all_held: true, new_field: 1 }));
    },
  });
  const c = client(t, gw.url);
  const errors = [];
  const unknown = [];
  c.on("protocol_error", (e) => errors.push(e.frame));
  c.on("unknown", (m) => unknown.push(m.type));
  const stock = c.next("stock");
  await c.start();
  assert.equal((await stock).all_held, true);
  assert.deepEqual(errors, ["not json", "[1,2]", '{"type":5}', "null", "[binary frame]"]);
  assert.deepEqual(unknown, ["teleport"]);
  assert.equal(c.state, "open");
});

test("a pow challenge is solved before joining, and again for a fresh one", async (t) => {
  const challenge = "ARAAAAGiHDuigD9PTYAqq_3tuQXm8RxLTOk.7qnE9IiavYhwBRoGKbp4peHY3GQThaRqBEcuvaaOcJE";
  const joins = [];
  const gw = await gateway(t, {
    onSocket: (ws) => {
      const w = JSON.parse(welcome());
      w.pow = { challenge: "stale", difficulty: 1 };
      ws.send(JSON.stringify(w));
      ws.on("message", (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type !== "join") return;
        joins.push(m.pow);
        if (joins.length === 1) {
          ws.send(JSON.stringify({ type: "error", code: "pow_expired", message: "old", pow: { challenge, difficulty: 16 } }));
        } else {
          ws.send(JSON.stringify({ type: "position", position: 1, ahead: 0, waiting: 1 }));
        }
      });
    },
  });
  const c = client(t, gw.url);
  const position = c.next("position");
  c.on("welcome", () => c.join());
  await c.start();
  await position;
  assert.equal(joins[0].challenge, "stale");
  assert.deepEqual(joins[1], { challenge, solution: "11617" });
});

test("a blocked WebSocket falls back to the event stream and posts its messages", async (t) => {
  const posts = [];
  let stream;
  const gw = await gateway(t, {
    refuseUpgrade: true,
    onSocket: () => assert.fail("no socket should open"),
    onEvents: (req, res) => {
      const url = new URL(req.url, "http://x");
      if (req.method === "GET") {
        assert.equal(url.searchParams.get("session"), "tok-1");
        assert.match(url.searchParams.get("stream"), /^[A-Za-z0-9_-]{24}$/);
        res.writeHead(200, { "Content-Type": "text/event-stream" });
        res.write(`data: ${welcome()}\n\n: heartbeat\n\n`);
        stream = res;
        return;
      }
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        posts.push({ auth: req.headers.authorization, msg: JSON.parse(body) });
        res.writeHead(204).end();
        if (JSON.parse(body).type === "join") {
          stream.write(`data: ${JSON.stringify({ type: "position", position: 7, ahead: 6, waiting: 7 })}\n\n`);
          stream.write(`event: close\ndata: {"code":4004,"reason":"sale not found"}\n\n`);
        }
      });
    },
  });
  const c = client(t, gw.url);
  const fallback = c.next("fallback");
  const position = c.next("position");
  const closed = c.next("closed");
  c.on("welcome", () => c.join());
  await c.start();
  await fallback;
  assert.equal((await position).position, 7);
  assert.equal((await closed).code, 4004, "the stream's close acts as a socket's");
  assert.equal(c.transport, null);
  const join = posts.find((p) => p.msg.type === "join");
  assert.equal(join.auth, "Bearer tok-1");
});

test("the client pings while waiting and replaces a connection that went silent", async (t) => {
  let pings = 0;
  const gw = await gateway(t, {
    onSocket: (ws, _url, n) => {
      ws.send(welcome());
      ws.on("message", (raw) => JSON.parse(raw.toString()).type === "ping" && pings++);
      if (n > 1) ws.send(JSON.stringify({ type: "pong" }));
    },
  });
  const c = client(t, gw.url, { keepaliveMs: 40, deadAfterMs: 400 });
  const reconnecting = c.next("reconnecting");
  await c.start();
  const r = await reconnecting;
  assert.equal(r.code, 1006);
  assert.match(r.reason, /nothing heard/);
  assert.ok(pings >= 3, `${pings} pings`);
});

test("a WebSocket upgrade left unanswered falls back to the event stream after the open timeout", async (t) => {
  const gw = await gateway(t, {
    holdUpgrade: true,
    onSocket: () => assert.fail("no socket should open"),
    onEvents: (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(`data: ${welcome()}\n\n`);
    },
  });
  const c = client(t, gw.url, { openTimeoutMs: 200 });
  const fallback = c.next("fallback");
  const welcomed = c.next("welcome");
  await c.start();
  assert.match((await fallback).reason, /did not open in time/);
  await welcomed;
  assert.equal(c.transport, "events");
});

test("a stream refused as blocked stops the client with the typed error", async (t) => {
  const gw = await gateway(t, {
    onSocket: () => assert.fail("no socket"),
    onEvents: (_req, res) => {
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "blocked", message: "blocked" } }));
    },
  });
  const c = client(t, gw.url, { transport: "events" });
  const closed = c.next("closed");
  await c.start();
  const { error } = await closed;
  assert.equal(error.code, "blocked");
  assert.equal(error.status, 403);
});

test("a stream refused as busy waits its Retry-After before the next try", async (t) => {
  let tries = 0;
  const gw = await gateway(t, {
    onSocket: () => assert.fail("no socket"),
    onEvents: (_req, res) => {
      tries++;
      res.writeHead(503, { "Content-Type": "application/json", "Retry-After": "3" });
      res.end(JSON.stringify({ error: { code: "busy", message: "at the ceiling" } }));
    },
  });
  const c = client(t, gw.url, { transport: "events" });
  const failure = c.next("failure");
  const reconnecting = c.next("reconnecting");
  await c.start();
  assert.equal((await failure).code, "busy");
  const r = await reconnecting;
  assert.ok(r.delayMs >= 3000, `delay ${r.delayMs}`);
  assert.equal(tries, 1);
});

test("a join asked before the connection opens is sent after the welcome", async (t) => {
  const order = [];
  const gw = await gateway(t, {
    onSocket: (ws) => {
      order.push("welcome");
      ws.send(welcome());
      ws.on("message", (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type === "join") order.push("join") && ws.send(JSON.stringify({ type: "position", position: 1, ahead: 0, waiting: 1 }));
      });
    },
  });
  const c = client(t, gw.url);
  const position = c.next("position");
  c.join();
  await c.start();
  await position;
  assert.deepEqual(order, ["welcome", "join"]);
});

test("while it waits the client sends nothing but its pings, and asks nothing over HTTP", async (t) => {
  const sent = [];
  let httpAfterSession = 0;
  const gw = await gateway(t, {
    onSocket: (ws) => {
      ws.send(welcome());
      ws.on("message", (raw) => {
        const m = JSON.parse(raw.toString());
        sent.push(m.type);
        if (m.type === "time") ws.send(JSON.stringify({ type: "time", client_time: m.client_time, server_time: m.client_time }));
        if (m.type === "join") ws.send(JSON.stringify({ type: "position", position: 4, ahead: 3, waiting: 9 }));
        if (m.type === "ping") ws.send(JSON.stringify({ type: "pong" }));
      });
    },
    onHttp: (_req, res) => { httpAfterSession++; res.writeHead(404).end(); },
  });
  const c = client(t, gw.url, { keepaliveMs: 30, deadAfterMs: 2000 });
  const placed = c.next("position");
  let times = 0;
  const synced = new Promise((resolve) => c.on("time", () => ++times === 5 && resolve()));
  c.on("welcome", () => c.join());
  await c.start();
  await Promise.all([placed, synced]);
  const waitingFrom = sent.length;
  // Ten keepalive periods of waiting, counted by the pongs the client hears.
  for (let i = 0; i < 10; i++) await c.next("pong");
  const whileWaiting = sent.slice(waitingFrom);
  assert.ok(whileWaiting.length >= 10, `${whileWaiting.length} frames in ten keepalive periods`);
  assert.deepEqual([...new Set(whileWaiting)], ["ping"], `sent while waiting: ${whileWaiting.join(", ")}`);
  assert.equal(gw.sessions(), 1, "one session");
  assert.equal(httpAfterSession, 0, "no HTTP request beside the session: the client never polls");
});

test("a checkout over the socket settles with its order, its refusal in reply, or no answer", async (t) => {
  const admitted = (id) => ({ type: "admitted", reservation_id: id, token: `tok-${id}`, checkout: "foyer", checkout_url: "http://x/checkout" });
  const sent = [];
  const gw = await gateway(t, {
    onSocket: (ws) => {
      ws.send(welcome());
      ws.on("message", (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type !== "checkout") return;
        sent.push(m);
        if (m.token === "tok-r_ok") {
          // News of another reservation first: not the answer.
          ws.send(JSON.stringify({ type: "order", reservation_id: "r_other", status: "paid" }));
          ws.send(JSON.stringify({ type: "order", reservation_id: "r_ok", status: "confirmed", quantity: 2 }));
        } else if (m.token === "tok-r_gone") {
          ws.send(JSON.stringify({ type: "error", code: "reservation_expired", message: "expired", in_reply_to: "checkout" }));
        } // tok-r_silent: dropped unanswered, as a refusal past the budget is
      });
    },
  });
  const c = client(t, gw.url, { checkoutTimeoutMs: 300 });
  const failures = [];
  c.on("failure", (e) => failures.push(e.code));
  const welcomed = c.next("welcome");
  await c.start();
  await welcomed;

  const ok = await c.checkout(admitted("r_ok"), { over: "socket", quantity: 2 });
  assert.deepEqual(ok, { reservation_id: "r_ok", status: "confirmed", quantity: 2, product: undefined, replayed: false });
  assert.deepEqual(sent[0], { type: "checkout", token: "tok-r_ok", quantity: 2 });

  await assert.rejects(c.checkout(admitted("r_gone"), { over: "socket" }), (e) => e.code === "reservation_expired");
  assert.deepEqual(failures, [], "a checkout's refusal is its promise's, not the connection's failure");

  await assert.rejects(c.checkout(admitted("r_silent"), { over: "socket" }), (e) => e.code === "network");
  assert.equal(sent.length, 3);
});
