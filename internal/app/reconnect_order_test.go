package app_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/orders"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/wire"
)

// buyAs has a shopper with a session buy one unit of a sale; it returns the
// shopper (to open more tabs) and its first tab and the tab's inbox.
func buyAs(t *testing.T, ctx context.Context, sys *system, saleID string) (shopperOn, *shopperclient.Conn, *inbox) {
	t.Helper()
	shopper := newShopper(t, ctx, sys.URL)
	conn, in := shopper.connect(t, ctx, sys.URL, saleID)
	joinAndBuy(t, ctx, sys, saleID, conn, in)
	return shopper, conn, in
}

// reloaded opens a new tab of the shopper, as a reloaded page does, and
// returns the order message it is told on arriving.
func reloaded(t *testing.T, ctx context.Context, sys *system, shopper shopperOn, saleID string) shopperclient.Message {
	t.Helper()
	_, in := shopper.connect(t, ctx, sys.URL, saleID)
	m, err := in.wait(ctx, "order")
	if err != nil {
		t.Fatalf("the reloaded tab was told no order: %v", err)
	}
	return m
}

// TestAReloadedPageIsToldItsOrderAsItStands: a tab that arrives, or asks
// again (resume), after its shopper checked out is told the order as
// Postgres has it (its id and status), not only that the checkout was
// confirmed: a page reloaded after its order was paid learns it was paid,
// one still paying that it is pending. (A shopper whose order was
// cancelled has no place any more: its unit went back, and it may join
// again.)
func TestAReloadedPageIsToldItsOrderAsItStands(t *testing.T) {
	for outcome, want := range map[string]string{"succeed": "paid", "never": "pending_payment"} {
		t.Run(outcome, func(t *testing.T) {
			sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": outcome})
			saleID := sys.createSale(t, map[string]any{"sku": "RELOAD-" + outcome, "name": "Reload", "stock": 1,
				"outflow_per_second": 100})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			shopper, conn, in := buyAs(t, ctx, sys, saleID)
			orderStatus(t, ctx, in, want)
			orderID, reservation, _ := sys.orderOf(t, saleID)

			m := reloaded(t, ctx, sys, shopper, saleID)
			if m.Status != want || m.OrderID != orderID || m.ReservationID != reservation || m.Payment != nil {
				t.Errorf("the reloaded tab was told %s; want order %d of %s %s", m.Raw, orderID, reservation, want)
			}
			// The first tab asks again where it stands: the same answer.
			if err := conn.Send(ctx, wire.ClientMsg{Type: wire.CmdResume}); err != nil {
				t.Fatal(err)
			}
			again, err := in.next(ctx, "order")
			if err != nil {
				t.Fatal(err)
			}
			if again.Status != want || again.OrderID != orderID {
				t.Errorf("a resume was answered %s; want order %d %s", again.Raw, orderID, want)
			}
		})
	}
}

// TestTheOrderOfARefundedReservationReadsRefunded: the look-up reads a
// cancelled order whose late payment was refunded as refunded, the status
// its page was pushed; the order itself stays cancelled.
func TestTheOrderOfARefundedReservationReadsRefunded(t *testing.T) {
	sys, calls := startStripeSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	saleID, in, meta := stripeOrder(t, ctx, sys, calls)
	reader := orders.NewReader(sys.DB)
	orderID, _ := strconv.ParseInt(meta["order_id"], 10, 64)
	if o, ok, err := reader.OfReservation(ctx, saleID, meta["reservation_id"]); err != nil || !ok ||
		o != (orders.ReservationOrder{ID: orderID, Status: "pending_payment"}) {
		t.Fatalf("before: %+v %v %v; want order %d pending_payment", o, ok, err, orderID)
	}
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_c", "payment_intent.canceled", meta, time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("canceled: %d %s", status, got)
	}
	orderStatus(t, ctx, in, "cancelled")
	if o, _, _ := reader.OfReservation(ctx, saleID, meta["reservation_id"]); o.Status != "cancelled" {
		t.Errorf("cancelled, not refunded: read %+v", o)
	}
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_late", "payment_intent.succeeded", meta, time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("late success: %d %s", status, got)
	}
	nextStripeCall(t, ctx, calls, "the refund")
	orderStatus(t, ctx, in, "refunded")
	if o, ok, err := reader.OfReservation(ctx, saleID, meta["reservation_id"]); err != nil || !ok ||
		o != (orders.ReservationOrder{ID: orderID, Status: "refunded"}) {
		t.Errorf("after the refund: %+v %v %v; want order %d refunded", o, ok, err, orderID)
	}
	if _, _, _, status := sys.stockAfter(t, saleID); status != "cancelled" {
		t.Errorf("the order is %s, want still cancelled", status)
	}
	if _, ok, err := reader.OfReservation(ctx, "another-sale", meta["reservation_id"]); ok || err != nil {
		t.Errorf("another sale's look-up found the order (%v, %v)", ok, err)
	}
}

// TestAReloadedPageIsToldConfirmedWhenPostgresCannotSay: the look-up of
// the order fails (its table is gone from under the gateway): the tab is
// told what Redis knows, that its checkout was confirmed, as before.
func TestAReloadedPageIsToldConfirmedWhenPostgresCannotSay(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "succeed"})
	saleID := sys.createSale(t, map[string]any{"sku": "RELOAD-PG", "name": "No Postgres", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shopper, _, in := buyAs(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "paid")
	if _, err := sys.DB.Exec(`ALTER TABLE orders RENAME TO orders_gone`); err != nil {
		t.Fatal(err)
	}
	if m := reloaded(t, ctx, sys, shopper, saleID); m.Status != "confirmed" || m.OrderID != 0 {
		t.Errorf("the reloaded tab was told %s; want confirmed, the outcome to follow", m.Raw)
	}
}

// TestAPageReloadedWhilePayingWithStripeIsToldHowToPayAgain: the shopper
// reloads its page while paying on it; the new tab is told the order
// pending_payment with the same payment (kept in Redis, not Postgres), so
// the Payment Element comes back. Once the order is paid, a reload is told
// paid, with no payment.
func TestAPageReloadedWhilePayingWithStripeIsToldHowToPayAgain(t *testing.T) {
	sys, calls := startStripeSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "RELOAD-PAY", "name": "Reload while paying", "stock": 1,
		"price_cents": 1500, "currency": "EUR", "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shopper, _, in := buyAs(t, ctx, sys, saleID)
	awaitCharge(t, ctx, calls)
	first := pendingOrder(t, ctx, in)
	if first.Payment == nil {
		t.Fatalf("the order push %s has no payment", first.Raw)
	}
	m := reloaded(t, ctx, sys, shopper, saleID)
	if m.Status != "pending_payment" || m.OrderID != first.OrderID || m.Payment == nil || *m.Payment != *first.Payment {
		t.Fatalf("the tab reloaded while paying was told %s; want order %d pending_payment with its payment %+v",
			m.Raw, first.OrderID, *first.Payment)
	}
	meta := map[string]string{"order_id": strconv.FormatInt(first.OrderID, 10), "sale_id": saleID,
		"reservation_id": first.ReservationID}
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_paid", "payment_intent.succeeded", meta, time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("succeeded: %d %s", status, got)
	}
	orderStatus(t, ctx, in, "paid")
	if m := reloaded(t, ctx, sys, shopper, saleID); m.Status != "paid" || m.Payment != nil {
		t.Errorf("the tab reloaded once paid was told %s; want paid, no payment", m.Raw)
	}
}
