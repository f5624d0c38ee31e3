package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/stripepay"
	"github.com/foyerhq/foyer/internal/testenv"
)

const (
	testStripeKey            = "sk_test_FoyerOnStripeMock4242"
	testStripeWebhookSecret  = "whsec_test_foyer_stripe_endpoint"
	testStripePublishableKey = "pk_test_FoyerOnStripeMock4242"
)

// stripeCall is a request the worker sent to Stripe (stripe-mock), and
// stripe-mock's answer: 200 means Stripe's spec accepts the request.
type stripeCall struct {
	method, path, idempotencyKey string
	form                         url.Values
	status                       int
}

// startStripeSystem starts a system whose payment provider is Stripe, on a
// stripe-mock behind a proxy that reports every request the worker sends.
func startStripeSystem(t *testing.T) (*system, <-chan stripeCall) {
	t.Helper()
	return startStripeSystemWith(t, nil)
}

// startStripeSystemWith is startStripeSystem with more settings.
func startStripeSystemWith(t *testing.T, more map[string]string) (*system, <-chan stripeCall) {
	t.Helper()
	mock := testenv.NewStripeMock(t)
	target, _ := url.Parse(mock.URL())
	calls := make(chan stripeCall, 64)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		req := resp.Request
		c := stripeCall{method: req.Method, path: req.URL.Path, idempotencyKey: req.Header.Get("Idempotency-Key"),
			form: req.URL.Query(), status: resp.StatusCode}
		if body, ok := req.Context().Value(bodyKey{}).([]byte); ok && len(body) > 0 {
			c.form, _ = url.ParseQuery(string(body))
		}
		select {
		case calls <- c:
		default:
			t.Errorf("a request to Stripe not awaited: %+v", c)
		}
		return nil
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, body)))
	}))
	t.Cleanup(front.Close)
	settings := map[string]string{
		"FOYER_PAYMENT_PROVIDER": "stripe", "FOYER_STRIPE_SECRET_KEY": testStripeKey,
		"FOYER_STRIPE_WEBHOOK_SECRET": testStripeWebhookSecret, "FOYER_STRIPE_API_BASE": front.URL,
		"FOYER_STRIPE_PUBLISHABLE_KEY": testStripePublishableKey,
	}
	maps.Copy(settings, more)
	sys := startNodes(t, 1, settings)
	return sys, calls
}

type bodyKey struct{}

// postStripeEvent posts a Stripe event about the PaymentIntent of an order,
// signed at signedAt with secret by stripe-go's test helper, and returns
// the answer's status, and its status field or error code.
func (s *system) postStripeEvent(t *testing.T, secret, eventID, typ string, meta map[string]string, signedAt time.Time) (int, string) {
	t.Helper()
	return s.postStripeIntentEvent(t, secret, eventID, typ, "pi_"+meta["order_id"], meta, signedAt)
}

// postStripeIntentEvent is postStripeEvent about the PaymentIntent intentID.
func (s *system) postStripeIntentEvent(t *testing.T, secret, eventID, typ, intentID string, meta map[string]string, signedAt time.Time) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"id": eventID, "object": "event", "type": typ, "api_version": "2025-07-30.basil",
		"created": signedAt.Unix(), "data": map[string]any{"object": map[string]any{
			"id": intentID, "object": "payment_intent", "status": "succeeded", "metadata": meta}}})
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: signedAt})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/payments/stripe/webhook", bytes.NewReader(signed.Payload))
	req.Header.Set(stripepay.SignatureHeader, signed.Header)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string
		Error  struct{ Code string }
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if out.Error.Code != "" {
		return resp.StatusCode, out.Error.Code
	}
	return resp.StatusCode, out.Status
}

// stripeOrder buys one unit of a new Stripe sale and returns the sale, the
// shopper's inbox and the metadata Stripe's events carry for its order.
func stripeOrder(t *testing.T, ctx context.Context, sys *system, calls <-chan stripeCall) (string, *inbox, map[string]string) {
	t.Helper()
	saleID := sys.createSale(t, map[string]any{"sku": "STRIPE-1", "name": "Stripe", "stock": 1, "price_cents": 1500,
		"currency": "EUR", "outflow_per_second": 100})
	in := buyOne(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "pending_payment")
	awaitCharge(t, ctx, calls)
	orderID, reservation, _ := sys.orderOf(t, saleID)
	return saleID, in, map[string]string{"order_id": strconv.FormatInt(orderID, 10), "sale_id": saleID,
		"reservation_id": reservation}
}

