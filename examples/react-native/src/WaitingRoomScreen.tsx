// A waiting-room screen for one sale, on @foyer/client: the countdown on the
// server's clock, the place and its estimate, the stock, the sale's state,
// the turn with its hold's countdown, checkout, the order, and the
// connection as it stands. Copy the folder's src/ into an app and render
//   <WaitingRoomScreen baseUrl="https://queue.shop.example" saleId={id} sessionStore={store} />
import React from "react";
import { ActivityIndicator, Pressable, ScrollView, StyleSheet, Text, View } from "react-native";
import { countdown, type Countdown, type Eta, type Sale } from "@foyer/client";

import { errorText } from "./errorText";
import { useServerNow, useWaitingRoom, type WaitingRoom, type WaitingRoomOptions } from "./useWaitingRoom";
import type { WaitingRoomView } from "./waitingRoomState";

export function WaitingRoomScreen(props: WaitingRoomOptions) {
  const room = useWaitingRoom(props);
  const { view } = room;
  // Tick only while there is something to count down (a reconnect's wait
  // too), and the shopper can see it.
  const counting =
    view.turn.kind === "admitted" || view.turn.kind === "waiting" || view.sale?.state === "scheduled" || view.sale?.state === "prequeue" || view.connection.state === "reconnecting";
  const now = useServerNow(room.client, counting && room.foreground);

  return (
    <ScrollView contentContainerStyle={styles.screen}>
      <ConnectionBanner view={view} now={Date.now()} onRestart={room.restart} />
      {view.message ? <Text style={styles.operatorMessage}>{view.message}</Text> : null}
      {view.sale ? <SaleHeader sale={view.sale} /> : <ActivityIndicator />}
      {view.sale ? <Body room={room} now={now} /> : null}
      {view.stock ? <StockLine stock={view.stock} /> : null}
      {view.failure ? <Text style={styles.error}>{errorText(view.failure)}</Text> : null}
    </ScrollView>
  );
}

function Body({ room, now }: { room: WaitingRoom; now: number }) {
  const { view } = room;
  const sale = view.sale!;
  const turn = view.turn;
  switch (turn.kind) {
    case "prequeue":
      return (
        <View style={styles.card}>
          <Text style={styles.big}>You are in</Text>
          <Text>Your ticket: {turn.ticket}. Places are drawn at the start, in {clock(countdown(turn.startsAt, now))}.</Text>
          <Button title="Leave the queue" onPress={room.leave} quiet />
        </View>
      );
    case "waiting": {
      // Counted down between messages; now ticks the screen each 250 ms.
      const position = room.shownPosition(Date.now()) || turn.position;
      return (
        <View style={styles.card}>
          <Text style={styles.big}>{position === 1 ? "You are next" : `You are number ${position}`}</Text>
          <Text>
            {position - 1} ahead of you, {turn.waiting} waiting.
          </Text>
          <Text>{sale.state === "paused" ? "The queue is paused for a moment." : eta(turn.eta)}</Text>
          <Button title="Leave the queue" onPress={room.leave} quiet />
        </View>
      );
    }
    case "admitted": {
      const hold = countdown(turn.admitted.expires_at, now);
      const sending = view.checkout.phase === "sending";
      return (
        <View style={styles.card}>
          <Text style={styles.big}>It is your turn</Text>
          <Text>One is held for you for {clock(hold)}.</Text>
          {turn.admitted.checkout === "shop" ? (
            <Button title="Continue to checkout" onPress={room.checkout} />
          ) : (
            <Button title={sending ? "Buying…" : view.checkout.phase === "failed" ? "Try again" : "Buy now"} onPress={room.checkout} disabled={sending || hold.done || (view.checkout.phase === "failed" && !room.canRetryCheckout)} />
          )}
          {view.checkout.phase === "failed" ? <Text style={styles.error}>{errorText(view.checkout.error)}</Text> : null}
        </View>
      );
    }
    case "expired":
      return (
        <View style={styles.card}>
          <Text style={styles.big}>Your hold lapsed</Text>
          {joinable(sale) ? <Button title="Join again" onPress={room.join} /> : null}
        </View>
      );
    case "order":
      return (
        <View style={styles.card}>
          <Text style={styles.big}>{ORDER_STATUS[turn.status]}</Text>
          {turn.orderId !== undefined ? <Text>Order {turn.orderId}</Text> : null}
          {turn.status === "cancelled" && joinable(sale) ? <Button title="Join again" onPress={room.join} /> : null}
        </View>
      );
    case "none":
      return <NotInQueue sale={sale} now={now} onJoin={room.join} />;
  }
}

function NotInQueue({ sale, now, onJoin }: { sale: Sale; now: number; onJoin: () => void }) {
  switch (sale.state) {
    case "scheduled":
      return (
        <View style={styles.card}>
          <Text>The queue opens in</Text>
          <Text style={styles.big}>{clock(countdown(sale.prequeue_at, now))}</Text>
        </View>
      );
    case "prequeue":
      return (
        <View style={styles.card}>
          <Text>The sale starts in {clock(countdown(sale.starts_at, now))}. Join now: everyone who joins before then gets a fair draw for a place.</Text>
          <Button title="Join the queue" onPress={onJoin} />
        </View>
      );
    case "open":
    case "paused":
      return (
        <View style={styles.card}>
          <Button title="Join the queue" onPress={onJoin} />
        </View>
      );
    case "sold_out":
      return <Text style={styles.big}>Sold out</Text>;
    case "ended":
      return <Text style={styles.big}>This sale has ended</Text>;
  }
}

