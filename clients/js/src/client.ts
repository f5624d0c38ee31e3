// FoyerClient: one shopper's connection to one sale, kept alive across node
// failures, network loss and blocked WebSockets (docs/protocol.md;
// internal/shopperclient is the reference behaviour).
import { ClockSync, CLOCK_SAMPLES, CLOCK_SPACING_MS, countdown, type Countdown } from "./clock.js";
import { FoyerClosedError, FoyerError, FoyerProtocolError } from "./errors.js";
import { Emitter, type ClientEvents, type ConnectionState } from "./events.js";
import { checkoutFrom, createSession, type CheckoutResult, type FetchLike, type Session } from "./http.js";
import type { FoyerClientOptions } from "./options.js";
import { solvePowWith, type PowSolved } from "./pow.js";
import { SERVER_MESSAGE_TYPES, type AdmittedMessage, type ClientMessage, type PowChallenge, type ServerMessage } from "./protocol.gen.js";
import { reconnectDelay, recoveryFor } from "./recovery.js";
import { ABNORMAL_CLOSURE, newStreamKey, openEventStream, openWebSocket, type WebSocketConstructor, type Wire } from "./wire.js";

export type { FoyerClientOptions } from "./options.js";

/** A session request that failed for a passing reason (the network, busy, rate_limited, a 5xx) is tried again. */
const passingSessionFailure = (err: FoyerError) => err.status === undefined || err.status === 429 || err.status >= 500;

/**
 * A shopper's client for one sale. Listen with on(type, fn), then start().
 * Every server message is an event of its own type; see ClientEvents.
 */
export class FoyerClient extends Emitter<ClientEvents> {
  private readonly opts: FoyerClientOptions;
  private readonly fetch: FetchLike;
  private readonly clock = new ClockSync();
  private session?: Session;
  private wire?: Wire;
  private generation = 0;
  private connState: ConnectionState = "idle";
  private stopped = false;
  /** Connections in a row that ended without a welcome. */
  private failures = 0;
  private retryAfterMs = 0;
  private refused?: FoyerError;
  /** The current connection opened (its socket's handshake, or its stream's 200). */
  private opened = false;
  /** A message came on the current connection. */
  private heard = false;
  private lastHeard = 0;
  private useEvents: boolean;
  private eventsProven = false;
  private powChallenge?: PowChallenge;
  private joining?: { invite?: string };
  /** The current join already solved one fresh challenge a pow_* error brought: a second is the app's. */
  private powRetried = false;
  private rejoinOnWelcome = false;
  /** The reconnect waiting out its backoff, which reconnectNow cuts short. */
  private pendingRetry?: { timer: ReturnType<typeof setTimeout>; run: () => void; serverAsked: boolean };
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private keepalive?: ReturnType<typeof setInterval>;

  constructor(opts: FoyerClientOptions) {
    super();
    if (!opts.baseUrl || !opts.saleId) throw new TypeError("FoyerClient: baseUrl and saleId are required");
    this.opts = opts;
    this.session = opts.session;
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new TypeError("FoyerClient: no fetch here; pass one in the options");
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.useEvents = opts.transport === "events" || !this.webSocketCtor();
    if (opts.transport === "websocket" && !this.webSocketCtor()) throw new TypeError("FoyerClient: no WebSocket here; pass one in the options");
  }

  /** Where the connection stands. */
  get state(): ConnectionState {
    return this.connState;
  }
  /** The transport in use, once connecting. */
  get transport(): "websocket" | "events" | null {
    return this.wire?.kind ?? null;
  }
  /** The session, once made; store it to resume after a reload. */
  get currentSession(): Session | undefined {
    return this.session;
  }
  /** The server's clock now, in Unix ms (synced on every connection). */
  serverNow(): number {
    return this.clock.serverNow();
  }
  /** The time left until target on the server's clock. */
  countdown(target: string | Date | number): Countdown {
    return countdown(target, this.serverNow());
  }

