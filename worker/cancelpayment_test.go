package worker_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// unansweredProvider charges each order with the ref refs names for its
// reservation and says every payment is still pending; CancelPayment
// answers what cancels says of a ref, keeping the refs it was asked to
// cancel, as a provider whose shoppers never finished paying.
type unansweredProvider struct {
	refs    map[string]string
	cancels map[string]string
	mu      sync.Mutex
	asked   []string
}

func (p *unansweredProvider) Charge(_ context.Context, c checkout.Charge) (checkout.Payment, error) {
	return checkout.Payment{Ref: p.refs[c.ReservationID]}, nil
}

func (p *unansweredProvider) Status(context.Context, int64, string) (string, error) {
	return checkout.PaymentPending, nil
}

func (p *unansweredProvider) CancelPayment(_ context.Context, ref string, _ int64) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, ref)
	return p.cancels[ref], nil
}

// TestTheSweeperCancelsATimedOutOrdersPaymentAtTheProviderAndPaysOneThatSucceeded:
// before cancelling an order for want of an answer, the sweeper cancels its
// payment at the provider, so the shopper cannot pay a unit given back. A
// payment that succeeded meanwhile makes the order paid, never cancelled; one
// the provider cannot cancel yet leaves the order for the next sweep, until
// it is twice its timeout late; an order with no ref has nothing to cancel.
func TestTheSweeperCancelsATimedOutOrdersPaymentAtTheProviderAndPaysOneThatSucceeded(t *testing.T) {
	db := newDB(t, 5)
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	p := &unansweredProvider{
		refs:    map[string]string{"r_001": "pi_paid", "r_002": "pi_open", "r_003": "pi_busy"},
		cancels: map[string]string{"pi_paid": checkout.PaymentPaid, "pi_open": checkout.PaymentFailed, "pi_busy": checkout.PaymentPending},
	}
	w := worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), p, discard)
	for i := 1; i <= 4; i++ {
		if err := w.Handle(messageOf(t, confirmation(i))); err != nil {
			t.Fatal(err)
		}
	}
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), p, discard)
	settler.Cancels = p
	settler.Timeout = 40 * time.Minute
	ageOrders(t, db, time.Hour) // late, not yet twice late
	if n, err := settler.SweepTimedOut(t.Context()); err != nil || n != 3 {
		t.Fatalf("sweep settled %d, %v; want 3 (all but the one being processed)", n, err)
	}
	if want := []string{"pi_paid", "pi_open", "pi_busy"}; !slices.Equal(p.asked, want) {
		t.Errorf("cancels asked %v, want %v (none for the order without a ref)", p.asked, want)
	}
	want := map[string]string{"r_001": worker.OrderPaid, "r_002": worker.OrderCancelled, "r_003": "pending_payment",
		"r_004": worker.OrderCancelled}
	for _, o := range orders(t, db) {
		if o.Status != want[o.ReservationID] {
			t.Errorf("order of %s is %s, want %s", o.ReservationID, o.Status, want[o.ReservationID])
		}
	}

	ageOrders(t, db, 2*time.Hour) // twice late: cancelled all the same
	if n, err := settler.SweepTimedOut(t.Context()); err != nil || n != 1 {
		t.Fatalf("second sweep settled %d, %v; want 1", n, err)
	}
	for _, o := range orders(t, db) {
		if o.ReservationID == "r_003" && o.Status != worker.OrderCancelled {
			t.Errorf("order being processed past twice its timeout is %s, want cancelled", o.Status)
		}
	}
}
