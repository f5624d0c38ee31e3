package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// providerSaying is a payment provider whose Status answers from a table
// (the order id -> what it says); it charges nothing.
type providerSaying map[int64]string

func (p providerSaying) Charge(context.Context, checkout.Charge) (checkout.Payment, error) {
	return checkout.Payment{}, nil
}
func (p providerSaying) Status(_ context.Context, orderID int64, _ string) (string, error) {
	if s, ok := p[orderID]; ok {
		return s, nil
	}
	return checkout.PaymentUnknown, nil
}

// A result signed for an order but naming another sale or another
// reservation changes nothing, and its message goes to the poison topic;
// a matching one in the same message is applied.
func TestAPaymentResultWhoseSaleOrReservationIsNotItsOrdersChangesNothing(t *testing.T) {
	db := newDB(t, 5)
	w, rdb := newWriter(t, db)
	for i := 1; i <= 3; i++ {
		if err := w.Handle(messageOf(t, confirmation(i))); err != nil {
			t.Fatal(err)
		}
	}
	id := map[string]int64{}
	for _, o := range orders(t, db) {
		id[o.ReservationID] = o.ID
	}
	payload, err := json.Marshal(orderstream.PaymentBatch{Results: []orderstream.PaymentResult{
		{OrderID: id["r_001"], SaleID: "s_another", ReservationID: "r_001", Status: checkout.PaymentPaid},
		{OrderID: id["r_002"], SaleID: saleID, ReservationID: "r_003", Status: checkout.PaymentFailed},
		{OrderID: id["r_003"], SaleID: saleID, ReservationID: "r_003", Status: checkout.PaymentPaid},
	}})
	if err != nil {
		t.Fatal(err)
	}
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), noAnswer, discard)
	if err := settler.Handle(message.NewMessage("payments-1", payload)); !errors.Is(err, worker.ErrResultMismatch) {
		t.Errorf("mismatched results: %v, want ErrResultMismatch (for the poison topic)", err)
	}
	want := map[string]string{"r_001": worker.OrderPendingPayment, "r_002": worker.OrderPendingPayment, "r_003": worker.OrderPaid}
	for _, o := range orders(t, db) {
		if o.Status != want[o.ReservationID] {
			t.Errorf("order of %s is %s, want %s", o.ReservationID, o.Status, want[o.ReservationID])
		}
	}
	if n := sold(t, db); n != 3 {
		t.Errorf("sold %d, want 3: a mismatched failure gave stock back", n)
	}
}

// An order whose payment is late is settled by what the provider says of
// it: paid at the provider (its webhook lost) makes it paid, not cancelled;
// failed, pending or unknown cancel it.
func TestALatePaymentIsSettledByWhatTheProviderSays(t *testing.T) {
	db := newDB(t, 5)
	w, rdb := newWriter(t, db)
	for i := 1; i <= 4; i++ {
		if err := w.Handle(messageOf(t, confirmation(i))); err != nil {
			t.Fatal(err)
		}
	}
	id := map[string]int64{}
	for _, o := range orders(t, db) {
		id[o.ReservationID] = o.ID
	}
	says := providerSaying{id["r_001"]: checkout.PaymentPaid, id["r_002"]: checkout.PaymentFailed,
		id["r_003"]: checkout.PaymentPending} // r_004: unknown
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), says, discard)
	settler.Timeout = time.Millisecond
	var waited bool
	db.GetContext(t.Context(), &waited, `SELECT pg_sleep(0.01) IS NOT NULL`) // past the timeout by Postgres's clock
	if n, err := settler.SweepTimedOut(t.Context()); err != nil || n != 4 {
		t.Fatalf("sweep settled %d, %v; want 4", n, err)
	}
	want := map[string]string{"r_001": worker.OrderPaid, "r_002": worker.OrderCancelled,
		"r_003": worker.OrderCancelled, "r_004": worker.OrderCancelled}
	for _, o := range orders(t, db) {
		if o.Status != want[o.ReservationID] {
			t.Errorf("order of %s is %s, want %s", o.ReservationID, o.Status, want[o.ReservationID])
		}
	}
	if n := sold(t, db); n != 1 {
		t.Errorf("sold %d, want 1 (the paid one)", n)
	}
}

// slowToStop is a provider whose Status, asked while the worker stops, takes
// a while to give up, as a call over the network does.
type slowToStop struct{ asked chan struct{} }

func (p slowToStop) Charge(context.Context, checkout.Charge) (checkout.Payment, error) {
	return checkout.Payment{}, nil
}
func (p slowToStop) Status(ctx context.Context, _ int64, _ string) (string, error) {
	select {
	case p.asked <- struct{}{}:
	default:
	}
	<-ctx.Done()
	time.Sleep(300 * time.Millisecond) // unwinding; Run must wait for it
	return "", ctx.Err()
}

// sweepers counts the goroutines running a payment sweeper.
func sweepers() int {
	return testenv.CountGoroutines("worker.(*PaymentSettler).runSweeper")
}

// The worker's Run returns only once its payment sweeper has ended: the
// sweeper used to be left running on its own.
func TestTheWorkersRunReturnsOnlyOnceItsPaymentSweeperEnded(t *testing.T) {
	db := newDB(t, 5)
	r := testenv.NewRedis(t)
	rdb, subClient := testenv.RedisClient(t, r), testenv.RedisClient(t, r)
	writer := worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), noAnswer, discard)
	if err := writer.Handle(messageOf(t, confirmation(1))); err != nil {
		t.Fatal(err)
	}
	provider := slowToStop{asked: make(chan struct{}, 1)}
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), provider, discard)
	settler.Timeout = time.Millisecond
	wk, err := worker.New(rdb, subClient, writer, settler, worker.Config{Consumer: "w1"}, discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- wk.Run(ctx) }()
	select {
	case <-provider.asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the sweeper did not ask about the late order within 10s")
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := sweepers(); n != 0 {
		t.Errorf("%d payment sweepers still running after Run returned, want none", n)
	}
}
