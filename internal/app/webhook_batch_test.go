package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/loadgen"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/worker"
)

// batchProxy stands in front of the gateway's payment webhook: it refuses
// the first refuse posts with 503, passes the rest on, and keeps the size
// of each post the gateway accepted, and the last one's body and signature.
type batchProxy struct {
	*httptest.Server
	gateway    string
	mu         sync.Mutex
	refused    int
	sizes      []int // results in each post the gateway accepted
	lastBody   []byte
	lastHeader string
}

func newBatchProxy(t *testing.T, refuse int) *batchProxy {
	p := &batchProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		if p.refused < refuse {
			p.refused++
			p.mu.Unlock()
			http.Error(w, `{"error":{"code":"unavailable"}}`, http.StatusServiceUnavailable)
			return
		}
		p.mu.Unlock()
		if forwardWebhook(w, r, p.gateway, body) {
			results, _ := orderstream.DecodePaymentResults(body) // the gateway verified it
			p.mu.Lock()
			p.sizes = append(p.sizes, len(results))
			p.lastBody, p.lastHeader = body, r.Header.Get(checkout.SignatureHeader)
			p.mu.Unlock()
		}
	}))
	t.Cleanup(p.Close)
	return p
}

// startBatchedSale starts a system whose provider posts through a proxy
// refusing its first refuse posts, and sells units to as many shoppers at
// once with the load generator; it returns the system, the sale and the
// proxy once every shopper saw its order paid.
func startBatchedSale(t *testing.T, units, refuse int) (*system, string, *batchProxy) {
	proxy := newBatchProxy(t, refuse)
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_WEBHOOK_URL": proxy.URL + "/v1/payments/webhook"})
	proxy.gateway = sys.URL + "/v1/payments/webhook"
	saleID := sys.createSale(t, map[string]any{"sku": "B-1", "name": "Batched", "stock": units, "outflow_per_second": 2000})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	res, err := loadgen.Run(ctx, loadgen.Options{
		URLs: []string{sys.URL}, SaleID: saleID, Scenario: loadgen.Sale, Shoppers: units, Duration: 50 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Paid != int64(units) || res.Errors != 0 {
		t.Fatalf("paid %d, errors %d %v; want %d, 0", res.Paid, res.Errors, res.ErrorCodes, units)
	}
	return sys, saleID, proxy
}

// paidOnce checks that a sale of units ends with every unit sold, once, to
// an order paid once.
func (s *system) paidOnce(t *testing.T, saleID string, units int) {
	t.Helper()
	var paid, orders, paidEvents int
	s.DB.Get(&paid, `SELECT count(*) FROM orders WHERE sale_id = $1 AND status = 'paid'`, saleID)
	s.DB.Get(&orders, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID)
	s.DB.Get(&paidEvents, `SELECT count(*) FROM webhook_events WHERE sale_id = $1 AND type = 'order.paid'`, saleID)
	available, sold, pgSold, _ := s.stockAfter(t, saleID)
	if paid != units || orders != units || paidEvents != units || available != 0 || sold != units || pgSold != units {
		t.Errorf("%d orders, %d paid, %d order.paid events, available %d, sold %d, postgres sold %d; want %d orders paid once, every unit sold",
			orders, paid, paidEvents, available, sold, pgSold, units)
	}
}

// A sale whose payments the test provider posts in batches ends with as
// many orders paid as units sold, each paid once, and fewer webhooks than
// orders: one webhook carried several results.
func TestASaleWhosePaymentsArriveInBatchesPaysEachOrderOnce(t *testing.T) {
	const units = 60
	sys, saleID, proxy := startBatchedSale(t, units, 0)
	sys.paidOnce(t, saleID, units)
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	total, biggest := 0, 0
	for _, n := range proxy.sizes {
		total, biggest = total+n, max(biggest, n)
	}
	t.Logf("%d orders paid through %d webhooks, the biggest of %d results", units, len(proxy.sizes), biggest)
	if total != units || len(proxy.sizes) >= units || biggest < 2 {
		t.Errorf("%d webhooks carried %d results, the biggest %d; want %d results in fewer webhooks than orders",
			len(proxy.sizes), total, biggest, units)
	}
}

// A batch the gateway refused at first is sent again whole and settles
// once; the same signed batch posted once more (a provider's redelivery)
// is accepted and changes nothing.
func TestABatchRedeliveredAfterARefusedFirstAttemptSettlesOnce(t *testing.T) {
	const units = 40
	sys, saleID, proxy := startBatchedSale(t, units, 1)
	sys.paidOnce(t, saleID, units)
	proxy.mu.Lock()
	body, header := proxy.lastBody, proxy.lastHeader
	proxy.mu.Unlock()
	if status, code := sys.postSigned(t, body, header); status != http.StatusAccepted {
		t.Fatalf("the batch redelivered: %d %q, want 202", status, code)
	}
	// What the worker made of it is awaited through a result behind it on
	// the same stream, which the worker reads in order: another sale's
	// order, paid only once the redelivered batch was settled.
	marker := sys.createSale(t, map[string]any{"sku": "B-2", "name": "Marker", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, marker)
	orderStatus(t, ctx, in, "paid")
	sys.paidOnce(t, saleID, units)
}

// postSigned posts a payment webhook body with the given signature and
// returns the status and error code of the answer.
func (s *system) postSigned(t *testing.T, body []byte, signature string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/payments/webhook", bytes.NewReader(body))
	req.Header.Set(checkout.SignatureHeader, signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Error struct{ Code string } }
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error.Code
}

// A signed batch with one bad result is refused whole, 400 bad_request, and
// hands nothing to the workers: not even its good results. The same batch
// without the bad one settles its orders.
func TestAWebhookBatchWithOneBadResultIsRefusedWholeAndChangesNothing(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	saleID := sys.createSale(t, map[string]any{"sku": "B-3", "name": "Refused", "stock": 2, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tabs := []*inbox{buyOne(t, ctx, sys, saleID), buyOne(t, ctx, sys, saleID)}
	for _, in := range tabs {
		orderStatus(t, ctx, in, "pending_payment")
	}
	var good []string
	rows, err := sys.DB.Query(`SELECT id, reservation_id FROM orders WHERE sale_id = $1 ORDER BY id`, saleID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var reservation string
		rows.Scan(&id, &reservation)
		r, _ := json.Marshal(orderstream.PaymentResult{OrderID: id, SaleID: saleID, ReservationID: reservation, Status: checkout.PaymentFailed})
		good = append(good, string(r))
	}
	rows.Close()
	before := streamLength(t, sys.Redis, orderstream.Payments)
	tooMany := make([]string, checkout.MaxWebhookResults+1)
	for i := range tooMany {
		tooMany[i] = good[0]
	}
	batch := func(results ...string) []byte { return []byte(`{"results":[` + strings.Join(results, ",") + `]}`) }
	for name, body := range map[string][]byte{
		"a result not JSON":      batch(good[0], good[1], `{"order_id":`),
		"an unknown status":      batch(good[0], strings.Replace(good[1], `"failed"`, `"refunded"`, 1)),
		"a reservation missing":  batch(good[0], fmt.Sprintf(`{"order_id":1,"sale_id":%q,"status":"failed"}`, saleID)),
		"an order id missing":    batch(good[0], fmt.Sprintf(`{"sale_id":%q,"reservation_id":"r_1","status":"failed"}`, saleID)),
		"an empty batch":         batch(),
		"one result too many":    batch(tooMany...),
		"a result and its batch": []byte(strings.TrimSuffix(string(batch(good[0])), "}") + "," + strings.TrimPrefix(good[1], "{")),
	} {
		if status, code := sys.postSigned(t, body, checkout.Sign([]byte(testWebhookSecret), body, time.Now())); status != http.StatusBadRequest || code != "bad_request" {
			t.Errorf("%s: %d %q, want 400 bad_request", name, status, code)
		}
	}
	if after := streamLength(t, sys.Redis, orderstream.Payments); after != before {
		t.Errorf("%d results handed to the workers by refused batches, want none", after-before)
	}
	var pending int
	sys.DB.Get(&pending, `SELECT count(*) FROM orders WHERE sale_id = $1 AND status = $2`, saleID, worker.OrderPendingPayment)
	if pending != 2 {
		t.Fatalf("%d orders still pending_payment after refused batches, want 2", pending)
	}
	body := batch(good...)
	if status, code := sys.postSigned(t, body, checkout.Sign([]byte(testWebhookSecret), body, time.Now())); status != http.StatusAccepted {
		t.Fatalf("the good batch: %d %q, want 202", status, code)
	}
	for _, in := range tabs {
		orderStatus(t, ctx, in, "cancelled")
	}
}
