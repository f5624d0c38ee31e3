package app_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// stripeEvent is one event Stripe sends about an order's PaymentIntent,
// and what the test awaits once it is accepted: the shopper's push of the
// order ("paid", "cancelled"), the refund Foyer asks Stripe for
// ("refund"), or nothing ("").
type stripeEvent struct {
	id, typ string
	age     time.Duration // how long ago Stripe signed it: a late delivery
	await   string
}

// stripePayment is what becomes of one shopper's payment at Stripe.
type stripePayment struct {
	name   string
	events []stripeEvent
	want   string // the order's status at the end
}

// stripeSale is the sale's payments, one per shopper. Event ids repeat
// where Stripe retries one event: the gateway answers the repeat 200
// "duplicate" and does not hand it on, so nothing is awaited after it.
var stripeSale = []stripePayment{
	{"paid", []stripeEvent{{"evt_a", "payment_intent.succeeded", 0, "paid"}}, "paid"},
	{"paid, its event signed four minutes ago (Stripe retried it)",
		[]stripeEvent{{"evt_b", "payment_intent.succeeded", 4 * time.Minute, "paid"}}, "paid"},
	{"paid, its event delivered twice", []stripeEvent{
		{"evt_c", "payment_intent.succeeded", 0, "paid"},
		{"evt_c", "payment_intent.succeeded", 0, ""}}, "paid"},
	{"paid, then a failed attempt's event out of order", []stripeEvent{
		{"evt_d1", "payment_intent.succeeded", 0, "paid"},
		{"evt_d0", "payment_intent.payment_failed", time.Minute, ""},
		{"evt_d1", "payment_intent.succeeded", 0, ""}}, "paid"},
	{"failed", []stripeEvent{{"evt_e", "payment_intent.payment_failed", 0, "cancelled"}}, "cancelled"},
	{"failed, its event delivered twice", []stripeEvent{
		{"evt_f", "payment_intent.payment_failed", 0, "cancelled"},
		{"evt_f", "payment_intent.payment_failed", 0, ""}}, "cancelled"},
	{"cancelled at Stripe", []stripeEvent{{"evt_g", "payment_intent.canceled", 0, "cancelled"}}, "cancelled"},
	{"failed, then paid late: refunded", []stripeEvent{
		{"evt_h0", "payment_intent.payment_failed", 0, "cancelled"},
		{"evt_h1", "payment_intent.succeeded", 0, "refund"}}, "cancelled"},
}

// stripeShopper is one admitted shopper of the Stripe sale.
type stripeShopper struct {
	in       *inbox
	admitted shopperclient.Message
	orderID  int64
	ref      string // the order's payment_ref: its PaymentIntent
}

