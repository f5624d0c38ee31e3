// What a browser page asks of the client beyond the protocol's walk (Foyer's
// own shopper page is built on it): proof of work it can show and a worker
// of its own origin, a socket a policy blocks, sessions that are busy, the
// network coming back, the clock before its first answer, a lost place left
// to the page, and a checkout URL the browser cannot reach.
import assert from "node:assert/strict";
import { test } from "node:test";

import { servePowInWorker, solvePowWith } from "../../dist/esm/index.js";
import { client, gateway, welcome } from "./gateway.mjs";

// The worked example of docs/protocol.md: Go's pow.Solve finds 11617.
const challenge = "ARAAAAGiHDuigD9PTYAqq_3tuQXm8RxLTOk.7qnE9IiavYhwBRoGKbp4peHY3GQThaRqBEcuvaaOcJE";

test("solving tells its progress, and one fresh challenge is solved but a second refusal is the app's", async (t) => {
  const joins = [];
  const gw = await gateway(t, {
    onSocket: (ws) => {
      const w = JSON.parse(welcome());
      w.pow = { challenge, difficulty: 16 };
      ws.send(JSON.stringify(w));
      ws.on("message", (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type !== "join") return;
        joins.push(m.pow);
        ws.send(JSON.stringify({ type: "error", code: "pow_invalid", message: "wrong", pow: { challenge, difficulty: 16 } }));
      });
    },
  });
  const c = client(t, gw.url);
  const pow = [];
  c.on("pow", (p) => pow.push(p));
  const failures = [];
  c.on("failure", (e) => failures.push(e.code));
  const refused = new Promise((resolve) => c.on("error", (e) => joins.length === 2 && resolve(e)));
  c.on("welcome", () => c.join());
  await c.start();
  await refused;
  assert.deepEqual(joins, [{ challenge, solution: "11617" }, { challenge, solution: "11617" }], "solved again once, not a third time");
  assert.deepEqual(failures, ["pow_invalid"], "the answered refusal is not a failure; the second is");
  const progress = pow.filter((p) => p.state === "solving" && p.tried > 0);
  assert.ok(progress.length >= 20, `${progress.length} progress reports for ~11,600 hashes in batches of 512`);
  assert.ok(progress.every((p, i) => i === 0 || p.tried > progress[i - 1].tried || p.tried === 512), "tried grows within a solve");
  assert.deepEqual(pow.filter((p) => p.state === "solved").map((p) => [p.tried, p.expected, p.by]), [[11618, 65536, "thread"], [11618, 65536, "thread"]]);
});

test("a worker script of the page's own origin answers as the Blob worker does, progress first", async () => {
  const posted = [];
  const scope = { onmessage: null, postMessage: (m) => posted.push(m) };
  servePowInWorker(scope);
  await scope.onmessage({ data: { challenge, difficulty: 16 } });
  assert.deepEqual(posted.at(-1), { solution: "11617" });
  assert.deepEqual(posted[0], { progress: 512 });
  await scope.onmessage({ data: { challenge, difficulty: 40 } });
  assert.match(posted.at(-1).error, /outside 0\.\.32/);
  // Where the platform has no Worker (Node), the work is done on this thread, and says so.
  assert.deepEqual(await solvePowWith(challenge, 16, { workerUrl: "/pow-worker.js" }), { solution: "11617", by: "thread" });
});

test("a WebSocket that errs before opening and never closes falls back at once", async (t) => {
  const gw = await gateway(t, {
    onSocket: () => assert.fail("no socket"),
    onEvents: (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(`data: ${welcome()}\n\n`);
    },
  });
  // As chromium does for a socket its Content-Security-Policy blocks: an error, no close.
  class PolicyBlocked {
    constructor() {
      this.readyState = 0;
      setTimeout(() => this.onerror?.({ type: "error" }), 5);
    }
    send() {}
    close() {
      this.readyState = 3;
    }
  }
  const c = client(t, gw.url, { WebSocket: PolicyBlocked, openTimeoutMs: 60_000 });
  const fallback = c.next("fallback");
  const welcomed = c.next("welcome");
  await c.start();
  assert.match((await fallback).reason, /failed before opening/);
  await welcomed;
  assert.equal(c.transport, "events");
});

