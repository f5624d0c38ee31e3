// The live feed: the foyer.admin.v1 WebSocket that pushes every sale's
// numbers each second. It reconnects with backoff, and a socket that stays
// quiet is taken for dead. What a push means is the handlers' business
// (wireLive); this module only keeps the socket alive.

import { S } from "./state.js";
import { $, setText } from "./dom.js";

const SILENT_LIMIT = 6000; // an open socket this quiet is dead (the server pushes every second)

let ws = null, attempt = 0, retryTimer = 0, lastPush = 0;
let on = { stats() {}, refused() {}, tick() {} };

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

export function connectLive() {
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
      on.stats(m);
    }
  };
  sock.onclose = (e) => {
    if (ws !== sock) return;
    ws = null;
    if (e.code === 4001) {
      on.refused(e.reason || "the admin token was refused (4001)");
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

export function stopLive() {
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

// wireLive sets what a push (stats), a refused token (refused, with the
// close reason) and each second while signed in (tick) do, and starts the
// watchdog: an open socket that says nothing is dead.
export function wireLive(handlers) {
  on = handlers;
  setConn("offline");
  setInterval(() => {
    if (!S.token) return;
    if (ws && Date.now() - lastPush > SILENT_LIMIT) {
      const sock = ws;
      ws = null;
      try { sock.close(); } catch { /* ignore */ }
      scheduleReconnect();
    }
    on.tick();
  }, 1000);
}
