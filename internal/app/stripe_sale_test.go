package app_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// stripeEvent is one event Stripe sends about an order's PaymentIntent,
// and what the test awaits once it is answered: the shopper's push of the
// order ("paid", "cancelled"), the refund Foyer asks Stripe for
// ("refund"), the order still pending_payment in Postgres ("pending"), or
// nothing ("").
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

// stripeSale is the sale's payments settled by Stripe's events, one per
// shopper. Event ids repeat where Stripe retries one event: the gateway
// answers the repeat 200 "duplicate" and does not hand it on, so nothing
// is awaited after it. A failed attempt (payment_intent.payment_failed) is
// answered 200 "ignored" and settles nothing: the shopper may pay again.
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
	{"a card declined, then another card paid", []stripeEvent{
		{"evt_e0", "payment_intent.payment_failed", 0, "pending"},
		{"evt_e1", "payment_intent.succeeded", 0, "paid"}}, "paid"},
	{"cancelled at Stripe", []stripeEvent{{"evt_g", "payment_intent.canceled", 0, "cancelled"}}, "cancelled"},
	{"cancelled at Stripe, then paid late: refunded", []stripeEvent{
		{"evt_h0", "payment_intent.canceled", 0, "cancelled"},
		{"evt_h1", "payment_intent.succeeded", 0, "refund"}}, "cancelled"},
}

