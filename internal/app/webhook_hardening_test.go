package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/worker"
)

// postWebhook posts a payment result signed at the given time and returns
// the status and error code of the answer.
func (s *system) postWebhook(t *testing.T, r orderstream.PaymentResult, signedAt time.Time) (int, string) {
	t.Helper()
	body, _ := json.Marshal(r)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/payments/webhook", bytes.NewReader(body))
	req.Header.Set(checkout.SignatureHeader, checkout.Sign([]byte(testWebhookSecret), body, signedAt))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Error struct{ Code string } }
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error.Code
}

// orderOf returns the only order of a sale: its id, reservation and status.
func (s *system) orderOf(t *testing.T, saleID string) (id int64, reservation, status string) {
	t.Helper()
	if err := s.DB.QueryRow(`SELECT id, reservation_id, status FROM orders WHERE sale_id = $1`, saleID).
		Scan(&id, &reservation, &status); err != nil {
		t.Fatal(err)
	}
	return id, reservation, status
}

// A webhook's signature covers its time: a body captured and replayed once
// the 5-minute tolerance has passed (or one dated ahead) is refused, and
// changes nothing. The same body signed now goes through.
func TestAWebhookSignedOutsideTheToleranceIsRefusedAndChangesNothing(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	saleID := sys.createSale(t, map[string]any{"sku": "W-1", "name": "Replay", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "pending_payment")
	orderID, reservation, _ := sys.orderOf(t, saleID)
	result := orderstream.PaymentResult{OrderID: orderID, SaleID: saleID, ReservationID: reservation, Status: checkout.PaymentFailed}
	for name, at := range map[string]time.Time{
		"signed 6 minutes ago":      time.Now().Add(-6 * time.Minute),
		"signed a day ago":          time.Now().Add(-24 * time.Hour),
		"signed 6 minutes from now": time.Now().Add(6 * time.Minute),
	} {
		if status, code := sys.postWebhook(t, result, at); status != http.StatusUnauthorized || code != "webhook_timestamp_expired" {
			t.Errorf("%s: %d %q, want 401 webhook_timestamp_expired", name, status, code)
		}
	}
	// Refused at the gateway: nothing was handed to the workers.
	if _, _, status := sys.orderOf(t, saleID); status != worker.OrderPendingPayment {
		t.Fatalf("after refused webhooks the order is %s, want pending_payment", status)
	}
	if status, code := sys.postWebhook(t, result, time.Now().Add(-time.Minute)); status != http.StatusAccepted {
		t.Fatalf("signed a minute ago: %d %q, want 202", status, code)
	}
	orderStatus(t, ctx, in, "cancelled")
}

// A signed result that names an order with another sale's reservation does
// not settle that order: the worker sets it aside for an operator.
func TestAWebhookNamingAnOrderWithAnotherSalesReservationDoesNotPayIt(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	saleA := sys.createSale(t, map[string]any{"sku": "W-2", "name": "A", "stock": 1, "outflow_per_second": 100})
	saleB := sys.createSale(t, map[string]any{"sku": "W-3", "name": "B", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inA, inB := buyOne(t, ctx, sys, saleA), buyOne(t, ctx, sys, saleB)
	orderStatus(t, ctx, inA, "pending_payment")
	orderStatus(t, ctx, inB, "pending_payment")
	orderA, _, _ := sys.orderOf(t, saleA)
	_, reservationB, _ := sys.orderOf(t, saleB)

	for _, mixed := range []orderstream.PaymentResult{
		{OrderID: orderA, SaleID: saleB, ReservationID: reservationB, Status: checkout.PaymentPaid},
		{OrderID: orderA, SaleID: saleA, ReservationID: reservationB, Status: checkout.PaymentPaid},
	} {
		if status, code := sys.postWebhook(t, mixed, time.Now()); status != http.StatusAccepted {
			t.Fatalf("webhook: %d %q, want 202 (the gateway does not know orders)", status, code)
		}
	}
	// Each refused result ends on the poison topic: wait for both.
	for seen, last := 0, "0"; seen < 2; {
		streams, err := sys.Redis.XRead(ctx, &redis.XReadArgs{Streams: []string{orderstream.PoisonTopic, last}, Block: 20 * time.Second}).Result()
		if err != nil {
			t.Fatalf("%d mismatched results on the poison topic, want 2: %v", seen, err)
		}
		for _, m := range streams[0].Messages {
			seen, last = seen+1, m.ID
		}
	}
	for _, saleID := range []string{saleA, saleB} {
		if _, _, status := sys.orderOf(t, saleID); status != worker.OrderPendingPayment {
			t.Errorf("order of sale %s is %s after a mismatched result, want pending_payment", saleID, status)
		}
	}
}

// refusingProxy stands in front of the gateway's webhook and answers 503 to
// the first refuse posts (as a gateway whose Redis is down does), then
// passes the rest on. A negative refuse refuses all.
type refusingProxy struct {
	*httptest.Server
	gateway  atomic.Pointer[string]
	posts    atomic.Int64
	accepted atomic.Int64
	posted   chan struct{} // a token per post, as long as it has room
}

func newRefusingProxy(t *testing.T, refuse int64) *refusingProxy {
	p := &refusingProxy{posted: make(chan struct{}, 100)}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.posts.Add(1)
		select {
		case p.posted <- struct{}{}:
		default:
		}
		target := p.gateway.Load()
		if refuse < 0 || n <= refuse || target == nil {
			http.Error(w, `{"error":{"code":"unavailable"}}`, http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if forwardWebhook(w, r, *target, body) {
			p.accepted.Add(1)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

// forwardWebhook posts a webhook's body, with its headers, to target and
// answers w with what target answered (502 when it could not be reached);
// it reports whether target accepted it.
func forwardWebhook(w http.ResponseWriter, r *http.Request, target string, body []byte) bool {
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, target, bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return false
	}
	resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	return resp.StatusCode < 300
}

// settled waits for the order's first status after pending_payment.
func settled(t *testing.T, ctx context.Context, in *inbox) string {
	t.Helper()
	for {
		m, err := in.next(ctx, "order")
		if err != nil {
			t.Fatalf("waiting for the order to settle: %v", err)
		}
		if m.Status != "pending_payment" {
			return m.Status
		}
	}
}

// The provider sends a webhook the gateway refused again, with backoff,
// until it is accepted: a payment that succeeded while the gateway could
// not take its webhook ends paid, not cancelled at the timeout with its
// unit resold.
func TestAPaymentWhoseWebhookWasRefusedAtFirstEndsPaid(t *testing.T) {
	proxy := newRefusingProxy(t, 3)
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_TIMEOUT": "6s",
		"FOYER_PAYMENT_WEBHOOK_URL": proxy.URL + "/v1/payments/webhook"})
	proxy.gateway.Store(new(sys.URL + "/v1/payments/webhook"))
	saleID := sys.createSale(t, map[string]any{"sku": "W-4", "name": "Retried", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, saleID)
	if status := settled(t, ctx, in); status != "paid" {
		t.Fatalf("order %s after %d webhook posts, want paid", status, proxy.posts.Load())
	}
	if posts, accepted := proxy.posts.Load(), proxy.accepted.Load(); posts != 4 || accepted != 1 {
		t.Errorf("%d webhook posts, %d accepted; want 4 (3 refused) and 1", posts, accepted)
	}
}

// A payment whose webhook never got through is not cancelled for it: at the
// timeout the worker asks the provider, which says paid.
func TestAPaymentPaidAtTheProviderWhoseWebhookNeverCameEndsPaid(t *testing.T) {
	proxy := newRefusingProxy(t, -1)
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_TIMEOUT": "2s",
		"FOYER_PAYMENT_WEBHOOK_URL": proxy.URL + "/v1/payments/webhook"})
	saleID := sys.createSale(t, map[string]any{"sku": "W-5", "name": "Lost webhook", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, saleID)
	if status := settled(t, ctx, in); status != "paid" {
		t.Fatalf("order %s, want paid", status)
	}
	if available, sold, pgSold, status := sys.stockAfter(t, saleID); available != 0 || sold != 1 || pgSold != 1 || status != "paid" {
		t.Errorf("available %d, sold %d, postgres sold %d, order %s; want 0, 1, 1, paid", available, sold, pgSold, status)
	}
	if proxy.accepted.Load() != 0 {
		t.Error("a webhook got through; this test is of one that never does")
	}
}

// deliveries counts the goroutines delivering the test provider's webhooks.
func deliveries() int {
	return testenv.CountGoroutines("checkout.(*TestProvider).deliver(")
}

// The worker's Run ends the test provider's deliveries before it returns: a
// webhook being retried when the worker stops is not posted after it.
func TestTheWorkersRunEndsItsWebhookDeliveriesBeforeItReturns(t *testing.T) {
	proxy := newRefusingProxy(t, -1)
	// Cleanups run last first: this one runs after the system's, which
	// return once the worker's Run has, and before the proxy closes.
	t.Cleanup(func() {
		if n := deliveries(); n != 0 {
			t.Errorf("%d webhook deliveries still running after the worker's Run returned, want none", n)
		}
	})
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_TIMEOUT": "1m",
		"FOYER_PAYMENT_WEBHOOK_URL": proxy.URL + "/v1/payments/webhook"})
	saleID := sys.createSale(t, map[string]any{"sku": "W-6", "name": "Stopping", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	buyOne(t, ctx, sys, saleID)
	for range 2 { // refused, and being retried
		select {
		case <-proxy.posted:
		case <-ctx.Done():
			t.Fatal("the provider posted no webhook")
		}
	}
	if n := deliveries(); n != 1 {
		t.Fatalf("%d webhook deliveries running, want 1", n)
	}
}
