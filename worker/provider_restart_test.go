package worker_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// ageOrders makes every order look created ago, by Postgres's clock, so a
// sweep sees it as late without the test waiting for a timeout.
func ageOrders(t *testing.T, db *sqlx.DB, ago time.Duration) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), `UPDATE orders SET created_at = now() - make_interval(secs => $1)`,
		ago.Seconds()); err != nil {
		t.Fatal(err)
	}
}

// A worker stopping while its provider still had a webhook to send (the
// charges of its last moments) leaves the order pending, and its charge is
// never redelivered. The next worker's provider, asked by the sweeper,
// says paid: the order ends paid. It used to say unknown, and the order,
// paid at the provider, was cancelled.
func TestAnOrderWhoseWebhookWasDroppedAtCloseEndsPaidAfterTheSweeper(t *testing.T) {
	db := newDB(t, 5)
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	var posts atomic.Int64
	gatewayDown := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(gatewayDown.Close)
	first := &checkout.TestProvider{Outcome: "succeed", WebhookURL: gatewayDown.URL, Secret: []byte("s"),
		Delay: time.Hour, Log: discard}
	writer := worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), first, discard)
	if err := writer.Handle(messageOf(t, confirmation(1))); err != nil {
		t.Fatal(err)
	}
	first.Close() // the worker stops before the payment's webhook is out
	if posts.Load() == 0 {
		t.Error("Close sent the undelivered webhook no last time")
	}
	if o := orders(t, db)[0]; o.Status != worker.OrderPendingPayment {
		t.Fatalf("order is %s with its webhook refused, want pending", o.Status)
	}

	restarted := &checkout.TestProvider{Outcome: "succeed", WebhookURL: gatewayDown.URL, Secret: []byte("s"), Log: discard}
	t.Cleanup(restarted.Close)
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), restarted, discard)
	settler.Timeout = time.Hour
	ageOrders(t, db, 90*time.Minute)
	if n, err := settler.SweepTimedOut(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep settled %d, %v; want 1", n, err)
	}
	if o := orders(t, db)[0]; o.Status != worker.OrderPaid {
		t.Errorf("order is %s after the sweep, want paid: the provider charged it", o.Status)
	}
	if n := sold(t, db); n != 1 {
		t.Errorf("sold %d, want 1", n)
	}
}

// A provider that says unknown of an order is not an answer, as one that
// cannot be asked is not: the order waits one more timeout, and only after
// twice its timeout is it cancelled. It used to be cancelled at once, and an
// order paid at a provider that had lost track of it ended cancelled.
func TestAnOrderTheProviderSaysIsUnknownIsCancelledOnlyAfterTwiceItsTimeout(t *testing.T) {
	db := newDB(t, 5)
	w, rdb := newWriter(t, db)
	if err := w.Handle(messageOf(t, confirmation(1))); err != nil {
		t.Fatal(err)
	}
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), providerSaying{}, discard)
	settler.Timeout = time.Hour

	ageOrders(t, db, 90*time.Minute) // past its timeout, not past twice
	if n, err := settler.SweepTimedOut(t.Context()); err != nil || n != 0 {
		t.Fatalf("sweep at 1.5 timeouts settled %d, %v; want 0", n, err)
	}
	if o := orders(t, db)[0]; o.Status != worker.OrderPendingPayment {
		t.Fatalf("order is %s after one timeout with the provider saying unknown, want still pending", o.Status)
	}

	ageOrders(t, db, 150*time.Minute)
	if n, err := settler.SweepTimedOut(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep at 2.5 timeouts settled %d, %v; want 1", n, err)
	}
	if o := orders(t, db)[0]; o.Status != worker.OrderCancelled {
		t.Errorf("order is %s after twice its timeout, want cancelled", o.Status)
	}
	if n := sold(t, db); n != 0 {
		t.Errorf("sold %d, want 0: its unit is back", n)
	}
}
