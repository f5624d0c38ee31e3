// A scripted gateway for the client's unit tests: a real HTTP server and
// real WebSockets (the `ws` package), each test saying what the server sends
// and how it closes, as internal/shopperclient's fakegateway_test.go.
import { createServer } from "node:http";

import WebSocket, { WebSocketServer } from "ws";

import { FoyerClient } from "../../dist/esm/index.js";

export const welcome = (shopper = "v_1") =>
  JSON.stringify({
    type: "welcome", protocol: 1, server_time: Date.now() + 5000,
    sale: { id: "s_1", name: "n", price_cents: 1, currency: "EUR", state: "open", starts_at: "2026-11-27T09:00:00Z",
      ends_at: "2026-11-27T10:00:00Z", stock: { total: 1, left: 1, held: 0, sold: 0 }, waiting: 0, prequeue_at: "2026-11-27T08:00:00Z" },
    you: { shopper_id: shopper },
  });

/** gateway starts a scripted server; onSocket(ws, url, n) plays each connection, n from 1. */
export async function gateway(t, { onSocket, refuseUpgrade = false, holdUpgrade = false, onEvents, onSessions, onHttp }) {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has("foyer.v1") ? "foyer.v1" : false) });
  let sessions = 0;
  let sockets = 0;
  const server = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/v1/sessions") {
      sessions++;
      if (onSessions && onSessions(req, res, sessions)) return; // answered by the test
      res.writeHead(201, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ shopper_id: `v_${sessions}`, token: `tok-${sessions}`, expires_at: "2026-11-28T00:00:00Z" }));
    }
    if (req.url.includes("/events") && onEvents) return onEvents(req, res);
    if (onHttp) return onHttp(req, res);
    res.writeHead(404).end();
  });
  server.on("upgrade", (req, socket, head) => {
    if (holdUpgrade) return; // a proxy that never answers the upgrade
    if (refuseUpgrade) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, new URL(req.url, "http://x"), ++sockets));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${server.address().port}`, sessions: () => sessions };
}

export function client(t, url, extra = {}) {
  const c = new FoyerClient({ baseUrl: url, saleId: "s_1", WebSocket, backoff: { random: () => 0 }, ...extra });
  t.after(() => c.close());
  return c;
}

