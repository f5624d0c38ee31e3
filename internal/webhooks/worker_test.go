package webhooks_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// The order worker records the events in its own transactions: a
// confirmation or a payment result delivered twice (the stream redelivers
// until acknowledged) tells each event once, and the shop gets each once.
func TestTheOrderWorkersRedeliveriesMakeNoDuplicateEvents(t *testing.T) {
	db := newDB(t)
	rooms := waitingroom.NewRooms(testenv.RedisClient(t, testenv.NewRedis(t)))
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	register(t, s, r)
	never := &checkout.TestProvider{Outcome: "never", Log: discard}
	writer := worker.NewOrderWriter(db, rooms, never, discard)
	writer.Events = rec
	settler := worker.NewPaymentSettler(db, rooms, rooms, never, discard)
	settler.Events = rec

	var batch []orderstream.ReservationConfirmed
	for i := range 4 {
		batch = append(batch, orderstream.ReservationConfirmed{SaleID: saleID, ReservationID: fmt.Sprintf("r_%03d", i),
			ShopperID: fmt.Sprintf("sh_%d", i), Txn: fmt.Sprintf("txn_%d", i), Quantity: 1, PriceCents: 1999,
			Currency: "EUR", ConfirmedAt: time.Now()})
	}
	for range 2 {
		msg, err := orderstream.ConfirmationBatchMessage(batch)
		if err != nil {
			t.Fatal(err)
		}
		if err := writer.Handle(msg); err != nil {
			t.Fatal(err)
		}
	}
	var orders []struct {
		ID  int64  `db:"id"`
		Res string `db:"reservation_id"`
	}
	if err := db.Select(&orders, `SELECT id, reservation_id FROM orders ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	var results []orderstream.PaymentResult
	for i, o := range orders {
		status := checkout.PaymentPaid
		if i == 3 {
			status = checkout.PaymentFailed
		}
		results = append(results, orderstream.PaymentResult{OrderID: o.ID, SaleID: saleID, ReservationID: o.Res, Status: status})
	}
	for range 2 {
		msg, err := orderstream.PaymentResultsMessage(results)
		if err != nil {
			t.Fatal(err)
		}
		if err := settler.Handle(msg); err != nil {
			t.Fatal(err)
		}
	}
	runDispatcher(t, db, fast)
	r.awaitAccepted(t, 8)
	assertOncePerEventInOrder(t, r, 8)
	var types []string
	if err := db.Select(&types, `SELECT type FROM webhook_events ORDER BY type`); err != nil {
		t.Fatal(err)
	}
	want := []string{"order.cancelled", "order.created", "order.created", "order.created", "order.created",
		"order.paid", "order.paid", "order.paid"}
	if !equal(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
}
