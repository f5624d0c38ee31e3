package webhooks_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/webhooks"
)

// benchDeliveries is how many deliveries each side of the dispatch
// benchmark sends in one iteration.
const benchDeliveries = 4000

// BenchmarkDispatchRate measures the dispatcher's delivery rate to one
// endpoint that answers 200 at once, from pending rows to rows marked
// delivered, against a bare baseline: the same signed bodies POSTed with a
// plain http.Client from as many goroutines as one endpoint's lane has
// deliveries in flight (Config.InFlight), with no database. Each delivery
// is the order.created of an order of its own, so no ordering key holds a
// batch back. The side that goes first alternates per iteration.
func BenchmarkDispatchRate(b *testing.B) {
	db, err := sqlx.Open("postgres", testenv.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	// The worker's pool keeps as many idle connections (internal/app's
	// connectPostgres): a lane records its batch's outcomes concurrently,
	// and with database/sql's default of 2 every batch opened 6 new ones.
	db.SetMaxIdleConns(16)
	if _, err := db.Exec(`INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at,
		outflow_per_second, reservation_ttl_seconds)
		VALUES ($1, 'B', 'Bench', 1999, 1000000000, now(), now() + interval '1 hour', 10, 60)`, saleID); err != nil {
		b.Fatal(err)
	}
	sink := &countingEndpoint{}
	srv := httptest.NewServer(sink)
	b.Cleanup(srv.Close)
	s := webhooks.NewStore(db)
	s.AllowPrivate = true
	endpoint, err := s.Create(b.Context(), webhooks.NewEndpoint{URL: srv.URL + "/hooks", Events: webhooks.EventTypes}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	cfg := webhooks.Config{AllowPrivate: true}
	inFlight := 8 // Config.InFlight's default, which cfg keeps
	bare := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: inFlight}}
	rec := webhooks.NewRecorder()

	var foyer, baseline time.Duration
	run := 0
	for b.Loop() {
		b.StopTimer()
		run++
		pendingDeliveries(b, db, rec, run)
		bodies := pendingBodies(b, db)
		sides := []func(){
			func() { foyer += dispatchAll(b, db, cfg, sink) },
			func() { baseline += postAll(b, bare, srv.URL+"/hooks", endpoint.Secret, bodies, inFlight, sink) },
		}
		if run%2 == 0 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			b.StartTimer()
			side()
			b.StopTimer()
		}
		b.StartTimer()
	}
	b.StopTimer()
	if got := countRows(b, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'`); got != run*benchDeliveries {
		b.Fatalf("%d deliveries delivered, want %d", got, run*benchDeliveries)
	}
	reportRatio(b, "deliveries/s", float64(run*benchDeliveries), foyer, baseline)
}

// countingEndpoint answers every request 200 at once, and tells when it
// has answered as many as it was told to expect.
type countingEndpoint struct {
	mu   sync.Mutex
	left int
	done chan struct{}
	got  atomic.Int64
}

// expect arms the endpoint for n requests and gives a channel closed when
// they have all been answered.
func (c *countingEndpoint) expect(n int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.left, c.done = n, make(chan struct{})
	return c.done
}

func (c *countingEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body) //nolint:errcheck // the answer is 200 whatever came
	w.WriteHeader(http.StatusOK)
	c.got.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left--; c.left == 0 {
		close(c.done)
	}
}

// pendingDeliveries writes benchDeliveries orders and records their
// order.created, which makes one pending delivery each, before the clock
// runs.
func pendingDeliveries(b *testing.B, db *sqlx.DB, rec *webhooks.Recorder, run int) {
	b.Helper()
	const perTx = 500
	for from := 0; from < benchDeliveries; from += perTx {
		tx := db.MustBeginTx(b.Context(), nil)
		var ids []int64
		if err := tx.Select(&ids, `INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id, quantity,
			price_cents, status, confirmed_at)
			SELECT $1, format('r%s-%s', $2::int, g), format('v%s', g), format('t%s-%s', $2::int, g), 1, 1999,
				'pending_payment', now()
			FROM generate_series($3::int, $4::int) g RETURNING id`, saleID, run, from, from+perTx-1); err != nil {
			b.Fatal(err)
		}
		if err := rec.OrdersWritten(b.Context(), tx, ordersOf(b, tx, ids)); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.Exec(`ANALYZE webhook_deliveries, webhook_events`); err != nil {
		b.Fatal(err)
	}
}

// pendingBody is what the baseline sends of a pending delivery.
type pendingBody struct {
	ID   string `db:"id"`
	Type string `db:"type"`
	Body []byte `db:"body"`
}

// pendingBodies reads the events of the pending deliveries.
func pendingBodies(b *testing.B, db *sqlx.DB) []pendingBody {
	b.Helper()
	var out []pendingBody
	if err := db.Select(&out, `SELECT ev.id, ev.type, ev.body FROM webhook_deliveries d
		JOIN webhook_events ev ON ev.seq = d.event_seq WHERE d.status = 'pending' ORDER BY d.id`); err != nil {
		b.Fatal(err)
	}
	if len(out) != benchDeliveries {
		b.Fatalf("%d pending deliveries, want %d", len(out), benchDeliveries)
	}
	return out
}

// dispatchAll runs a dispatcher until every pending delivery is answered
// and marked delivered, and gives how long that took.
func dispatchAll(b *testing.B, db *sqlx.DB, cfg webhooks.Config, sink *countingEndpoint) time.Duration {
	b.Helper()
	answered := sink.expect(benchDeliveries)
	ctx, stop := context.WithCancel(b.Context())
	d := webhooks.NewDispatcher(db, cfg, discard)
	ran := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(ran)
		d.Run(ctx)
	}()
	defer func() { stop(); <-ran }()
	select {
	case <-answered:
	case <-time.After(5 * time.Minute):
		b.Fatalf("the dispatcher sent %d deliveries in 5 minutes", sink.got.Load())
	}
	// The last answers are in; their rows are marked right after.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if countRows(b, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'`) == 0 {
			break
		}
	}
	return time.Since(start)
}

// postAll POSTs every body, signed as the dispatcher signs them, from
// workers goroutines, and gives how long that took.
func postAll(b *testing.B, client *http.Client, url, secret string, bodies []pendingBody, workers int,
	sink *countingEndpoint) time.Duration {
	b.Helper()
	answered := sink.expect(len(bodies))
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(bodies); i = int(next.Add(1) - 1) {
				if err := post(client, url, secret, bodies[i]); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	<-answered
	return took
}

// post sends one body as a delivery does, and reads the answer.
func post(client *http.Client, url, secret string, p pendingBody) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(p.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooks.EventIDHeader, p.ID)
	req.Header.Set(webhooks.EventTypeHeader, p.Type)
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(secret, p.Body, time.Now()))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("delivery %s answered %d", p.ID, resp.StatusCode)
	}
	return nil
}