function ConnectionBanner({ view, now, onRestart }: { view: WaitingRoomView; now: number; onRestart: () => void }) {
  const c = view.connection;
  if (c.state === "closed") {
    return (
      <View style={styles.banner}>
        <Text>{c.closedBy ? errorText(c.closedBy) : "Disconnected."}</Text>
        <Button title="Try again" onPress={onRestart} quiet />
      </View>
    );
  }
  if (c.state === "reconnecting") {
    const inSeconds = Math.max(0, Math.ceil(((c.retryAt ?? now) - now) / 1000));
    // The place is kept while we are away (the server's grace period): say so.
    return <Text style={styles.banner}>Connection lost: your place is kept. {inSeconds > 0 ? `Reconnecting in ${inSeconds} s…` : "Reconnecting…"}</Text>;
  }
  if (c.state === "connecting" || c.state === "idle") return <Text style={styles.banner}>Connecting…</Text>;
  if (c.degraded) return <Text style={styles.banner}>{c.degraded}</Text>;
  return null;
}

function SaleHeader({ sale }: { sale: Sale }) {
  return (
    <View style={styles.header}>
      <Text style={styles.title}>{sale.name}</Text>
      <Text>
        {sale.list_price_cents !== undefined ? <Text style={styles.struck}>{money(sale.list_price_cents, sale.currency)} </Text> : null}
        {money(sale.price_cents, sale.currency)}
      </Text>
      <Text style={styles.state}>{SALE_STATE[sale.state]}</Text>
    </View>
  );
}

function StockLine({ stock }: { stock: NonNullable<WaitingRoomView["stock"]> }) {
  if (stock.all_held) return <Text style={styles.muted}>All {stock.total} are held by shoppers now; one may come back if a hold lapses.</Text>;
  return <Text style={styles.muted}>{stock.left} of {stock.total} left</Text>;
}

function Button({ title, onPress, disabled, quiet }: { title: string; onPress: () => void; disabled?: boolean; quiet?: boolean }) {
  return (
    <Pressable accessibilityRole="button" onPress={onPress} disabled={disabled} style={[styles.button, quiet && styles.quiet, disabled && styles.disabled]}>
      <Text style={quiet ? undefined : styles.buttonText}>{title}</Text>
    </Pressable>
  );
}

const SALE_STATE: Record<Sale["state"], string> = {
  scheduled: "Coming soon",
  prequeue: "Queue open",
  open: "On sale",
  paused: "Paused",
  sold_out: "Sold out",
  ended: "Ended",
};

const ORDER_STATUS: Record<Extract<WaitingRoomView["turn"], { kind: "order" }>["status"], string> = {
  confirmed: "Bought! Your order is being written.",
  pending_payment: "Bought! Waiting for the payment.",
  paid: "Paid. It is yours.",
  cancelled: "The payment did not go through; the unit went back to the sale.",
  refunded: "The payment was refunded.",
};

function joinable(sale: Sale): boolean {
  return sale.state === "prequeue" || sale.state === "open" || sale.state === "paused";
}

/** "2 d 03:04:05", "03:04:05" or "04:05". */
function clock(c: Countdown): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const hms = c.hours > 0 || c.days > 0 ? `${two(c.hours)}:${two(c.minutes)}:${two(c.seconds)}` : `${two(c.minutes)}:${two(c.seconds)}`;
  return c.days > 0 ? `${c.days} d ${hms}` : hms;
}

/** The estimate, a range; absent while the queue cannot move. */
function eta(e: Eta | undefined): string {
  if (!e) return "No estimate while the queue cannot move.";
  const minutes = (s: number) => Math.max(1, Math.round(s / 60));
  const lo = minutes(e.min_seconds);
  const hi = minutes(e.max_seconds);
  return lo === hi ? `About ${lo} min.` : `About ${lo} to ${hi} min.`;
}

function money(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`; // an engine without Intl's currencies
  }
}

const styles = StyleSheet.create({
  screen: { padding: 20, gap: 16 },
  header: { gap: 4 },
  title: { fontSize: 22, fontWeight: "600" },
  state: { fontSize: 13, textTransform: "uppercase", opacity: 0.7 },
  struck: { textDecorationLine: "line-through", opacity: 0.6 },
  card: { gap: 8, padding: 16, borderRadius: 12, backgroundColor: "#f3f3f5" },
  big: { fontSize: 28, fontWeight: "700" },
  muted: { opacity: 0.7 },
  error: { color: "#b00020" },
  banner: { padding: 10, borderRadius: 8, backgroundColor: "#fff4d6" },
  operatorMessage: { padding: 10, borderRadius: 8, backgroundColor: "#e8f0fe" },
  button: { alignItems: "center", padding: 14, borderRadius: 10, backgroundColor: "#111" },
  buttonText: { color: "#fff", fontWeight: "600" },
  quiet: { backgroundColor: "transparent" },
  disabled: { opacity: 0.4 },
});