// awaitCharge waits for the worker's PaymentIntent request.
func awaitCharge(t *testing.T, ctx context.Context, calls <-chan stripeCall) stripeCall {
	t.Helper()
	select {
	case c := <-calls:
		if c.method != http.MethodPost || c.path != "/v1/payment_intents" {
			t.Fatalf("the worker sent %s %s, want POST /v1/payment_intents", c.method, c.path)
		}
		return c
	case <-ctx.Done():
		t.Fatal("the worker never charged the order at Stripe")
	}
	return stripeCall{}
}

// TestStripeIsAskedForTheOrdersAmountInTheSalesCurrencyKeyedByTheReservation
// checks what the worker sends stripe-mock for an order of two units, and
// that stripe-mock, Stripe's spec, accepts it.
func TestStripeIsAskedForTheOrdersAmountInTheSalesCurrencyKeyedByTheReservation(t *testing.T) {
	sys, calls := startStripeSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "STRIPE-2", "name": "Pair", "stock": 2, "price_cents": 1250,
		"currency": "EUR", "per_shopper_limit": 2, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	if status := sys.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "",
		map[string]any{"token": admitted.Token, "quantity": 2}, nil); status != http.StatusOK {
		t.Fatalf("checkout: %d", status)
	}
	c := awaitCharge(t, ctx, calls)
	orderID, reservation, status := sys.orderOf(t, saleID)
	var txn string
	sys.DB.Get(&txn, `SELECT transaction_id FROM orders WHERE id = $1`, orderID)
	want := map[string]string{"amount": "2500", "currency": "eur", "metadata[order_id]": strconv.FormatInt(orderID, 10),
		"metadata[sale_id]": saleID, "metadata[reservation_id]": reservation, "metadata[transaction_id]": txn}
	for k, v := range want {
		if got := c.form.Get(k); got != v || v == "" {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if c.idempotencyKey != reservation || c.status != http.StatusOK {
		t.Errorf("Idempotency-Key %q answered %d; want the reservation %s, answered 200", c.idempotencyKey, c.status, reservation)
	}
	if status != "pending_payment" {
		t.Errorf("order %s before Stripe's webhook, want pending_payment", status)
	}
}

// TestASignedStripeSuccessMarksTheOrderPaidOnceHoweverOftenItComes: the
// event again (Stripe retries with the same id) changes nothing.
func TestASignedStripeSuccessMarksTheOrderPaidOnceHoweverOftenItComes(t *testing.T) {
	sys, calls := startStripeSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	saleID, in, meta := stripeOrder(t, ctx, sys, calls)
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_paid", "payment_intent.succeeded", meta, time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("succeeded: %d %s", status, got)
	}
	orderStatus(t, ctx, in, "paid")
	before := sys.snapshot(t, saleID)
	// A cancellation after it (out of order, or forged with the right
	// secret) changes nothing either. It goes first: the duplicate success
	// after it, on the same stream, is settled after it, and announced.
	if status, _ := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_late", "payment_intent.canceled", meta, time.Now()); status != http.StatusOK {
		t.Fatalf("late cancellation: %d", status)
	}
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_paid", "payment_intent.succeeded", meta, time.Now()); status != http.StatusOK || got != "duplicate" {
		t.Fatalf("the same event again: %d %s, want 200 duplicate", status, got)
	}
	// Another event of the same success (Stripe's ids differ) is handed on.
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_paid_again", "payment_intent.succeeded", meta, time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("succeeded again: %d %s", status, got)
	}
	orderStatus(t, ctx, in, "paid") // the settler announces a paid order again: harmless, and our sign it is done
	sys.assertUnchanged(t, saleID, before, "a duplicate success and a late cancellation")
	if available, sold, pgSold, status := sys.stockAfter(t, saleID); available != 0 || sold != 1 || pgSold != 1 || status != "paid" {
		t.Errorf("after the duplicate: available %d, sold %d, postgres sold %d, order %s", available, sold, pgSold, status)
	}
}

