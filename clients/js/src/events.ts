// The client's events: every server message under its own type, plus what
// the connection itself does.
import type { FoyerClosedError, FoyerError, FoyerProtocolError } from "./errors.js";
import type { Session } from "./http.js";
import type { ServerMessage } from "./protocol.gen.js";

/** Where the client's connection stands. */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** Every server message, keyed by its type. */
export type MessageEvents = { [T in ServerMessage["type"]]: Extract<ServerMessage, { type: T }> };

export interface ClientEvents extends MessageEvents {
  /** The connection's state changed. */
  connection: { state: ConnectionState; transport: "websocket" | "events" | null };
  /** A session was made (or replaced after 4001): store it to resume with. */
  session: Session;
  /** The connection ended; the client reconnects after delayMs. */
  reconnecting: { code: number; reason: string; delayMs: number };
  /** WebSockets failed before opening: the client speaks the HTTP fallback now. */
  fallback: { reason: string };
  /** The client stopped for good (close(), or a close code retrying will not fix). */
  closed: { code: number; reason: string; error?: FoyerClosedError | FoyerError };
  /** A request failed: an `error` message, a refused POST or a refused connection. */
  failure: FoyerError;
  /**
   * Proof of work before a join (docs/pow.md): solving (tried hashes so far,
   * of about `expected` on average: a solve may take longer), then solved
   * (by a Web Worker or this thread) or failed (a `failure` pow_failed follows).
   */
  pow: { state: "solving" | "solved" | "failed"; tried: number; expected: number; by?: "worker" | "thread" };
  /** A frame that is not a protocol message; it was ignored. */
  protocol_error: FoyerProtocolError;
  /** A message of a type this client does not know (a newer server's); ignored. */
  unknown: { type: string; [field: string]: unknown };
}

export type Listener<T> = (ev: T) => void;

/** A small typed emitter: no dependencies, the same on every platform. */
export class Emitter<E> {
  private listeners = new Map<keyof E, Set<Listener<never>>>();

  /** Calls fn for every event of this type; returns the function that stops it. */
  on<K extends keyof E>(type: K, fn: Listener<E[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  /** Resolves with the next event of this type. */
  next<K extends keyof E>(type: K): Promise<E[K]> {
    return new Promise((resolve) => {
      const off = this.on(type, (ev) => {
        off();
        resolve(ev);
      });
    });
  }

  protected emit<K extends keyof E>(type: K, ev: E[K]): void {
    for (const fn of [...(this.listeners.get(type) ?? [])]) {
      try {
        (fn as Listener<E[K]>)(ev);
      } catch (err) {
        // A listener's bug must not break the connection, nor hide: report
        // it as the platform reports an uncaught error, outside this stack.
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
  }
}