// TestASaleSoldThroughStripeEndsWithOrdersPaidEqualToUnitsSold sells a sale
// through Stripe (stripe-mock behind a recording proxy): every admitted
// shopper checks out and gets a PaymentIntent; Stripe's signed events then
// come as stripeSale says: most succeed, some fail, some twice, late or out
// of order, one succeeds after its order was cancelled; and one shopper's
// event never comes, so the worker's status query, by the PaymentIntent's
// id, settles it (stripe-mock answers its fixture, a PaymentIntent still
// waiting for a payment method: its PaymentIntent is cancelled at Stripe,
// then the order, at its timeout).
// Afterwards Redis and Postgres agree that the orders paid are the units
// sold, no order was paid twice nor paid and cancelled, every failed
// payment's unit is back in the sale, and Stripe was asked for one refund:
// the late success's.
func TestASaleSoldThroughStripeEndsWithOrdersPaidEqualToUnitsSold(t *testing.T) {
	// The timeout must outlast the settling of the orders whose events come
	// (tens of milliseconds each); the shopper whose event never comes
	// checks out after they are settled, so only its order is ever swept.
	sys, calls := startStripeSystemWith(t, map[string]string{"FOYER_PAYMENT_TIMEOUT": "3s"})
	stock := len(stripeSale) + 1
	saleID := sys.createSale(t, map[string]any{"sku": "STRIPE-SALE", "name": "Through Stripe", "stock": stock,
		"price_cents": 1500, "currency": "EUR", "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	shoppers := make([]*stripeShopper, stock)
	for i := range shoppers {
		conn, _ := connectNew(t, ctx, sys.URL, saleID)
		in := listen(conn)
		if _, err := in.wait(ctx, "welcome"); err != nil {
			t.Fatal(err)
		}
		conn.Join(ctx)
		admitted, err := in.wait(ctx, "admitted")
		if err != nil {
			t.Fatalf("shopper %d was not admitted: %v", i, err)
		}
		shoppers[i] = &stripeShopper{in: in, admitted: admitted}
	}

	seen := map[string]bool{}
	for i, p := range stripeSale {
		s := shoppers[i]
		sys.checkoutThroughStripe(t, ctx, saleID, s, calls)
		meta := map[string]string{"order_id": strconv.FormatInt(s.orderID, 10), "sale_id": saleID,
			"reservation_id": s.admitted.ReservationID}
		for _, e := range p.events {
			want := "accepted"
			if seen[e.id] {
				want = "duplicate"
			}
			seen[e.id] = true
			if status, got := sys.postStripeIntentEvent(t, testStripeWebhookSecret, e.id, e.typ, s.ref, meta,
				time.Now().Add(-e.age)); status != http.StatusOK || got != want {
				t.Fatalf("%s: %s %s answered %d %s, want 200 %s", p.name, e.id, e.typ, status, got, want)
			}
			switch e.await {
			case "":
			case "refund":
				c := nextStripeCall(t, ctx, calls, "the refund of "+p.name)
				if c.method != http.MethodPost || c.path != "/v1/refunds" || c.form.Get("payment_intent") != s.ref ||
					c.status != http.StatusOK {
					t.Fatalf("%s: sent %+v; want a refund of its PaymentIntent %s, answered 200", p.name, c, s.ref)
				}
			default:
				orderStatus(t, ctx, s.in, e.await)
			}
		}
	}

	// The last shopper's event never comes: the sweeper asks Stripe for
	// its PaymentIntent, by the id the worker kept, once the order is
	// FOYER_PAYMENT_TIMEOUT old, and cancels it before the order.
	lost := shoppers[len(stripeSale)]
	sys.checkoutThroughStripe(t, ctx, saleID, lost, calls)
	orderStatus(t, ctx, lost.in, "cancelled")
	if c := nextStripeCall(t, ctx, calls, "the status query"); c.method != http.MethodGet ||
		c.path != "/v1/payment_intents/"+lost.ref || c.status != http.StatusOK {
		t.Fatalf("the status query sent %+v; want GET /v1/payment_intents/%s (by id, not a search), answered 200", c, lost.ref)
	}
	// Its PaymentIntent is cancelled at Stripe, so the shopper can no
	// longer pay a unit given back to the sale.
	if c := nextStripeCall(t, ctx, calls, "the cancel"); c.method != http.MethodPost ||
		c.path != "/v1/payment_intents/"+lost.ref+"/cancel" || c.idempotencyKey != "cancel-"+lost.ref || c.status != http.StatusOK {
		t.Fatalf("the cancel sent %+v; want POST /v1/payment_intents/%s/cancel keyed cancel-%[2]s, answered 200", c, lost.ref)
	}

	wantStatus := map[string]string{lost.admitted.ReservationID: "cancelled"}
	wantPaid := 0
	for i, p := range stripeSale {
		wantStatus[shoppers[i].admitted.ReservationID] = p.want
		if p.want == "paid" {
			wantPaid++
		}
	}
	var rows []struct {
		Reservation string `db:"reservation_id"`
		Status      string `db:"status"`
	}
	if err := sys.DB.Select(&rows, `SELECT reservation_id, status FROM orders WHERE sale_id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	if len(rows) != stock {
		t.Errorf("%d orders, want one per shopper: %d", len(rows), stock)
	}
	for _, o := range rows {
		if o.Status != wantStatus[o.Reservation] {
			t.Errorf("order of %s is %s, want %s", o.Reservation, o.Status, wantStatus[o.Reservation])
		}
	}
	available, sold, pgSold, _ := sys.stockAfter(t, saleID)
	if sold != wantPaid || pgSold != wantPaid || available != stock-wantPaid {
		t.Errorf("Redis sold %d, Postgres sold %d, available %d; want %d paid orders sold and the %d others back in the sale",
			sold, pgSold, available, wantPaid, stock-wantPaid)
	}
	if held, _ := sys.Redis.HGet(ctx, waitingroom.Keys(saleID).Meta, "held").Int(); held != 0 {
		t.Errorf("%d units still held", held)
	}
	// What happened to each order is recorded with each change of its
	// status (the shop's order.paid and order.cancelled events): an order
	// settled both ways (paid, then unpaid by a late failure; cancelled,
	// then paid by a late success) would show here. Paid twice would raise
	// sold twice, which the counts above rule out.
	var changes []struct {
		Reservation string `db:"ordering_key"`
		Paid        int    `db:"paid"`
		Cancelled   int    `db:"cancelled"`
	}
	if err := sys.DB.Select(&changes, `SELECT ordering_key, count(*) FILTER (WHERE type = 'order.paid') AS paid,
		count(*) FILTER (WHERE type = 'order.cancelled') AS cancelled
		FROM webhook_events WHERE sale_id = $1 AND type IN ('order.paid', 'order.cancelled') GROUP BY ordering_key`,
		saleID); err != nil {
		t.Fatal(err)
	}
	paidEvents := 0
	for _, c := range changes {
		paidEvents += c.Paid
		if c.Paid+c.Cancelled != 1 {
			t.Errorf("order of %s was paid %d times and cancelled %d times, want one settlement", c.Reservation, c.Paid, c.Cancelled)
		}
	}
	if len(changes) != stock || paidEvents != wantPaid {
		t.Errorf("%d orders settled, %d paid; want %d settled, %d paid", len(changes), paidEvents, stock, wantPaid)
	}
	// The Orders API shows each order's PaymentIntent.
	var refs struct {
		Orders []struct {
			ReservationID string  `json:"reservation_id"`
			PaymentRef    *string `json:"payment_ref"`
		} `json:"orders"`
	}
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/orders", sys.AdminToken, nil, &refs); status != http.StatusOK {
		t.Fatalf("orders API: %d", status)
	}
	kept := map[string]string{}
	for _, sh := range shoppers {
		kept[sh.admitted.ReservationID] = sh.ref
	}
	intents := map[string]bool{}
	for _, o := range refs.Orders {
		if o.PaymentRef == nil || *o.PaymentRef != kept[o.ReservationID] {
			t.Errorf("the Orders API shows payment_ref %v for the order of %s, want %s", o.PaymentRef, o.ReservationID, kept[o.ReservationID])
			continue
		}
		intents[*o.PaymentRef] = true
	}
	if len(refs.Orders) != stock || len(intents) != stock {
		t.Errorf("%d orders with %d PaymentIntents, want %d each with its own", len(refs.Orders), len(intents), stock)
	}
	// Stripe was asked for nothing more: no refund but the late success's.
	select {
	case c := <-calls:
		t.Errorf("an unexpected request to Stripe: %+v", c)
	default:
	}
}

// checkoutThroughStripe checks a shopper out, awaits the PaymentIntent the
// worker creates and the order's pending_payment push, and reads the order
// and the payment_ref the worker kept, which must be the PaymentIntent's.
func (s *system) checkoutThroughStripe(t *testing.T, ctx context.Context, saleID string, sh *stripeShopper, calls <-chan stripeCall) {
	t.Helper()
	s.checkout(t, saleID, sh.admitted.Token)
	c := awaitCharge(t, ctx, calls)
	if c.idempotencyKey != sh.admitted.ReservationID || c.status != http.StatusOK {
		t.Fatalf("the PaymentIntent of %s was asked with key %q and answered %d", sh.admitted.ReservationID, c.idempotencyKey, c.status)
	}
	orderStatus(t, ctx, sh.in, "pending_payment")
	if err := s.DB.QueryRow(`SELECT id, coalesce(payment_ref, '') FROM orders WHERE reservation_id = $1`,
		sh.admitted.ReservationID).Scan(&sh.orderID, &sh.ref); err != nil {
		t.Fatal(err)
	}
	if len(sh.ref) < 4 || sh.ref[:3] != "pi_" {
		t.Fatalf("the order of %s keeps payment_ref %q, want its PaymentIntent's id", sh.admitted.ReservationID, sh.ref)
	}
}

// nextStripeCall returns the next request the worker sent to Stripe.
func nextStripeCall(t *testing.T, ctx context.Context, calls <-chan stripeCall, what string) stripeCall {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-ctx.Done():
		t.Fatalf("waiting for %s: no request to Stripe", what)
	}
	return stripeCall{}
}
