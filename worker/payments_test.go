package worker_test

import (
	"encoding/json"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// One message settles every result in it, and a result no retry can settle
// (an order nobody has) holds back none of the others: the message still
// fails, for the poison topic, once they are settled.
func TestABatchOfPaymentResultsSettlesEachAndAnUnknownOrderHoldsNoneBack(t *testing.T) {
	db := newDB(t, 5)
	w, rdb := newWriter(t, db)
	for i := 1; i <= 3; i++ {
		if err := w.Handle(messageOf(t, confirmation(i))); err != nil {
			t.Fatal(err)
		}
	}
	id := map[string]int64{}
	for _, o := range orders(t, db) {
		if o.Status != worker.OrderPendingPayment {
			t.Fatalf("order %d is %s before any payment, want pending", o.ID, o.Status)
		}
		id[o.ReservationID] = o.ID
	}
	batch := orderstream.PaymentBatch{Results: []orderstream.PaymentResult{
		{OrderID: 999_999, SaleID: saleID, Status: checkout.PaymentFailed},
		{OrderID: id["r_001"], SaleID: saleID, ReservationID: "r_001", Status: checkout.PaymentPaid},
		{OrderID: id["r_002"], SaleID: saleID, ReservationID: "r_002", Status: checkout.PaymentFailed},
		{OrderID: id["r_003"], SaleID: saleID, ReservationID: "r_003", Status: checkout.PaymentPaid},
	}}
	payload, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), noAnswer, discard)
	if err := settler.Handle(message.NewMessage("payments-1", payload)); err == nil {
		t.Error("a batch with an unknown order settled without error, want one for the poison topic")
	}
	want := map[string]string{"r_001": worker.OrderPaid, "r_002": worker.OrderCancelled, "r_003": worker.OrderPaid}
	for _, o := range orders(t, db) {
		if o.Status != want[o.ReservationID] {
			t.Errorf("order of %s is %s, want %s", o.ReservationID, o.Status, want[o.ReservationID])
		}
	}
}

// A delivery retried after its commit (its announcement failed, say) tells
// the shoppers again: announcing twice is harmless, never hearing is not.
func TestAPaymentDeliveredAgainIsAnnouncedAgain(t *testing.T) {
	db := newDB(t, 5)
	w, rdb := newWriter(t, db)
	if err := w.Handle(messageOf(t, confirmation(1))); err != nil {
		t.Fatal(err)
	}
	orderID := orders(t, db)[0].ID
	payload, err := json.Marshal(orderstream.PaymentResult{OrderID: orderID, SaleID: saleID, ReservationID: orders(t, db)[0].ReservationID, Status: checkout.PaymentPaid})
	if err != nil {
		t.Fatal(err)
	}
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), noAnswer, discard)
	for delivery := 1; delivery <= 2; delivery++ {
		if err := settler.Handle(message.NewMessage("payment", payload)); err != nil {
			t.Fatalf("delivery %d: %v", delivery, err)
		}
	}
	paid := 0
	for _, e := range orderEvents(t, rdb) {
		if e.OrderID == orderID && e.Status == worker.OrderPaid {
			paid++
		}
	}
	if paid != 2 {
		t.Errorf("%d paid announcements for two deliveries, want 2", paid)
	}
}