// TestAStripeEventSentTwiceIsHandedToTheWorkersOnce: Stripe retries an
// event with the same id; the gateway remembers the id (for a bit beyond
// Stripe's retry window) and answers the retry 200 without publishing it.
func TestAStripeEventSentTwiceIsHandedToTheWorkersOnce(t *testing.T) {
	sys, calls := startStripeSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, in, meta := stripeOrder(t, ctx, sys, calls)
	published := func() int64 {
		return streamLength(t, sys.Redis, orderstream.Payments)
	}
	before := published()
	for i, want := range []string{"accepted", "duplicate"} {
		if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_twice", "payment_intent.succeeded", meta, time.Now()); status != http.StatusOK || got != want {
			t.Fatalf("delivery %d: %d %s, want 200 %s", i+1, status, got, want)
		}
	}
	if n := published() - before; n != 1 {
		t.Errorf("%d results published, want 1", n)
	}
	ttl := sys.Redis.TTL(ctx, "stripe:event:evt_twice").Val()
	if ttl < 72*time.Hour || ttl > stripepay.EventTTL {
		t.Errorf("event id kept for %v, want a bit beyond Stripe's 72h of retries, bounded", ttl)
	}
	orderStatus(t, ctx, in, "paid")
}

// TestAFailedStripeAttemptLeavesTheOrderPendingForTheShopperToPayAgain:
// the Payment Element shows the decline at once and the shopper may try
// another card on the same PaymentIntent, so payment_intent.payment_failed
// is acknowledged (200 ignored) and changes nothing; the shopper's next
// card succeeds and pays the order.
func TestAFailedStripeAttemptLeavesTheOrderPendingForTheShopperToPayAgain(t *testing.T) {
	sys, calls := startStripeSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	saleID, in, meta := stripeOrder(t, ctx, sys, calls)
	before := sys.snapshot(t, saleID)
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_failed", "payment_intent.payment_failed", meta, time.Now()); status != http.StatusOK || got != "ignored" {
		t.Fatalf("payment_failed: %d %s, want 200 ignored", status, got)
	}
	sys.assertUnchanged(t, saleID, before, "a failed attempt")
	if available, sold, pgSold, status := sys.stockAfter(t, saleID); available != 0 || sold != 1 || pgSold != 1 || status != "pending_payment" {
		t.Errorf("after the failed attempt: available %d, sold %d, postgres sold %d, order %s; want the unit still the shopper's, pending_payment",
			available, sold, pgSold, status)
	}
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_paid", "payment_intent.succeeded", meta, time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("succeeded: %d %s", status, got)
	}
	orderStatus(t, ctx, in, "paid")
}

// TestAStripePaymentIntentCanceledCancelsTheOrderAndGivesTheUnitBack: a
// PaymentIntent cancelled at Stripe (in its dashboard, say) can no longer
// be paid, so its order is cancelled and its unit goes back.
func TestAStripePaymentIntentCanceledCancelsTheOrderAndGivesTheUnitBack(t *testing.T) {
	sys, calls := startStripeSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	saleID, in, meta := stripeOrder(t, ctx, sys, calls)
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_canceled", "payment_intent.canceled", meta, time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("canceled: %d %s", status, got)
	}
	orderStatus(t, ctx, in, "cancelled")
	if available, sold, pgSold, status := sys.stockAfter(t, saleID); available != 1 || sold != 0 || pgSold != 0 || status != "cancelled" {
		t.Errorf("after the cancellation: available %d, sold %d, postgres sold %d, order %s", available, sold, pgSold, status)
	}
}