  /**
   * Makes a session if there is none, then connects. A session request that
   * fails for a passing reason (the network, busy, rate_limited) is tried
   * again with the reconnect backoff, as a `failure` and a `reconnecting`;
   * one refused for good rejects, and stops the client.
   */
  async start(): Promise<void> {
    if (this.connState !== "idle") throw new Error("FoyerClient: started already");
    this.setState("connecting");
    await this.sessionThenConnect(true);
  }

  /**
   * Reconnects now if the client is waiting out its backoff: for a browser's
   * `online` event, when the network it lost is back. A wait the server asked
   * for (retry_after) is kept.
   */
  reconnectNow(): void {
    const r = this.pendingRetry;
    if (!r || r.serverAsked || this.stopped) return;
    clearTimeout(r.timer);
    this.timers.delete(r.timer);
    this.pendingRetry = undefined;
    r.run();
  }

  /**
   * Takes a place in the queue (or the prequeue). When the sale asks for proof
   * of work, the client solves it first (in a worker where there is one), and
   * again for any fresh challenge a pow_* error carries. Answers come as events.
   */
  join(opts: { invite?: string } = {}): void {
    this.joining = opts;
    this.powRetried = false;
    // Before the welcome the join would be lost (or solve a challenge the
    // welcome replaces): it goes once the connection is open.
    if (this.connState !== "open") this.rejoinOnWelcome = true;
    else void this.sendJoin();
  }
  /** Gives the place up (answered with `left`). */
  leave(): void {
    this.joining = undefined;
    this.send({ type: "leave" });
  }
  /** Asks again where the shopper stands. */
  resume(): void {
    this.send({ type: "resume" });
  }

  /**
   * Checks out an admission with Foyer's checkout: with a POST to its
   * checkout_url (pass the same idempotencyKey when retrying), or, with
   * `over: "socket"`, over the open connection (docs/protocol.md, "Checkout
   * over the socket"): an HTTP request fewer, and safe to call again after a
   * failure, the same checkout being answered with the order as it stands.
   * A sale whose checkout is the shop's is refused here (send the browser to
   * admitted.checkout_url instead).
   */
  async checkout(
    admitted: AdmittedMessage,
    opts: { quantity?: number; product?: string; idempotencyKey?: string; over?: "http" | "socket" } = {},
  ): Promise<CheckoutResult> {
    if (admitted.checkout === "shop") {
      throw new FoyerError("checkout_is_shop", "this sale checks out at the shop: open admitted.checkout_url");
    }
    if (opts.over === "socket") return this.checkoutOverSocket(admitted, opts);
    return checkoutFrom(this.opts.baseUrl, admitted.checkout_url, admitted.token, { ...opts, fetch: this.fetch });
  }

  /**
   * Sends the checkout on the open connection and settles with its answer:
   * the reservation's next order message, or an error in reply to it. A
   * connection that drops first fails it with "network": call again once
   * the client is open.
   */
  private checkoutOverSocket(admitted: AdmittedMessage, opts: { quantity?: number; product?: string }): Promise<CheckoutResult> {
    if (this.connState !== "open") {
      return Promise.reject(new FoyerError("network", "check out over the socket: not connected; try again once the client is open"));
    }
    return new Promise((resolve, reject) => {
      const offs: Array<() => void> = [];
      const settle = (fn: () => void) => {
        for (const off of offs) off();
        clearTimeout(unanswered);
        fn();
      };
      // A refusal over the connection's budget is told once a window, then
      // dropped unanswered (docs/protocol.md): no answer is a failure too.
      const unanswered = setTimeout(
        () => settle(() => reject(new FoyerError("network", "check out over the socket: no answer; check out again"))),
        this.opts.checkoutTimeoutMs ?? 15_000,
      );
      offs.push(
        this.on("order", (m) => {
          if (m.reservation_id !== admitted.reservation_id) return;
          settle(() =>
            resolve({ reservation_id: m.reservation_id, status: m.status, quantity: m.quantity ?? opts.quantity ?? 1, product: m.sku, replayed: false }),
          );
        }),
        this.on("error", (m) => {
          if (m.in_reply_to !== "checkout") return;
          settle(() => reject(new FoyerError(m.code, m.message, { retryAfter: m.retry_after })));
        }),
        this.on("connection", ({ state }) => {
          if (state === "open") return;
          settle(() => reject(new FoyerError("network", "check out over the socket: the connection closed before the answer; check out again once the client is open")));
        }),
      );
      const msg: ClientMessage = { type: "checkout", token: admitted.token };
      if (opts.quantity !== undefined) msg.quantity = opts.quantity;
      if (opts.product !== undefined) msg.product = opts.product;
      this.send(msg);
    });
  }