// stripeUnpaid are the payments no event settles: the shopper's cards
// were declined and it never paid, or no event ever came. Each order stays
// pending_payment until FOYER_PAYMENT_TIMEOUT; then the sweeper asks
// Stripe (stripe-mock's fixture: still waiting for a payment method),
// cancels the PaymentIntent, then the order, and its unit goes back.
var stripeUnpaid = []stripePayment{
	{"no event ever came", nil, "cancelled"},
	{"a card declined, and no other tried", []stripeEvent{{"evt_f", "payment_intent.payment_failed", 0, "pending"}}, "cancelled"},
	{"a card declined, its event delivered twice", []stripeEvent{
		{"evt_i", "payment_intent.payment_failed", 0, "pending"},
		{"evt_i", "payment_intent.payment_failed", 0, "pending"}}, "cancelled"},
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
// come as stripeSale says: most succeed, some twice, late or out of order,
// one after a declined card, one is cancelled at Stripe, one succeeds after
// its order was cancelled. Then the shoppers of stripeUnpaid check out:
// their cards are declined (which settles nothing) or no event comes, so
// the sweeper settles them at their timeout, by each PaymentIntent's id
// (stripe-mock answers its fixture, a PaymentIntent still waiting for a
// payment method: it is cancelled at Stripe, then the order).
// Afterwards Redis and Postgres agree that the orders paid are the units
// sold, no order was paid twice nor paid and cancelled, every unpaid or
// cancelled order's unit is back in the sale, and Stripe was asked for one
// refund (the late success's) and one status query and one cancel per
// unpaid order.
func TestASaleSoldThroughStripeEndsWithOrdersPaidEqualToUnitsSold(t *testing.T) {
	// The timeout must outlast the settling of the orders whose events come
	// (tens of milliseconds each); the unpaid shoppers check out after they
	// are settled, so only their orders are ever swept.
	sys, calls := startStripeSystemWith(t, map[string]string{"FOYER_PAYMENT_TIMEOUT": "3s"})
	stock := len(stripeSale) + len(stripeUnpaid)
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
	var swept []stripeCall // the sweeper's requests, met while awaiting a charge
	pay := func(s *stripeShopper, p stripePayment) {
		t.Helper()
		sys.checkoutThroughStripe(t, ctx, saleID, s, calls, &swept)
		meta := map[string]string{"order_id": strconv.FormatInt(s.orderID, 10), "sale_id": saleID,
			"reservation_id": s.admitted.ReservationID}
		for _, e := range p.events {
			want := "accepted"
			switch {
			case e.typ == "payment_intent.payment_failed":
				want = "ignored" // never handed on, so never remembered: a repeat is ignored again
			case seen[e.id]:
				want = "duplicate"
			}
			seen[e.id] = true
			if status, got := sys.postStripeIntentEvent(t, testStripeWebhookSecret, e.id, e.typ, s.ref, meta,
				time.Now().Add(-e.age)); status != http.StatusOK || got != want {
				t.Fatalf("%s: %s %s answered %d %s, want 200 %s", p.name, e.id, e.typ, status, got, want)
			}
			switch e.await {
			case "":
			case "pending":
				// The gateway answered without handing anything on: the
				// order is as it was, its unit still the shopper's.
				var status string
				if err := sys.DB.Get(&status, `SELECT status FROM orders WHERE id = $1`, s.orderID); err != nil || status != "pending_payment" {
					t.Fatalf("%s: after %s the order is %q (%v), want pending_payment", p.name, e.id, status, err)
				}
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
	for i, p := range stripeSale {
		pay(shoppers[i], p)
	}
	unpaid := shoppers[len(stripeSale):]
	for i, p := range stripeUnpaid {
		pay(unpaid[i], p)
	}

	// The unpaid orders are swept once FOYER_PAYMENT_TIMEOUT old: the
	// sweeper retrieves each PaymentIntent by the id the worker kept, then
	// cancels it at Stripe, so the shopper can no longer pay a unit given
	// back to the sale, then the order.
	for _, s := range unpaid {
		orderStatus(t, ctx, s.in, "cancelled")
	}
	for len(swept) < 2*len(unpaid) {
		swept = append(swept, nextStripeCall(t, ctx, calls, "the sweeper's requests"))
	}
	for _, s := range unpaid {
		var asked []string
		for _, c := range swept {
			switch {
			case c.method == http.MethodGet && c.path == "/v1/payment_intents/"+s.ref && c.status == http.StatusOK:
				asked = append(asked, "status")
			case c.method == http.MethodPost && c.path == "/v1/payment_intents/"+s.ref+"/cancel" &&
				c.idempotencyKey == "cancel-"+s.ref && c.status == http.StatusOK:
				asked = append(asked, "cancel")
			}
		}
		if strings.Join(asked, ",") != "status,cancel" {
			t.Errorf("the sweeper asked Stripe %v about %s; want its status by id (GET /v1/payment_intents/%s, not a search), "+
				"then its cancel keyed cancel-%[3]s, each answered 200 (all: %+v)", asked, s.admitted.ReservationID, s.ref, swept)
		}
	}

	wantStatus := map[string]string{}
	wantPaid := 0
	for i, p := range append(append([]stripePayment(nil), stripeSale...), stripeUnpaid...) {
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
	// Stripe was asked for nothing more: no refund but the late success's,
	// no status query nor cancel but the unpaid orders'.
	select {
	case c := <-calls:
		t.Errorf("an unexpected request to Stripe: %+v", c)
	default:
	}
}

// checkoutThroughStripe checks a shopper out, awaits the PaymentIntent the
// worker creates and the order's pending_payment push, which carries the
// PaymentIntent's client secret for the shopper's page, and reads the
// order and the payment_ref the worker kept, which must be the
// PaymentIntent's. A request of the sweeper that comes first (an unpaid
// order timed out meanwhile) is put in swept.
func (s *system) checkoutThroughStripe(t *testing.T, ctx context.Context, saleID string, sh *stripeShopper,
	calls <-chan stripeCall, swept *[]stripeCall) {
	t.Helper()
	s.checkout(t, saleID, sh.admitted.Token)
	for {
		c := nextStripeCall(t, ctx, calls, "the PaymentIntent of "+sh.admitted.ReservationID)
		if c.method != http.MethodPost || c.path != "/v1/payment_intents" {
			*swept = append(*swept, c)
			continue
		}
		if c.idempotencyKey != sh.admitted.ReservationID || c.status != http.StatusOK {
			t.Fatalf("the PaymentIntent of %s was asked with key %q and answered %d", sh.admitted.ReservationID, c.idempotencyKey, c.status)
		}
		break
	}
	m := pendingOrder(t, ctx, sh.in)
	if m.Payment == nil || m.Payment.ClientSecret == "" || m.Payment.PublishableKey != testStripePublishableKey {
		t.Fatalf("the pending order of %s was pushed %s; want its payment, to pay on the page", sh.admitted.ReservationID, m.Raw)
	}
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