// TestAForgedStaleOrForeignStripeWebhookChangesNothing: forged and stale
// are refused with their codes; an event of another type, or about a
// payment Foyer did not make, is acknowledged and ignored.
func TestAForgedStaleOrForeignStripeWebhookChangesNothing(t *testing.T) {
	sys, calls := startStripeSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	saleID, _, meta := stripeOrder(t, ctx, sys, calls)
	before := sys.snapshot(t, saleID)
	for _, c := range []struct {
		name, secret, typ string
		meta              map[string]string
		at                time.Time
		status            int
		want              string
	}{
		{"forged", "whsec_someone_else", "payment_intent.succeeded", meta, time.Now(), http.StatusUnauthorized, "webhook_signature_invalid"},
		{"stale", testStripeWebhookSecret, "payment_intent.succeeded", meta, time.Now().Add(-checkout.WebhookTolerance - time.Minute),
			http.StatusUnauthorized, "webhook_timestamp_expired"},
		{"another type", testStripeWebhookSecret, "customer.created", meta, time.Now(), http.StatusOK, "ignored"},
		{"another payment of the shop", testStripeWebhookSecret, "payment_intent.canceled",
			map[string]string{"cart": "9"}, time.Now(), http.StatusOK, "ignored"},
		{"a failed attempt", testStripeWebhookSecret, "payment_intent.payment_failed", meta, time.Now(), http.StatusOK, "ignored"},
	} {
		if status, got := sys.postStripeEvent(t, c.secret, "evt_"+c.name, c.typ, c.meta, c.at); status != c.status || got != c.want {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, got, c.status, c.want)
		}
	}
	sys.assertUnchanged(t, saleID, before, "refused and ignored Stripe webhooks")
	if _, _, _, status := sys.stockAfter(t, saleID); status != "pending_payment" {
		t.Errorf("order %s, want still pending_payment", status)
	}
}

func TestTheStripeWebhookRouteIsThereOnlyWhenStripeTakesTheMoney(t *testing.T) {
	sys := startSystem(t)
	if status, _ := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_x", "payment_intent.succeeded",
		map[string]string{"order_id": "1", "sale_id": "s", "reservation_id": "r"}, time.Now()); status != http.StatusNotFound {
		t.Errorf("with the test provider: %d, want 404", status)
	}
}

// TestAStripePaymentThatSucceedsAfterItsOrderWasCancelledIsRefunded: the
// order was cancelled (its PaymentIntent cancelled, its unit back in the
// sale) when the success comes;
// the settler refunds the PaymentIntent Stripe's event named, once, records
// the refund (the payments summary counts it) and tells the shopper; the
// order and the stock stay as they were.
func TestAStripePaymentThatSucceedsAfterItsOrderWasCancelledIsRefunded(t *testing.T) {
	sys, calls := startStripeSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	saleID, in, meta := stripeOrder(t, ctx, sys, calls)
	if status, _ := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_canceled", "payment_intent.canceled", meta, time.Now()); status != http.StatusOK {
		t.Fatalf("canceled: %d", status)
	}
	orderStatus(t, ctx, in, "cancelled")
	before := sys.snapshot(t, saleID)
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_late", "payment_intent.succeeded", meta, time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("late success: %d %s", status, got)
	}
	select {
	case c := <-calls:
		intent := "pi_" + meta["order_id"]
		if c.method != http.MethodPost || c.path != "/v1/refunds" || c.form.Get("payment_intent") != intent ||
			c.idempotencyKey != "refund-"+intent || c.status != http.StatusOK {
			t.Fatalf("sent %+v; want a refund of %s keyed refund-%s, answered 200", c, intent, intent)
		}
	case <-ctx.Done():
		t.Fatal("the late payment was never refunded")
	}
	orderStatus(t, ctx, in, "refunded") // the shopper's page is told
	sys.assertUnchanged(t, saleID, before, "a late success")
	if available, sold, pgSold, status := sys.stockAfter(t, saleID); available != 1 || sold != 0 || pgSold != 0 || status != "cancelled" {
		t.Errorf("after the refund: available %d, sold %d, postgres sold %d, order %s", available, sold, pgSold, status)
	}
	var sum paymentSummary
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/payments", sys.AdminToken, nil, &sum); status != http.StatusOK {
		t.Fatalf("GET payments: %d", status)
	}
	if sum.Refunded != (paymentTally{1, 1500}) || sum.Failed != (paymentTally{1, 1500}) {
		t.Errorf("payments = %+v, want the cancelled order failed and its payment refunded, 1500", sum)
	}
}
