// The screen's one FoyerClient: made with the kept session, its events
// folded into a WaitingRoomView, closed when the screen goes, and told when
// the app comes back to the foreground. The library reconnects, resumes,
// syncs the clock and keeps the connection alive by itself.
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { AppState, Linking, type AppStateStatus } from "react-native";
import { FoyerClient, PositionCount, newIdempotencyKey, type ClientEvents, type Sha256 } from "@foyer/client";

import { checkoutRetryable } from "./errorText";
import { usable, type SessionStore } from "./sessionStore";
import { initialView, reduce, type Action, type WaitingRoomView } from "./waitingRoomState";

export interface WaitingRoomOptions {
  /** The Foyer deployment, e.g. "https://queue.shop.example". */
  baseUrl: string;
  saleId: string;
  /** Where the session is kept between launches (see sessionStore.ts). */
  sessionStore: SessionStore;
  /** The shop's identity token for its signed-in customer, for a sale that asks for one. */
  identity?: string;
  /** SHA-256 for proof of work: React Native has no WebCrypto (e.g. @noble/hashes' sha256). */
  sha256?: Sha256;
}

/**
 * Back from the background after this long, the connection is made anew
 * rather than asked to resume: the OS has likely dropped the socket while the
 * app was suspended, and the client would otherwise notice only at its next
 * keepalive, up to 20 s later. The place survives either way: the server
 * keeps it for its grace period (60 s by default) after the socket is gone.
 */
const STALE_AFTER_MS = 15_000;

/** The client's events the view is folded from. */
const EVENTS = [
  "connection", "reconnecting", "closed", "notice", "welcome", "state", "stock", "sold_out",
  "prequeue", "position", "admitted", "expired", "order", "left", "failure",
] as const satisfies readonly (keyof ClientEvents)[];

/** Dispatches every event of one type as the reducer's action of that type. */
function forward<K extends (typeof EVENTS)[number]>(client: FoyerClient, type: K, dispatch: (a: Action) => void): void {
  client.on(type, (ev) => dispatch({ type, ev } as Action));
}

export function useWaitingRoom(opts: WaitingRoomOptions) {
  const { baseUrl, saleId, sessionStore, identity, sha256 } = opts;
  const [view, dispatch] = useReducer(reduce, initialView);
  const [client, setClient] = useState<FoyerClient>();
  // Bumped to throw the client away and make a new one (after it closed for good, or a long background).
  const [generation, setGeneration] = useState(0);
  const [foreground, setForeground] = useState(AppState.currentState === "active");
  // One idempotency key per reservation: a retried checkout sends the same
  // key, so the server answers it once (docs/protocol.md, "3. Checkout").
  const checkoutKeys = useRef(new Map<string, string>());
  // The place shown: counted down between position messages while the
  // queue moves steadily (docs/protocol.md, "Counting a position down").
  const positions = useRef(new PositionCount());

  useEffect(() => {
    let gone = false;
    let made: FoyerClient | undefined;
    dispatch({ type: "reset" });
    (async () => {
      const session = usable(await sessionStore.load());
      if (gone) return;
      made = new FoyerClient({ baseUrl, saleId, session, identity, sha256 });
      for (const type of EVENTS) forward(made, type, dispatch);
      const count = positions.current;
      count.reset();
      made.on("position", (m) => count.take(m, Date.now()));
      made.on("state", (m) => m.state !== "open" && count.stop(Date.now()));
      made.on("stock", (m) => m.all_held && count.stop(Date.now()));
      for (const out of ["admitted", "left", "sold_out"] as const) made.on(out, () => count.reset());
      // Kept at once: a session made here (or again after 4001) is the shopper's place.
      made.on("session", (s) => void sessionStore.save(s));
      setClient(made);
      // A failure to start (no session: the network, rate_limited) comes as
      // the closed event too, which the screen shows with "Try again".
      await made.start().catch(() => {});
    })();
    return () => {
      gone = true;
      made?.close();
      setClient(undefined);
    };
  }, [baseUrl, saleId, sessionStore, identity, sha256, generation]);

  // AppState: the connection stays open in the background (it is what holds
  // the place); the countdown stops ticking there; coming back, the client
  // asks where the shopper stands, or reconnects if it was away long.
  const backgroundedAt = useRef<number | undefined>(undefined);
  useEffect(() => {
    const sub = AppState.addEventListener("change", (next: AppStateStatus) => {
      const active = next === "active";
      setForeground(active);
      if (!active) {
        backgroundedAt.current ??= Date.now();
        return;
      }
      const away = backgroundedAt.current === undefined ? 0 : Date.now() - backgroundedAt.current;
      backgroundedAt.current = undefined;
      if (away >= STALE_AFTER_MS || client?.state === "closed") setGeneration((g) => g + 1);
      else if (client?.state === "open") client.resume();
    });
    return () => sub.remove();
  }, [client]);

  const join = useCallback(() => client?.join(), [client]);
  const leave = useCallback(() => client?.leave(), [client]);
  const restart = useCallback(() => setGeneration((g) => g + 1), []);

  const checkout = useCallback(async () => {
    if (!client || view.turn.kind !== "admitted" || view.checkout.phase === "sending") return;
    const admitted = view.turn.admitted;
    if (admitted.checkout === "shop") {
      // The shop's own checkout: hand the shopper on with its URL (it carries the token).
      await Linking.openURL(admitted.checkout_url);
      return;
    }
    let key = checkoutKeys.current.get(admitted.reservation_id);
    if (!key) checkoutKeys.current.set(admitted.reservation_id, (key = newIdempotencyKey()));
    dispatch({ type: "checkout_sending" });
    try {
      await client.checkout(admitted, { idempotencyKey: key });
      dispatch({ type: "checkout_done", reservationId: admitted.reservation_id });
    } catch (err) {
      dispatch({ type: "checkout_failed", error: err });
    }
  }, [client, view.turn, view.checkout.phase]);

  const canRetryCheckout = view.checkout.phase === "failed" && checkoutRetryable(view.checkout.error);

  const shownPosition = useCallback((nowMs: number) => positions.current.shows(nowMs), []);

  return { view, client, foreground, canRetryCheckout, join, leave, checkout, restart, shownPosition };
}

/** The hook's result, for components that take it as a prop. */
export type WaitingRoom = ReturnType<typeof useWaitingRoom>;

/** The server's clock, ticking every tickMs while ticking is true (and the app is in the foreground). */
export function useServerNow(client: FoyerClient | undefined, ticking: boolean, tickMs = 250): number {
  const read = useCallback(() => client?.serverNow() ?? Date.now(), [client]);
  const [now, setNow] = useState(read);
  useEffect(() => {
    setNow(read());
    if (!ticking) return;
    const t = setInterval(() => setNow(read()), tickMs);
    return () => clearInterval(t);
  }, [read, ticking, tickMs]);
  return now;
}