  /** Closes the connection for good (1000). */
  close(): void {
    this.stop(1000, "closed by the client");
  }

  // ---- connecting ----------------------------------------------------------

  private webSocketCtor(): WebSocketConstructor | undefined {
    return this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  }

  /** Makes a session when there is none, then connects; a passing failure is tried again later. */
  private async sessionThenConnect(first: boolean): Promise<void> {
    if (this.stopped) return;
    if (!this.session) {
      try {
        await this.newSession();
      } catch (caught) {
        const err = caught instanceof FoyerError ? caught : new FoyerError("network", `make a session: ${String(caught)}`);
        if (!passingSessionFailure(err)) {
          this.stop(ABNORMAL_CLOSURE, "no session", err);
          if (first) throw caught;
          return;
        }
        this.emit("failure", err);
        this.failures++;
        const retryAfterMs = (err.retryAfter ?? 0) * 1000;
        const delayMs = reconnectDelay("reconnect_later", this.failures, this.opts.backoff, retryAfterMs);
        this.setState("reconnecting");
        this.emit("reconnecting", { code: ABNORMAL_CLOSURE, reason: "could not make a session", delayMs });
        this.retryLater(delayMs, retryAfterMs > 0, () => void this.sessionThenConnect(false));
        return;
      }
    }
    this.connect();
  }

  private async newSession(): Promise<void> {
    this.session = await createSession(this.opts.baseUrl, { identity: this.opts.identity, fetch: this.fetch });
    this.emit("session", this.session);
  }

  // URLs are built as strings: React Native's URL cannot set a protocol or
  // search parameters.
  private saleUrl(path: string, query: Record<string, string>, scheme?: "ws"): string {
    let base = this.opts.baseUrl.replace(/\/+$/, "");
    if (scheme) base = base.replace(/^http/i, "ws");
    const q = Object.entries(query)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join("&");
    return `${base}/v1/sales/${encodeURIComponent(this.opts.saleId)}/${path}?${q}`;
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.heard = false;
    this.opened = false;
    this.refused = undefined;
    this.retryAfterMs = 0;
    this.setState("connecting");
    const token = this.session!.token;
    const h = {
      onOpen: () => {
        if (gen === this.generation) this.opened = true;
      },
      onFrame: (text: string) => gen === this.generation && this.onFrame(text),
      onRefused: (err: FoyerError) => {
        if (gen !== this.generation) return;
        this.refused = err;
        this.emit("failure", err);
      },
      onPostError: (err: FoyerError) => gen === this.generation && this.onError(err),
      onClose: (code: number, reason: string) => gen === this.generation && this.onClose(code, reason),
    };
    const Ctor = this.webSocketCtor();
    if (this.useEvents || !Ctor) {
      const key = newStreamKey();
      this.wire = openEventStream(
        this.fetch,
        this.saleUrl("events", { stream: key, session: token }),
        this.saleUrl("events", { stream: key }),
        () => this.session!.token,
        h,
      );
    } else {
      this.wire = openWebSocket(Ctor, this.saleUrl("ws", { session: token }, "ws"), h);
      if (this.opts.transport !== "websocket") {
        // A proxy that holds the upgrade unanswered: try the fallback.
        this.later(this.opts.openTimeoutMs ?? 8_000, () => {
          if (gen === this.generation && !this.opened) this.drop(ABNORMAL_CLOSURE, "the WebSocket did not open in time");
        });
      }
    }
    this.lastHeard = Date.now();
    this.startKeepalive(gen);
  }

