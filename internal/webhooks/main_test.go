package webhooks_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/webhooks"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

const saleID = "s_hooks"

// fast is a retry schedule for tests: the same shape as production's,
// in milliseconds.
var fast = webhooks.Config{RetryBase: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	MaxAge: time.Minute, Timeout: 5 * time.Second, Poll: 10 * time.Millisecond, AllowPrivate: true}

// newDB gives a migrated database of the test's own, with one sale.
func newDB(t *testing.T) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at,
		outflow_per_second, reservation_ttl_seconds)
		VALUES ($1, 'SKU-1', 'Test sale', 1999, 1000, now() - interval '1 minute', now() + interval '1 hour', 10, 60)`,
		saleID); err != nil {
		t.Fatal(err)
	}
	return db
}

// newStore gives a store that lets endpoints be on loopback, where the
// tests' receivers are.
func newStore(db *sqlx.DB) *webhooks.Store {
	s := webhooks.NewStore(db)
	s.AllowPrivate = true
	return s
}

// received is one request a receiver answered.
type received struct {
	ID, Type    string
	Event       webhooks.Event
	Accepted    bool // answered 2xx
	SignatureOK bool
}

// receiver is a real HTTP server standing in for the shop's endpoint: it
// verifies each delivery with the endpoint's secret, answers as answer
// says (nil: 200), and keeps what it got, in order.
type receiver struct {
	*httptest.Server
	secret string
	answer func(n int, e webhooks.Event) int // n counts requests from 1

	answering sync.Mutex // answer is called one request at a time
	mu        sync.Mutex
	got       []received
	seen      chan struct{} // a value per accepted request
}

func newReceiver(t *testing.T, answer func(n int, e webhooks.Event) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer, seen: make(chan struct{}, 10000)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var e webhooks.Event
	_ = json.Unmarshal(body, &e)
	r.answering.Lock()
	r.mu.Lock()
	secret := r.secret
	n := len(r.got) + 1
	r.mu.Unlock()
	status := http.StatusOK
	if r.answer != nil {
		status = r.answer(n, e)
	}
	r.answering.Unlock()
	got := received{ID: req.Header.Get(webhooks.EventIDHeader), Type: req.Header.Get(webhooks.EventTypeHeader), Event: e,
		Accepted: status/100 == 2,
		SignatureOK: webhooks.Verify(secret, req.Header.Get(webhooks.SignatureHeader), body, time.Now(), webhooks.DefaultTolerance) == nil &&
			req.Header.Get("Content-Type") == "application/json"}
	r.mu.Lock()
	r.got = append(r.got, got)
	r.mu.Unlock()
	w.WriteHeader(status)
	if got.Accepted {
		r.seen <- struct{}{}
	}
}

// accepted gives the requests answered 2xx, in the order they came.
func (r *receiver) accepted() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, g := range r.got {
		if g.Accepted {
			out = append(out, g)
		}
	}
	return out
}

// all gives every request, in the order they came.
func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// awaitAccepted waits until n requests were answered 2xx.
func (r *receiver) awaitAccepted(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for len(r.accepted()) < n {
		select {
		case <-r.seen:
		case <-deadline:
			t.Fatalf("%d deliveries accepted after 20s, want %d", len(r.accepted()), n)
		}
	}
}

// register makes an endpoint at r for types and gives r its secret.
func register(t *testing.T, s *webhooks.Store, r *receiver, types ...string) webhooks.Created {
	t.Helper()
	if len(types) == 0 {
		types = webhooks.EventTypes
	}
	c, err := s.Create(t.Context(), webhooks.NewEndpoint{URL: r.URL + "/hooks", Events: types}, "test")
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.secret = c.Secret
	r.mu.Unlock()
	return c
}

// runDispatcher runs a dispatcher until the test ends.
func runDispatcher(t *testing.T, db *sqlx.DB, cfg webhooks.Config) {
	t.Helper()
	d := webhooks.NewDispatcher(db, cfg, discard)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(t.Context())
	}()
	t.Cleanup(func() { <-done })
}

// writeOrders writes n orders of the sale as the order worker does, with
// status, recording their events, and gives their ids.
func writeOrders(t *testing.T, db *sqlx.DB, rec *webhooks.Recorder, from, n int, status string) []int64 {
	t.Helper()
	tx := db.MustBeginTx(t.Context(), nil)
	defer tx.Rollback()
	var ids []int64
	for i := from; i < from+n; i++ {
		var id int64
		if err := tx.Get(&id, `INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id, quantity,
			price_cents, status, confirmed_at) VALUES ($1, $2, $3, $4, 1, 1999, $5, now()) RETURNING id`,
			saleID, fmt.Sprintf("r_%03d", i), fmt.Sprintf("shopper-%03d", i), fmt.Sprintf("txn-%03d", i), status); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rec.OrdersWritten(t.Context(), tx, ordersOf(t, tx, ids)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// ordersOf reads orders as the workers hand them to the recorder.
func ordersOf(t testing.TB, tx *sqlx.Tx, ids []int64) []orderstream.Order {
	t.Helper()
	var out []orderstream.Order
	if err := tx.Select(&out, `SELECT o.id, o.sale_id, o.reservation_id, o.transaction_id, o.shopper_id,
		coalesce(o.customer_id, '') AS customer_id, o.quantity, o.price_cents, s.currency, o.status,
		coalesce(o.shop_order_ref, '') AS shop_order_ref
		FROM orders o JOIN sales s ON s.id = o.sale_id WHERE o.id = ANY($1) ORDER BY o.id`, pq.Array(ids)); err != nil {
		t.Fatal(err)
	}
	return out
}

// settle marks orders paid (or cancelled) as the settler does, recording
// their events.
func settle(t *testing.T, db *sqlx.DB, rec *webhooks.Recorder, ids []int64, status string) {
	t.Helper()
	tx := db.MustBeginTx(t.Context(), nil)
	defer tx.Rollback()
	if _, err := tx.Exec(`UPDATE orders SET status = $2 WHERE id = ANY($1)`, pq.Array(ids), status); err != nil {
		t.Fatal(err)
	}
	if err := rec.OrdersSettled(t.Context(), tx, ordersOf(t, tx, ids)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds: the dispatcher records its
// attempts on its own goroutines, which tell nobody.
func eventually(t *testing.T, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not so after %v: %s", within, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count runs a count query.
func count(t *testing.T, db *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
func jsonEncode(v any) ([]byte, error) { return json.Marshal(v) }
