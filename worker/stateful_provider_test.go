package worker_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// The decisions the stripe-mock tests cannot make (stripe-mock answers
// every PaymentIntent with one fixture status), made on the test provider
// deciding order by order: each order is charged, its webhook verified and
// settled as the gateway's would be, and the sweeper settles the two whose
// webhooks never came by asking the provider about their refs: the one
// paid at the provider ends paid (never cancelled for a lost webhook), the
// one never paid is cancelled. docs/payments.md says what each test proves.
func TestOrdersSettleAsTheProviderDecidedEachWhetherOrNotItsWebhookCame(t *testing.T) {
	db := newDB(t, 5)
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := waitingroom.NewRooms(rdb)
	var settler *worker.PaymentSettler // made below, with the provider that posts to gateway
	secret := []byte("test-webhook-secret")
	settled := make(chan error, 8)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// The provider posts the results that fall due together in one
		// webhook: one settled per result.
		results, err := checkout.VerifyWebhookResults(secret, body, r.Header.Get(checkout.SignatureHeader), time.Now())
		if err == nil {
			payload, _ := json.Marshal(orderstream.PaymentBatch{Results: results})
			err = settler.Handle(message.NewMessage(results[0].ReservationID, payload))
		}
		for range max(len(results), 1) {
			settled <- err
		}
	}))
	t.Cleanup(gateway.Close)
	outcomes := map[string]string{"r_001": "succeed", "r_002": "fail", "r_003": "lost", "r_004": "never"}
	provider := &checkout.TestProvider{WebhookURL: gateway.URL, Secret: secret, Delay: time.Millisecond, Log: discard,
		Decide: func(c checkout.Charge) string { return outcomes[c.ReservationID] }}
	t.Cleanup(provider.Close)
	settler = worker.NewPaymentSettler(db, rooms, rooms, provider, discard)
	settler.Timeout = time.Millisecond
	w := worker.NewOrderWriter(db, rooms, provider, discard)
	for _, i := range []int{1, 2, 3, 4, 3} { // r_003 redelivered: decided once
		if err := w.Handle(messageOf(t, confirmation(i))); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // r_001's and r_002's webhooks; the others send none
		select {
		case err := <-settled:
			if err != nil {
				t.Fatalf("settling a webhook: %v", err)
			}
		case <-t.Context().Done():
			t.Fatal("the provider's webhooks never came")
		}
	}
	ageOrders(t, db, time.Second)
	if n, err := settler.SweepTimedOut(t.Context()); err != nil || n != 2 {
		t.Fatalf("sweep settled %d, %v; want 2 (r_003 and r_004)", n, err)
	}
	want := map[string]string{"r_001": worker.OrderPaid, "r_002": worker.OrderCancelled,
		"r_003": worker.OrderPaid, "r_004": worker.OrderCancelled}
	for _, o := range orders(t, db) {
		if o.Status != want[o.ReservationID] {
			t.Errorf("order of %s (%s) is %s, want %s", o.ReservationID, outcomes[o.ReservationID], o.Status, want[o.ReservationID])
		}
	}
	if n := sold(t, db); n != 2 {
		t.Errorf("sold %d, want 2 (the paid ones)", n)
	}
	if status, _ := provider.Status(t.Context(), 999, ""); status != checkout.PaymentUnknown {
		t.Errorf("Status of an order never charged = %q, want unknown", status)
	}
}