  /** Replaces the current connection as if it had closed with code. */
  private drop(code: number, reason: string): void {
    this.wire?.close(4000);
    this.onClose(code, reason);
  }

  private onClose(code: number, reason: string): void {
    this.generation++; // whatever the old wire still says is stale
    this.clearTimers();
    if (this.stopped) return;
    const wasWebSocket = this.wire?.kind === "websocket";
    this.wire = undefined;
    if ((this.opts.transport ?? "auto") === "auto") {
      if (wasWebSocket && !this.opened) {
        // The socket never opened: a proxy or policy blocking WebSockets
        // looks like this (docs/protocol.md, "The HTTP fallback"). Speak the
        // fallback, at once; it sticks once a stream has carried a message.
        this.useEvents = true;
        this.emit("fallback", { reason: `${code} ${reason}`.trim() });
        this.setState("reconnecting");
        this.emit("reconnecting", { code, reason, delayMs: 0 });
        this.later(0, () => this.connect());
        return;
      }
      // Neither worked yet (the network, not a proxy): try both again.
      if (!wasWebSocket && !this.heard && !this.eventsProven && this.webSocketCtor()) this.useEvents = false;
    }
    if (this.refused?.code === "blocked") return this.stop(4003, "blocked", this.refused);
    const recovery = recoveryFor(code);
    if (recovery === "stop") {
      return this.stop(code, reason, code === 1000 ? undefined : new FoyerClosedError(code, reason));
    }
    this.failures++;
    const retryAfterMs = Math.max(this.retryAfterMs, (this.refused?.retryAfter ?? 0) * 1000);
    const delayMs = reconnectDelay(recovery, this.failures, this.opts.backoff, retryAfterMs);
    this.setState("reconnecting");
    this.emit("reconnecting", { code, reason, delayMs });
    this.retryLater(delayMs, retryAfterMs > 0, () => {
      if (recovery !== "renew_session") return this.connect();
      if (this.opts.identity) {
        // An identity token is spent on first use: the app must bring a fresh one.
        return this.stop(code, reason, new FoyerError("session_invalid", "the customer's session is no longer valid: start again with a fresh identity token"));
      }
      // The place went with the old session.
      if (this.opts.rejoinAfterNewSession ?? true) this.rejoinOnWelcome = this.joining !== undefined;
      else this.joining = undefined;
      this.session = undefined;
      void this.sessionThenConnect(false);
    });
  }

  /** Schedules the next connection attempt, which reconnectNow may bring forward. */
  private retryLater(ms: number, serverAsked: boolean, run: () => void): void {
    const timer = this.later(ms, () => {
      this.pendingRetry = undefined;
      run();
    });
    this.pendingRetry = { timer, run, serverAsked };
  }

  private stop(code: number, reason: string, error?: FoyerClosedError | FoyerError): void {
    if (this.stopped) return;
    this.stopped = true;
    this.generation++;
    this.clearTimers();
    this.wire?.close(1000);
    this.setState("closed");
    this.emit("closed", { code, reason, error });
  }

  // ---- messages ------------------------------------------------------------

