package checkout_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestAWebhookSignatureHoldsOnlyForItsBodyAndWithinTheTolerance(t *testing.T) {
	secret := []byte("webhook-secret")
	body := []byte(`{"order_id":7,"sale_id":"s_1","reservation_id":"r_1","status":"paid"}`)
	now := time.Now()
	good := checkout.Sign(secret, body, now)
	_, v1, _ := strings.Cut(good, ",")
	cases := []struct {
		name, header string
		body         []byte
		want         error
	}{
		{"signed now", good, body, nil},
		{"signed 4 minutes ago", checkout.Sign(secret, body, now.Add(-4*time.Minute)), body, nil},
		{"a second signature for a rotated secret", good + ",v1=00ff", body, nil},
		{"signed 6 minutes ago (a replay)", checkout.Sign(secret, body, now.Add(-6*time.Minute)), body, checkout.ErrWebhookExpired},
		{"signed 6 minutes ahead", checkout.Sign(secret, body, now.Add(6*time.Minute)), body, checkout.ErrWebhookExpired},
		{"its signature with another time", "t=" + "1" + "," + v1, body, checkout.ErrBadSignature},
		{"another body", good, append([]byte(" "), body...), checkout.ErrBadSignature},
		{"another secret", checkout.Sign([]byte("not-it"), body, now), body, checkout.ErrBadSignature},
		{"the old unsigned-time form", "sha256=" + strings.TrimPrefix(v1, "v1="), body, checkout.ErrBadSignature},
		{"no time", v1, body, checkout.ErrBadSignature},
		{"two times", "t=1," + good, body, checkout.ErrBadSignature},
		{"nothing", "", body, checkout.ErrBadSignature},
	}
	for _, tc := range cases {
		_, err := checkout.VerifyWebhook(secret, tc.body, tc.header, now)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	noReservation := []byte(`{"order_id":7,"sale_id":"s_1","status":"paid"}`)
	_, err := checkout.VerifyWebhook(secret, noReservation, checkout.Sign(secret, noReservation, now), now)
	if err == nil || errors.Is(err, checkout.ErrBadSignature) {
		t.Errorf("a result without its reservation: %v, want refused as no payment result", err)
	}
}

// webhookServer answers 503 to the first refuse posts, then 202, and tells
// each result it verified, alone or in a batch, on accepted.
func webhookServer(t *testing.T, refuse int64, secret []byte) (*httptest.Server, *atomic.Int64, chan orderstream.PaymentResult) {
	var posts atomic.Int64
	accepted := make(chan orderstream.PaymentResult, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if posts.Add(1) <= refuse {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		results, err := checkout.VerifyWebhookResults(secret, body, r.Header.Get(checkout.SignatureHeader), time.Now())
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		for _, res := range results {
			accepted <- res
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &posts, accepted
}

// The test provider sends a webhook the gateway refused again, with backoff,
// until it is accepted; it used to give up after one try, and the order was
// cancelled at the timeout though its payment succeeded.
func TestTheTestProviderSendsARefusedWebhookAgainUntilItIsAccepted(t *testing.T) {
	secret := []byte("webhook-secret")
	srv, posts, accepted := webhookServer(t, 3, secret)
	p := &checkout.TestProvider{Outcome: "succeed", WebhookURL: srv.URL, Secret: secret, Delay: time.Millisecond, Log: quiet}
	t.Cleanup(p.Close)
	charge := checkout.Charge{OrderID: 7, SaleID: "s_1", ReservationID: "r_1", AmountCents: 100, Currency: "EUR"}
	if _, err := p.Charge(context.Background(), charge); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-accepted:
		if res.OrderID != 7 || res.SaleID != "s_1" || res.ReservationID != "r_1" || res.Status != checkout.PaymentPaid {
			t.Errorf("accepted %+v, want order 7 of s_1, r_1, paid", res)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no webhook accepted after %d posts", posts.Load())
	}
	if n := posts.Load(); n != 4 {
		t.Errorf("%d posts, want 4 (3 refused, then accepted)", n)
	}
	if status, _ := p.Status(context.Background(), 7, ""); status != checkout.PaymentPaid {
		t.Errorf("status %q, want paid", status)
	}
}

// deliveries counts the goroutines posting the provider's webhooks.
func deliveries() int {
	return testenv.CountGoroutines("checkout.(*TestProvider).deliver(")
}

// providerGoroutines counts the goroutines of test providers: each
// charged provider's gatherer and its deliveries.
func providerGoroutines() int {
	return testenv.CountGoroutines("checkout.(*TestProvider).")
}

// Close stops the deliveries under way and those still waiting for their
// delay, and returns only once their goroutines ended: none posts after it.
func TestClosingTheTestProviderStopsItsDeliveriesAndWaitsForThem(t *testing.T) {
	secret := []byte("webhook-secret")
	srv, posts, _ := webhookServer(t, 1<<30, secret) // refuses every post: retried on and on
	retrying := &checkout.TestProvider{Outcome: "succeed", WebhookURL: srv.URL, Secret: secret, Delay: time.Millisecond, Log: quiet}
	waiting := &checkout.TestProvider{Outcome: "fail", WebhookURL: srv.URL, Secret: secret, Delay: time.Hour, Log: quiet}
	for i, p := range []*checkout.TestProvider{retrying, waiting} {
		if _, err := p.Charge(context.Background(), checkout.Charge{OrderID: int64(i + 1), SaleID: "s_1", ReservationID: "r_1"}); err != nil {
			t.Fatal(err)
		}
	}
	for posts.Load() < 2 { // the retrying one is retrying
		runtime.Gosched()
	}
	// Each provider's gatherer, and the retrying one's delivery.
	if n := providerGoroutines(); n != 3 {
		t.Fatalf("%d provider goroutines running, want 3", n)
	}
	closed := make(chan struct{})
	go func() { retrying.Close(); waiting.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10s: it waited for a delay of an hour")
	}
	// Close returned once every goroutine said it was done (its deferred
	// Done); each may still be on its way out of its last frames, which
	// runtime.Stack shows for a moment: wait for them to leave.
	for deadline := time.Now().Add(5 * time.Second); providerGoroutines() != 0; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("%d provider goroutines still running 5s after Close, want none", providerGoroutines())
		}
	}
	if _, err := retrying.Charge(context.Background(), checkout.Charge{OrderID: 9}); !errors.Is(err, checkout.ErrProviderClosed) {
		t.Errorf("a charge after Close: %v, want ErrProviderClosed", err)
	}
	if status, _ := waiting.Status(context.Background(), 2, ""); status != checkout.PaymentFailed {
		t.Errorf("status of the undelivered failure %q, want failed: the provider decided it", status)
	}
}
