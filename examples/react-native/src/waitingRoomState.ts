// What the screen shows, folded from the client's events by one pure
// reducer: the sale, where this shopper stands in it, the connection, and the
// last failure. Every field comes from a server message; nothing is guessed.
import type {
  AdmittedMessage,
  ClientEvents,
  ConnectionState,
  Eta,
  FoyerError,
  OrderMessage,
  Sale,
  SaleState,
  SaleStock,
} from "@foyer/client";

/** Where this shopper stands. */
export type Turn =
  | { kind: "none" } // not in the queue (or not yet known: the server says on connecting)
  | { kind: "prequeue"; ticket: number; startsAt: string } // places are drawn at the start
  | { kind: "waiting"; position: number; ahead: number; waiting: number; eta?: Eta }
  | { kind: "admitted"; admitted: AdmittedMessage } // a unit is held until admitted.expires_at
  | { kind: "expired"; reservationId: string } // the hold lapsed unused; join again
  | { kind: "order"; reservationId: string; status: OrderMessage["status"]; orderId?: number };

export interface Connection {
  state: ConnectionState;
  transport: "websocket" | "events" | null;
  /** When reconnecting: the local time the next attempt is due. */
  retryAt?: number;
  /** The server's own words while it cannot reach the sale's data (notice degraded). */
  degraded?: string;
  /** Why the client stopped for good (closed with an error). */
  closedBy?: ClientEvents["closed"]["error"];
}

export interface CheckoutAttempt {
  phase: "idle" | "sending" | "failed";
  error?: unknown;
}

export interface WaitingRoomView {
  sale?: Sale;
  stock?: SaleStock & { all_held?: boolean };
  /** The operator's message to everyone, if one is shown. */
  message?: string;
  turn: Turn;
  connection: Connection;
  /** The last failure of a request (join, a refused connection), until progress replaces it. */
  failure?: FoyerError;
  checkout: CheckoutAttempt;
}

export const initialView: WaitingRoomView = {
  turn: { kind: "none" },
  connection: { state: "idle", transport: null },
  checkout: { phase: "idle" },
};

/** An event of the client, under its type, or the screen's own checkout steps. */
export type Action =
  | { [K in keyof ClientEvents]: { type: K; ev: ClientEvents[K] } }[keyof ClientEvents]
  | { type: "checkout_sending" }
  | { type: "checkout_failed"; error: unknown }
  | { type: "checkout_done"; reservationId: string }
  | { type: "reset" };

function withState(view: WaitingRoomView, state: SaleState): WaitingRoomView {
  return view.sale ? { ...view, sale: { ...view.sale, state } } : view;
}

/** A sale that has sold out or ended has no queue left to stand in. */
function queueGone(turn: Turn): Turn {
  return turn.kind === "waiting" || turn.kind === "prequeue" ? { kind: "none" } : turn;
}

export function reduce(view: WaitingRoomView, a: Action): WaitingRoomView {
  switch (a.type) {
    case "reset":
      return initialView;
    case "connection": {
      const { retryAt: _, ...rest } = view.connection;
      return { ...view, connection: { ...rest, state: a.ev.state, transport: a.ev.transport } };
    }
    case "reconnecting":
      return { ...view, connection: { ...view.connection, retryAt: Date.now() + a.ev.delayMs } };
    case "closed":
      return { ...view, connection: { ...view.connection, state: "closed", closedBy: a.ev.error } };
    case "notice":
      return { ...view, connection: { ...view.connection, degraded: a.ev.code === "degraded" ? a.ev.message : undefined } };
    case "welcome":
      return { ...view, sale: a.ev.sale, stock: a.ev.sale.stock, message: a.ev.sale.message || undefined };
    case "state": {
      let next = withState(view, a.ev.state);
      if (a.ev.sale && next.sale) next = { ...next, sale: { ...next.sale, ...a.ev.sale } }; // the plan changed before the opening
      if (a.ev.message !== undefined) next = { ...next, message: a.ev.message || undefined }; // "" clears it
      if (a.ev.state === "ended" || a.ev.state === "sold_out") next = { ...next, turn: queueGone(next.turn) };
      return next;
    }
    case "stock":
      return { ...view, stock: a.ev };
    case "sold_out":
      return { ...withState(view, "sold_out"), turn: queueGone(view.turn) };
    case "prequeue":
      return { ...view, failure: undefined, turn: { kind: "prequeue", ticket: a.ev.ticket, startsAt: a.ev.starts_at } };
    case "position":
      return {
        ...view,
        failure: undefined,
        turn: { kind: "waiting", position: a.ev.position, ahead: a.ev.ahead, waiting: a.ev.waiting, eta: a.ev.eta },
      };
    case "admitted":
      // An admitted told again (a resume) for a reservation already checked out changes nothing.
      if (view.turn.kind === "order" && view.turn.reservationId === a.ev.reservation_id) return view;
      return { ...view, failure: undefined, checkout: { phase: "idle" }, turn: { kind: "admitted", admitted: a.ev } };
    case "expired":
      return { ...view, checkout: { phase: "idle" }, turn: { kind: "expired", reservationId: a.ev.reservation_id } };
    case "order":
      return {
        ...view,
        failure: undefined,
        checkout: { phase: "idle" },
        turn: { kind: "order", reservationId: a.ev.reservation_id, status: a.ev.status, orderId: a.ev.order_id },
      };
    case "left":
      return { ...view, turn: { kind: "none" } };
    case "failure":
      // flagged comes unasked when an operator's rule takes the shopper out of the queue.
      return { ...view, failure: a.ev, turn: a.ev.code === "flagged" ? { kind: "none" } : view.turn };
    case "checkout_sending":
      return { ...view, checkout: { phase: "sending" } };
    case "checkout_failed":
      return { ...view, checkout: { phase: "failed", error: a.error } };
    case "checkout_done":
      // Confirmed: the order message (pending_payment, then paid) follows on
      // the socket, and may have come before this answer did.
      if (view.turn.kind === "order" && view.turn.reservationId === a.reservationId) return { ...view, checkout: { phase: "idle" } };
      return { ...view, checkout: { phase: "idle" }, turn: { kind: "order", reservationId: a.reservationId, status: "confirmed" } };
    default:
      return view; // time, pong, error (also a failure), session, fallback, protocol_error, unknown
  }
}
