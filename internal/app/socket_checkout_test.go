package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// checkoutOverSocket sends a checkout of token over the tab's socket.
func checkoutOverSocket(t *testing.T, ctx context.Context, conn *shopperclient.Conn, msg map[string]any) {
	t.Helper()
	msg["type"] = wire.CmdCheckout
	if err := conn.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
}

// admittedTab connects a new shopper to a sale, joins it and waits for its
// admission.
func admittedTab(t *testing.T, ctx context.Context, sys *system, saleID string) (*shopperclient.Conn, *inbox, shopperclient.Message) {
	t.Helper()
	conn, _ := connectNew(t, ctx, sys.URL, saleID)
	in := listen(conn)
	return conn, in, joinTillAdmitted(t, ctx, conn, in)
}

// socketCheckoutSale starts a system with an open sale of stock units,
// and a context for the test's 30 s.
func socketCheckoutSale(t *testing.T, sku string, stock int) (*system, string, context.Context) {
	t.Helper()
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": sku, "name": "Socket checkout", "stock": stock, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return sys, saleID, ctx
}

// TestACheckoutOverTheSocketIsAnsweredOnItAndMakesOnePaidOrder: a tab sends
// its admitted token as a checkout message and is answered, on the same
// socket, with its order confirmed, then pending and paid; sent again (a
// client that lost the answer), it is answered with the order as it stands
// and nothing more is sold.
func TestACheckoutOverTheSocketIsAnsweredOnItAndMakesOnePaidOrder(t *testing.T) {
	sys, saleID, ctx := socketCheckoutSale(t, "WS-CHECKOUT", 1)
	conn, in, admitted := admittedTab(t, ctx, sys, saleID)

	checkoutOverSocket(t, ctx, conn, map[string]any{"token": admitted.Token})
	m, err := in.waitAny(ctx, "order", "error")
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "order" || m.Status != "confirmed" || m.ReservationID != admitted.ReservationID {
		t.Fatalf("the checkout was answered %s; want order %s confirmed", m.Raw, admitted.ReservationID)
	}
	orderStatus(t, ctx, in, "paid")

	checkoutOverSocket(t, ctx, conn, map[string]any{"token": admitted.Token})
	again, err := in.scan(ctx, &in.read, []string{"order", "error"}) // past the paid order
	if err != nil {
		t.Fatal(err)
	}
	if again.Type != "order" || again.Status != "paid" || again.ReservationID != admitted.ReservationID {
		t.Errorf("the checkout sent again was answered %s; want the order as it stands, paid", again.Raw)
	}
	if available, sold, pgSold, status := sys.stockAfter(t, saleID); available != 0 || sold != 1 || pgSold != 1 || status != "paid" {
		t.Errorf("after the checkout and its repeat: available %d, sold %d, postgres sold %d, order %s", available, sold, pgSold, status)
	}
	var orders int
	if err := sys.DB.Get(&orders, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID); err != nil || orders != 1 {
		t.Errorf("%d order rows (%v), want 1", orders, err)
	}
}

// TestACheckoutOverTheSocketRefusesBadInputInReplyAndChangesNothing: each
// bad checkout is refused with an error naming it (in_reply_to) and its
// code, and leaves the sale's stock and both reservations as they were;
// the good checkouts after them go through.
func TestACheckoutOverTheSocketRefusesBadInputInReplyAndChangesNothing(t *testing.T) {
	sys, saleID, ctx := socketCheckoutSale(t, "WS-REFUSED", 2)
	conn, in, admitted := admittedTab(t, ctx, sys, saleID)
	otherConn, otherIn, other := admittedTab(t, ctx, sys, saleID)
	k := waitingroom.Keys(saleID)
	before := func() map[string]string {
		held, err := sys.Redis.HGetAll(ctx, k.Res).Result()
		if err != nil {
			t.Fatal(err)
		}
		return held
	}()

	for _, tc := range []struct {
		name string
		msg  map[string]any
		code string
	}{
		{"no token", map[string]any{}, "bad_message"},
		{"no unit", map[string]any{"token": admitted.Token, "quantity": 0}, "bad_message"},
		{"a product no SKU can be", map[string]any{"token": admitted.Token, "product": "a\nb"}, "bad_message"},
		{"a forged token", map[string]any{"token": "eyJ.forged.token"}, "token_invalid"},
		{"another shopper's token", map[string]any{"token": other.Token}, "token_invalid"},
		{"more than a shopper may buy", map[string]any{"token": admitted.Token, "quantity": 2}, "quantity_over_limit"},
	} {
		checkoutOverSocket(t, ctx, conn, tc.msg)
		m, err := in.scan(ctx, &in.read, []string{"order", "error"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if m.Type != "error" || m.Code != tc.code || m.InReplyTo != wire.CmdCheckout {
			t.Errorf("%s: told %s; want %s in reply to the checkout", tc.name, m.Raw, tc.code)
		}
	}
	after, err := sys.Redis.HGetAll(ctx, k.Res).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("reservations %d before, %d after the refusals", len(before), len(after))
	}
	for id, was := range before {
		if after[id] != was {
			t.Errorf("reservation %s was %s, is %s after the refusals", id, was, after[id])
		}
	}
	if available, sold, pgSold, _ := sys.stockAfter(t, saleID); available != 0 || sold != 0 || pgSold != 0 {
		t.Errorf("after the refusals: available %d, sold %d, postgres sold %d; want 0, 0, 0 (both units held)", available, sold, pgSold)
	}

	for _, tab := range []struct {
		conn     *shopperclient.Conn
		in       *inbox
		admitted shopperclient.Message
	}{{conn, in, admitted}, {otherConn, otherIn, other}} {
		checkoutOverSocket(t, ctx, tab.conn, map[string]any{"token": tab.admitted.Token})
		orderStatus(t, ctx, tab.in, "paid")
	}
}
