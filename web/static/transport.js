// The shopper page's connection to a sale: a WebSocket where the network lets
// one through, else the HTTP fallback (docs/protocol.md, "The HTTP fallback"):
// the server's messages as server-sent events (EventSource), the page's as
// POSTs. Both speak the same protocol with the same close codes, behind the
// interface of a WebSocket the page already uses (onopen, onmessage, onclose,
// onerror, send, close, readyState, protocol), so the page does not know which
// it has.
//
//   const sock = openTransport(url, ["foyer.v1"]); // url: the sale's ws(s):// URL
"use strict";

(function () {
  const CONNECTING = 0, OPEN = 1, CLOSED = 3;
  // OPEN_TIMEOUT: a WebSocket not open after this long is taken for blocked
  // too: some proxies neither refuse an upgrade nor answer it.
  const OPEN_TIMEOUT = 8000;
  // preferEvents: a WebSocket failed to open here and the fallback then
  // opened, so this network blocks WebSockets: the page's next connections
  // go straight to the fallback rather than wait for a socket to fail again.
  let preferEvents = false;

  // streamKey is a new random key for an event stream (16 to 64 of
  // A-Z a-z 0-9 - _): the server and a load balancer find the stream by it.
  function streamKey() {
    const bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // EventsSocket is one connection over the fallback. url is the sale's
  // WebSocket URL: the stream is the same path's /events, with the same query
  // (session, join...).
  class EventsSocket {
    constructor(url, protocols) {
      const u = new URL(url, location.href);
      u.protocol = u.protocol === "wss:" ? "https:" : u.protocol === "ws:" ? "http:" : u.protocol;
      u.pathname = u.pathname.replace(/\/ws$/, "/events");
      const key = streamKey();
      u.searchParams.set("stream", key);
      const session = u.searchParams.get("session");
      this.token = session && session !== "new" ? session : ""; // a session=new stream learns it from its welcome
      this.postURL = `${u.origin}${u.pathname}?stream=${encodeURIComponent(key)}`;
      this.url = url;
      this.protocol = "";
      this.readyState = CONNECTING;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      this.posting = Promise.resolve(); // posts leave one after another, so they are answered in order
      const es = new EventSource(u.toString());
      this.es = es;
      es.onopen = () => {
        if (this.readyState !== CONNECTING) return;
        this.readyState = OPEN;
        this.protocol = (protocols || []).includes("foyer.v1") ? "foyer.v1" : "";
        fire(this.onopen, { type: "open" });
      };
      es.onmessage = (e) => {
        if (this.readyState !== OPEN) return;
        this.learnSession(e.data);
        fire(this.onmessage, { type: "message", data: e.data });
      };
      // The server's close code, as a WebSocket's close frame carries it.
      es.addEventListener("close", (e) => {
        let c = {};
        try { c = JSON.parse(e.data); } catch { /* a close all the same */ }
        this.finish(c.code || 1005, c.reason || "", true);
      });
      // EventSource would reconnect on its own: the page decides when and how
      // (its session, its backoff), as it does for a socket that dropped.
      es.onerror = () => {
        fire(this.onerror, { type: "error" });
        this.finish(1006, "", false);
      };
    }

    learnSession(data) {
      if (this.token || data.indexOf('"welcome"') < 0) return;
      try {
        const m = JSON.parse(data);
        if (m.type === "welcome" && m.you && m.you.session) this.token = m.you.session.token;
      } catch { /* the page reads it anyway */ }
    }

    send(data) {
      if (this.readyState === CONNECTING) throw new DOMException("still connecting", "InvalidStateError");
      if (this.readyState !== OPEN) return;
      this.posting = this.posting.then(() => this.post(data));
    }

    // post sends one message. A message the server refused (bad_message,
    // rate_limited...) comes back to the page as the error message a socket
    // would have carried; a stream the server no longer holds has ended.
    async post(data) {
      if (this.readyState !== OPEN) return;
      let res;
      try {
        res = await fetch(this.postURL, {
          method: "POST", body: data, cache: "no-store",
          headers: { "Content-Type": "application/json", "Authorization": `Bearer ${this.token}` },
        });
      } catch {
        return this.finish(1006, "", false); // the network: the stream is likely gone too
      }
      if (res.ok) return;
      let body = {};
      try { body = await res.json(); } catch { /* no body */ }
      const err = body.error || { code: "internal", message: `HTTP ${res.status}` };
      if (err.code === "stream_unknown") return this.finish(1006, err.code, false);
      if (this.readyState !== OPEN) return;
      const msg = { type: "error", code: err.code, message: err.message };
      const after = Number(res.headers.get("Retry-After"));
      if (after > 0) msg.retry_after = after;
      fire(this.onmessage, { type: "message", data: JSON.stringify(msg) });
    }

    close(code, reason) {
      this.finish(code || 1005, reason || "", true);
    }

    finish(code, reason, wasClean) {
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      this.es.close();
      // Like a WebSocket's, the close event comes after the call that caused it.
      setTimeout(() => fire(this.onclose, { type: "close", code, reason, wasClean }), 0);
    }
  }

  // Fallback is a WebSocket that, if it fails to open, becomes an
  // EventsSocket to the same URL: the page's handlers move with it. A socket
  // fails to open when it errs or closes before it opens (a proxy that
  // refuses the upgrade; a policy, which may fire an error and no close), or
  // has not opened within OPEN_TIMEOUT (a proxy that holds it unanswered).
  class Fallback {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      this.closed = false; // the page closed it
      let ws = null;
      try {
        ws = new WebSocket(url, protocols);
      } catch {
        // A WebSocket refused outright (a policy, a missing API).
      }
      if (!ws) {
        this.attach(new EventsSocket(url, protocols));
        return;
      }
      this.socket = ws;
      this.inner = ws;
      ws.onopen = (e) => {
        clearTimeout(this.timer);
        this.socket = null; // it opened: from now on its errors and closes are the page's
        this.attach(ws);
        fire(this.onopen, e);
      };
      ws.onerror = () => this.giveUp();
      ws.onclose = () => this.giveUp();
      this.timer = setTimeout(() => this.giveUp(), OPEN_TIMEOUT);
    }

    get readyState() { return this.inner.readyState; }
    get protocol() { return this.inner.protocol; }
    send(data) { this.inner.send(data); }
    close(code, reason) {
      this.closed = true;
      clearTimeout(this.timer);
      if (this.socket) { // still trying the socket: the page's close ends it, and is told as a close
        const ws = this.socket;
        this.socket = null;
        ws.onopen = ws.onerror = ws.onclose = null;
        ws.close();
        setTimeout(() => fire(this.onclose, { type: "close", code: code || 1005, reason: reason || "", wasClean: true }), 0);
        return;
      }
      this.inner.close(code, reason);
    }

    // giveUp drops a socket that failed to open, once, and opens the
    // fallback in its place.
    giveUp() {
      const ws = this.socket;
      if (!ws || this.closed) return;
      this.socket = null;
      clearTimeout(this.timer);
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try { ws.close(); } catch { /* closed already */ }
      this.attach(new EventsSocket(this.url, this.protocols));
    }

    // attach forwards an open socket's, or the fallback's, events to the
    // page's handlers.
    attach(inner) {
      this.inner = inner;
      if (inner instanceof EventsSocket) {
        inner.onopen = (e) => {
          preferEvents = true;
          fire(this.onopen, e);
        };
      }
      inner.onmessage = (e) => fire(this.onmessage, e);
      inner.onerror = (e) => fire(this.onerror, e);
      inner.onclose = (e) => fire(this.onclose, e);
    }
  }

  function fire(handler, event) {
    if (typeof handler === "function") handler(event);
  }

  // openTransport opens the sale's connection: a WebSocket first, the
  // fallback when it fails to open or this page found WebSockets blocked.
  window.openTransport = function openTransport(url, protocols) {
    if (preferEvents || typeof WebSocket !== "function") return new EventsSocket(url, protocols);
    return new Fallback(url, protocols);
  };
})();
