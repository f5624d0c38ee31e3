package checkout_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
)

// batchGateway verifies every webhook as the gateway does, refuses the
// first refuse posts with 503, and keeps the orders of each post.
type batchGateway struct {
	*httptest.Server
	mu       sync.Mutex
	refused  [][]int64 // the orders of each refused post, in order
	accepted [][]int64 // the orders of each accepted post, in order
	got      chan struct{}
}

func newBatchGateway(t *testing.T, secret []byte, refuse int) *batchGateway {
	g := &batchGateway{got: make(chan struct{}, 1)}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		results, err := checkout.VerifyWebhookResults(secret, body, r.Header.Get(checkout.SignatureHeader), time.Now())
		if err != nil {
			t.Errorf("the provider posted a webhook the gateway refuses: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		orders := make([]int64, len(results))
		for i, res := range results {
			orders[i] = res.OrderID
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.refused) < refuse {
			g.refused = append(g.refused, orders)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		g.accepted = append(g.accepted, orders)
		w.WriteHeader(http.StatusAccepted)
		select {
		case g.got <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(g.Close)
	return g
}

// acceptedOrders is every order accepted, as often as it was.
func (g *batchGateway) acceptedOrders() []int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Concat(g.accepted...)
}

// awaitAccepted waits until n results were accepted.
func (g *batchGateway) awaitAccepted(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for len(g.acceptedOrders()) < n {
		select {
		case <-g.got:
		case <-deadline:
			t.Fatalf("%d results accepted within 20s, want %d", len(g.acceptedOrders()), n)
		}
	}
}

func chargeOrders(t *testing.T, p *checkout.TestProvider, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if _, err := p.Charge(context.Background(), checkout.Charge{OrderID: int64(i), SaleID: "s_1", ReservationID: "r"}); err != nil {
			t.Fatal(err)
		}
	}
}

// Results that fall due together go in one webhook of at most
// MaxWebhookResults, each order in exactly one accepted webhook, even when
// its charge came twice. Every result used to cost a webhook of its own.
func TestTheTestProviderSendsResultsThatFallDueTogetherInBatches(t *testing.T) {
	const orders = 600
	secret := []byte("webhook-secret")
	g := newBatchGateway(t, secret, 0)
	p := &checkout.TestProvider{Outcome: "succeed", WebhookURL: g.URL, Secret: secret, Delay: 50 * time.Millisecond, Log: quiet}
	t.Cleanup(p.Close)
	for i := 1; i <= orders; i++ {
		chargeOrders(t, p, i, i)
		chargeOrders(t, p, i, i) // redelivered while its result waits: answered once
	}
	g.awaitAccepted(t, orders)
	got := g.acceptedOrders()
	slices.Sort(got)
	if len(got) != orders || len(slices.Compact(got)) != orders {
		t.Errorf("%d results accepted for %d distinct orders, want each of %d once", len(got), len(slices.Compact(got)), orders)
	}
	for _, post := range g.accepted {
		if len(post) > checkout.MaxWebhookResults {
			t.Errorf("a webhook of %d results, want at most %d", len(post), checkout.MaxWebhookResults)
		}
	}
	if posts := len(g.accepted); posts*10 > orders {
		t.Errorf("%d webhooks for %d orders charged together, want at most one per 10", posts, orders)
	}
	// The gateway counted the last batch before its answer reached the
	// provider: wait for the provider to hear it.
	for deadline := time.Now().Add(10 * time.Second); p.Delivering() > 0 && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	if n := p.Delivering(); n != 0 {
		t.Errorf("the provider holds %d orders after every webhook was accepted, want 0", n)
	}
}

// A batch the gateway refused is sent again whole, the same orders
// together, and each order is accepted once.
func TestARefusedBatchIsSentAgainWhole(t *testing.T) {
	const orders = 40
	secret := []byte("webhook-secret")
	g := newBatchGateway(t, secret, 1)
	p := &checkout.TestProvider{Outcome: "fail", WebhookURL: g.URL, Secret: secret, Delay: 20 * time.Millisecond, Log: quiet}
	t.Cleanup(p.Close)
	chargeOrders(t, p, 1, orders)
	g.awaitAccepted(t, orders)
	g.mu.Lock()
	refused, accepted := g.refused[0], slices.Clone(g.accepted)
	g.mu.Unlock()
	if !slices.ContainsFunc(accepted, func(post []int64) bool { return slices.Equal(post, refused) }) {
		t.Errorf("refused %v; accepted %v, want one accepted webhook of the very same orders", refused, accepted)
	}
	got := g.acceptedOrders()
	slices.Sort(got)
	if len(got) != orders || len(slices.Compact(got)) != orders {
		t.Errorf("%d results accepted, want each of %d orders once", len(got), orders)
	}
}

// However many orders wait on a gateway that refuses every webhook, the
// provider runs one gatherer and at most 4 deliveries, and each post is one
// batch of many orders. It used to run a goroutine per order.
func TestTheTestProviderKeepsItsGoroutinesBoundedWhateverItsOrders(t *testing.T) {
	const orders = 2000
	secret := []byte("webhook-secret")
	srv, posts, _ := webhookServer(t, 1<<30, secret)
	p := &checkout.TestProvider{Outcome: "succeed", WebhookURL: srv.URL, Secret: secret, Delay: time.Millisecond, Log: quiet}
	t.Cleanup(p.Close)
	chargeOrders(t, p, 1, orders)
	for posts.Load() < 12 { // every delivery is retrying
		if n := providerGoroutines(); n > 5 {
			t.Fatalf("%d provider goroutines for %d orders, want at most 5", n, orders)
		}
		runtime.Gosched()
	}
	if n := providerGoroutines(); n > 5 {
		t.Errorf("%d provider goroutines for %d orders, want at most 5", n, orders)
	}
	if n := p.Delivering(); n != orders {
		t.Errorf("the provider holds %d orders, want all %d: none was accepted", n, orders)
	}
}
