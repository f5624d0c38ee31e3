package worker_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// refProvider charges an order with the ref refs names for its
// reservation (none: ""), and answers Status paid, keeping the refs it was
// asked about.
type refProvider struct {
	refs  map[string]string
	mu    sync.Mutex
	asked map[int64]string
}

func (p *refProvider) Charge(_ context.Context, c checkout.Charge) (checkout.Payment, error) {
	return checkout.Payment{Ref: p.refs[c.ReservationID]}, nil
}

func (p *refProvider) Status(_ context.Context, orderID int64, ref string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked[orderID] = ref
	return checkout.PaymentPaid, nil
}

// The ref Charge answers is kept with the order, written once however often
// the order is delivered, and handed to Status by the sweeper, so that a
// provider can look the payment up by its own id; an order charged without
// one keeps NULL and is asked about with "".
func TestTheProvidersPaymentRefIsKeptWithTheOrderAndAskedAboutByTheSweeper(t *testing.T) {
	db := newDB(t, 5)
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	p := &refProvider{refs: map[string]string{"r_001": "pi_first"}, asked: map[int64]string{}}
	w := worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), p, discard)
	for _, i := range []int{1, 2, 1} { // r_001 redelivered
		if err := w.Handle(messageOf(t, confirmation(i))); err != nil {
			t.Fatal(err)
		}
	}
	var rows []struct {
		ID          int64          `db:"id"`
		Reservation string         `db:"reservation_id"`
		Ref         sql.NullString `db:"payment_ref"`
	}
	if err := db.SelectContext(t.Context(), &rows, `SELECT id, reservation_id, payment_ref FROM orders ORDER BY reservation_id`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Ref.String != "pi_first" || rows[1].Ref.Valid {
		t.Fatalf("orders %+v; want r_001 with pi_first and r_002 with NULL", rows)
	}
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), p, discard)
	settler.Timeout = time.Millisecond
	ageOrders(t, db, time.Second)
	if n, err := settler.SweepTimedOut(t.Context()); err != nil || n != 2 {
		t.Fatalf("sweep settled %d, %v; want 2", n, err)
	}
	if got := p.asked[rows[0].ID]; got != "pi_first" {
		t.Errorf("Status of r_001's order asked with ref %q, want pi_first", got)
	}
	if got, ok := p.asked[rows[1].ID]; !ok || got != "" {
		t.Errorf("Status of r_002's order asked with ref %q (asked: %v), want \"\"", got, ok)
	}
}

// The built-in test provider gives each order's payment a ref of its own:
// its ledger entry's id, which RefundPayment takes.
func TestTheTestProvidersRefIsKeptWithTheOrder(t *testing.T) {
	db := newDB(t, 5)
	w, _ := newWriter(t, db)
	if err := w.Handle(messageOf(t, confirmation(1))); err != nil {
		t.Fatal(err)
	}
	var ref string
	if err := db.GetContext(t.Context(), &ref, `SELECT payment_ref FROM orders WHERE reservation_id = 'r_001'`); err != nil {
		t.Fatal(err)
	}
	if want := checkout.TestPaymentRef("r_001"); ref != want {
		t.Errorf("payment_ref = %q, want %q (its ledger entry's id)", ref, want)
	}
}
