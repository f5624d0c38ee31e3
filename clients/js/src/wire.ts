// The two ways a connection runs (docs/protocol.md): a WebSocket, or, where
// WebSockets are blocked, the HTTP fallback: server-sent events read from a
// fetch stream (browsers, Node and React Native alike: the last two lack
// EventSource) and one POST per client message. Both end exactly once, with
// a close code a client acts on alike.
import { errorFromResponse, type FoyerError } from "./errors.js";
import type { FetchLike } from "./http.js";
import { SUBPROTOCOL, type ClientMessage } from "./protocol.gen.js";

/** The close code of a connection that ended without a close frame: the network. */
export const ABNORMAL_CLOSURE = 1006;

/** What a wire tells its owner. onClose comes once, last. */
export interface WireHandlers {
  onOpen(): void;
  onFrame(text: string): void;
  /** The server refused the connection over HTTP (its status and error), before any message. */
  onRefused(err: FoyerError): void;
  /** A POSTed message was refused with an HTTP error (the fallback only). */
  onPostError(err: FoyerError): void;
  onClose(code: number, reason: string): void;
}

export interface Wire {
  readonly kind: "websocket" | "events";
  send(msg: ClientMessage): void;
  /** Closes the connection; onClose is not called after this. */
  close(code?: number): void;
}

/** The part of the WebSocket API the client uses: browsers', React Native's and the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

const OPEN = 1;

export function openWebSocket(Ctor: WebSocketConstructor, url: string, h: WireHandlers): Wire {
  let done = false;
  const finish = (code: number, reason: string) => {
    if (done) return;
    done = true;
    h.onClose(code, reason);
  };
  let ws: WebSocketLike;
  try {
    ws = new Ctor(url, [SUBPROTOCOL]);
  } catch (err) {
    // A policy or a bad URL refused it synchronously: a failure like the network's.
    queueMicrotask(() => finish(ABNORMAL_CLOSURE, String(err)));
    return { kind: "websocket", send() {}, close() { done = true; } };
  }
  let opened = false;
  ws.onopen = () => {
    opened = true;
    if (!done) h.onOpen();
  };
  ws.onmessage = (ev) => {
    if (done) return;
    // Every protocol message is a text frame; a binary one goes on as it is
    // and fails parsing, reported, never a crash.
    h.onFrame(typeof ev.data === "string" ? ev.data : "[binary frame]");
  };
  ws.onerror = () => {
    // After opening, the close that follows says what happened. Before, an
    // error is a socket that will not open, and may be all there is: a
    // policy that blocks WebSockets fires an error and no close.
    if (opened || done) return;
    finish(ABNORMAL_CLOSURE, "the WebSocket failed before opening");
    try {
      ws.close();
    } catch {
      // Still connecting: dropped all the same.
    }
  };
  ws.onclose = (ev) => finish(ev.code || ABNORMAL_CLOSURE, ev.reason ?? "");
  return {
    kind: "websocket",
    send(msg) {
      if (!done && ws.readyState === OPEN) ws.send(JSON.stringify(msg));
    },
    close(code = 1000) {
      done = true;
      try {
        ws.close(code);
      } catch {
        // Closing a socket still connecting throws in some runtimes; it is dropped all the same.
      }
    },
  };
}

/** A random stream key: 24 base64url characters, as the page uses. */
export function newStreamKey(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const bytes = new Uint8Array(24);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => alphabet[b & 63]).join("");
}

/**
 * openEventStream opens the HTTP fallback: streamUrl answers server-sent
 * events, postUrl takes the client's messages with the session token.
 */
export function openEventStream(doFetch: FetchLike, streamUrl: string, postUrl: string, sessionToken: () => string, h: WireHandlers): Wire {
  const abort = new AbortController();
  let done = false;
  const finish = (code: number, reason: string) => {
    if (done) return;
    done = true;
    abort.abort();
    h.onClose(code, reason);
  };
  // POSTs go one at a time, so the server answers them in the order sent.
  let queue: Promise<void> = Promise.resolve();

  (async () => {
    const res = await doFetch(streamUrl, { headers: { Accept: "text/event-stream" }, signal: abort.signal });
    if (res.status !== 200 || !res.body) {
      if (!done) h.onRefused(await errorFromResponse(res, "open the event stream"));
      return finish(ABNORMAL_CLOSURE, `HTTP ${res.status}`);
    }
    h.onOpen();
    const closed = await readEvents(res.body, (event, data) => {
      if (done) return true;
      if (event === "close") {
        let code = ABNORMAL_CLOSURE;
        let reason = "";
        try {
          const c = JSON.parse(data) as { code?: unknown; reason?: unknown };
          if (typeof c.code === "number") code = c.code;
          if (typeof c.reason === "string") reason = c.reason;
        } catch {
          // A close we cannot read is a failure like the network's.
        }
        finish(code, reason);
        return true;
      }
      if (event === "" || event === "message") h.onFrame(data);
      return false;
    });
    if (!closed) finish(ABNORMAL_CLOSURE, "the stream ended without a close");
  })().catch((err: unknown) => finish(ABNORMAL_CLOSURE, String(err)));

  return {
    kind: "events",
    send(msg) {
      if (done) return;
      queue = queue.then(async () => {
        if (done) return;
        try {
          const res = await doFetch(postUrl, {
            method: "POST",
            headers: { "Content-Type": "application/json", Authorization: `Bearer ${sessionToken()}` },
            body: JSON.stringify(msg),
          });
          if (res.status === 204) return;
          const err = await errorFromResponse(res, `send ${msg.type}`);
          // The node no longer holds the stream: open a new one.
          if (err.code === "stream_unknown") return finish(ABNORMAL_CLOSURE, err.message);
          h.onPostError(err);
        } catch (err) {
          finish(ABNORMAL_CLOSURE, String(err));
        }
      });
    },
    close() {
      done = true;
      abort.abort();
    },
  };
}

/**
 * The part of a fetch response's body readEvents reads: a WHATWG
 * ReadableStream of bytes. Named here rather than as ReadableStream because
 * React Native's types declare fetch but no ReadableStream: the public
 * declarations must compile in an app without the DOM's types.
 */
export interface ByteStream {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(): Promise<void>;
  };
}

/**
 * readEvents parses a text/event-stream body, calling onEvent per event
 * (its name, "" when none, and its data); onEvent returns true to stop.
 * It reports whether onEvent stopped it.
 */
export async function readEvents(body: ByteStream, onEvent: (event: string, data: string) => boolean): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (data.length > 0 && onEvent(event, data.join("\n"))) return true;
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue; // a comment: the heartbeat
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