test("a session the server is too busy to make is asked for again; one refused for good stops the client", async (t) => {
  const gw = await gateway(t, {
    onSessions: (_req, res, n) => {
      if (n > 1) return false;
      res.writeHead(429, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "rate_limited", message: "slow down" } }));
      return true;
    },
    onSocket: (ws) => ws.send(welcome()),
  });
  const c = client(t, gw.url);
  const failure = c.next("failure");
  const reconnecting = c.next("reconnecting");
  const welcomed = c.next("welcome");
  await c.start();
  assert.equal((await failure).code, "rate_limited");
  assert.match((await reconnecting).reason, /could not make a session/);
  await welcomed;
  assert.equal(c.currentSession.token, "tok-2");

  const refusing = await gateway(t, {
    onSessions: (_req, res) => {
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "blocked", message: "no" } }));
      return true;
    },
  });
  const d = client(t, refusing.url);
  const closed = d.next("closed");
  await assert.rejects(d.start(), (e) => e.code === "blocked");
  assert.equal((await closed).error.code, "blocked");
});

test("reconnectNow cuts a backoff short, but not a wait the server asked for", async (t) => {
  let sockets = 0;
  const gw = await gateway(t, {
    onSocket: (ws, _url, n) => {
      sockets = n;
      if (n === 1) return ws.close(1011, "internal");
      if (n === 2) {
        ws.send(JSON.stringify({ type: "error", code: "busy", message: "full", retry_after: 60 }));
        return ws.close(1013, "try again later");
      }
      ws.send(welcome());
    },
  });
  const c = client(t, gw.url, { backoff: { minMs: 120_000, maxMs: 120_000, random: () => 0.99 } });
  const first = c.next("reconnecting");
  await c.start();
  assert.ok((await first).delayMs > 100_000);
  const second = c.next("reconnecting");
  c.reconnectNow();
  assert.ok((await second).delayMs >= 60_000, "busy's retry_after");
  c.reconnectNow();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sockets, 2, "the server's wait is kept");
});

test("the welcome's server time sets the clock until the first time answer", async (t) => {
  const gw = await gateway(t, { onSocket: (ws) => ws.send(welcome()) }); // never answers time
  const c = client(t, gw.url);
  const welcomed = c.next("welcome");
  await c.start();
  await welcomed;
  const ahead = c.serverNow() - Date.now();
  assert.ok(Math.abs(ahead - 5000) < 200, `the server's clock read ${ahead} ms ahead, want about 5000`);
});

test("with rejoinAfterNewSession off, a place lost with its session is left to the app", async (t) => {
  const joins = [];
  const gw = await gateway(t, {
    onSocket: (ws, _url, n) => {
      ws.send(welcome(`v_${n}`));
      ws.on("message", (raw) => {
        if (JSON.parse(raw.toString()).type !== "join") return;
        joins.push(n);
        ws.close(4001, "session invalid");
      });
    },
  });
  const c = client(t, gw.url, { rejoinAfterNewSession: false });
  c.on("welcome", () => joins.length === 0 && c.join());
  await c.start();
  await c.next("session").then(() => c.next("welcome"));
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(joins, [1], "no join on the new session");
});

test("a checkout URL the client cannot reach is tried at baseUrl, with the same Idempotency-Key", async (t) => {
  const posts = [];
  const gw = await gateway(t, {
    onSocket: () => {},
    onHttp: (req, res) => {
      posts.push({ url: req.url, key: req.headers["idempotency-key"] });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ reservation_id: "r_1", status: "confirmed", quantity: 1 }));
    },
  });
  const c = client(t, gw.url);
  const admitted = { type: "admitted", reservation_id: "r_1", token: "t", expires_at: "", checkout: "foyer",
    checkout_url: "http://127.0.0.1:1/v1/sales/s_1/checkout" }; // port 1: nothing listens
  const r = await c.checkout(admitted, { idempotencyKey: "r_1" });
  assert.equal(r.status, "confirmed");
  assert.deepEqual(posts, [{ url: "/v1/sales/s_1/checkout", key: "r_1" }]);
});