  private onFrame(text: string): void {
    this.lastHeard = Date.now();
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.emit("protocol_error", new FoyerProtocolError("a frame that is not JSON", text));
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg) || typeof (msg as { type?: unknown }).type !== "string") {
      return this.emit("protocol_error", new FoyerProtocolError("a frame that is not a message with a type", text));
    }
    const m = msg as ServerMessage;
    if (!(SERVER_MESSAGE_TYPES as readonly string[]).includes(m.type)) {
      return this.emit("unknown", msg as ClientEvents["unknown"]);
    }
    this.heard = true;
    if (this.wire?.kind === "events") this.eventsProven = true;
    switch (m.type) {
      case "welcome":
        this.failures = 0;
        this.powChallenge = m.pow;
        this.clock.guess(m.server_time, Date.now()); // until the first time answer
        if (m.you?.session) this.session = { ...this.session!, token: m.you.session.token, expires_at: m.you.session.expires_at };
        this.setState("open");
        this.syncClock(this.generation);
        if (this.rejoinOnWelcome) {
          this.rejoinOnWelcome = false;
          void this.sendJoin();
        }
        break;
      case "time":
        this.clock.add(m.client_time, m.server_time, Date.now());
        break;
      case "error":
        // A checkout's refusal is its promise's (checkoutOverSocket), not a failure of the connection.
        if (m.in_reply_to !== "checkout") this.onError(new FoyerError(m.code, m.message, { retryAfter: m.retry_after }), m.pow);
        break;
      case "left":
        this.joining = undefined;
        break;
    }
    this.emit(m.type, m as never);
  }

  private onError(err: FoyerError, pow?: PowChallenge): void {
    if (err.retryAfter) this.retryAfterMs = err.retryAfter * 1000;
    if (pow && err.code.startsWith("pow_")) {
      // A fresh challenge: solve it and join again, as docs/pow.md asks;
      // once per join, so a challenge answered wrong again is no loop.
      this.powChallenge = pow;
      if (this.joining && !this.powRetried) {
        this.powRetried = true;
        void this.sendJoin();
        return; // answered here: not the app's failure
      }
    }
    this.emit("failure", err);
  }

  private async sendJoin(): Promise<void> {
    const want = this.joining;
    if (!want) return;
    const msg: ClientMessage = { type: "join" };
    if (want.invite) msg.invite = want.invite;
    const pow = this.powChallenge;
    if (pow) {
      // A challenge is good for one join: taken now, put back if the join does not go.
      this.powChallenge = undefined;
      const gen = this.generation;
      const expected = 2 ** pow.difficulty; // hashes, on average
      this.emit("pow", { state: "solving", tried: 0, expected });
      let solved: PowSolved;
      try {
        solved = await solvePowWith(pow.challenge, pow.difficulty, {
          sha256: this.opts.sha256,
          workerUrl: this.opts.powWorkerUrl,
          onProgress: (tried) => this.emit("pow", { state: "solving", tried, expected }),
        });
      } catch (err) {
        this.powChallenge ??= pow;
        this.emit("pow", { state: "failed", tried: 0, expected });
        this.emit("failure", new FoyerError("pow_failed", `could not do the proof of work before joining: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
      this.emit("pow", { state: "solved", tried: Number(solved.solution) + 1, expected, by: solved.by });
      if (this.joining !== want) {
        this.powChallenge ??= pow; // left meanwhile: still good for the next join
        return;
      }
      if (gen !== this.generation) {
        // The connection changed while solving: its welcome brought a new
        // challenge, so the join goes with that one, now or after the welcome.
        if (this.connState === "open") void this.sendJoin();
        else this.rejoinOnWelcome = true;
        return;
      }
      msg.pow = { challenge: pow.challenge, solution: solved.solution };
    }
    this.send(msg);
  }

  private send(msg: ClientMessage): void {
    this.wire?.send(msg);
  }

  // ---- clock, keepalive and timers ----------------------------------------

  private syncClock(gen: number): void {
    this.clock.begin();
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      this.later(i * CLOCK_SPACING_MS, () => gen === this.generation && this.send({ type: "time", client_time: Date.now() }));
    }
  }

  private startKeepalive(gen: number): void {
    if (this.keepalive) clearInterval(this.keepalive);
    const every = this.opts.keepaliveMs ?? 20_000;
    const deadAfter = this.opts.deadAfterMs ?? 60_000;
    this.keepalive = setInterval(() => {
      if (gen !== this.generation) return;
      // The protocol's ping keeps the server's idle timer from closing us; a
      // connection silent for deadAfter is gone, whatever the OS says.
      if (Date.now() - this.lastHeard >= deadAfter) return this.drop(ABNORMAL_CLOSURE, "nothing heard from the server");
      if (this.heard) this.send({ type: "ping" });
    }, Math.min(every, deadAfter));
  }

  private later(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pendingRetry = undefined;
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
  }

  private setState(state: ConnectionState): void {
    if (state === this.connState) return;
    this.connState = state;
    this.emit("connection", { state, transport: this.wire?.kind ?? null });
  }
}
