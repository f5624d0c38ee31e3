package worker_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
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

// A paid order's news names what it bought (an event's product and its
// units; nothing for a single-product sale's) the same whether the batch
// marked it paid just now, and is announced from what it marked, or had
// been paid before, and is read again (a delivery retried).
func TestAPaidOrdersNewsNamesWhatItBoughtWhetherMarkedNowOrBefore(t *testing.T) {
	db := newDB(t, 5)
	db.MustExec(`INSERT INTO sale_products (sale_id, position, sku, name, price_cents, stock, per_shopper_limit)
		VALUES ($1, 0, 'TEE', 'Tee', 1500, 3, 2), ($1, 1, 'CAP', 'Cap', 900, 2, 1)`, saleID)
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := waitingroom.NewRooms(rdb)
	never := &checkout.TestProvider{Outcome: "never", Log: discard}
	w := worker.NewOrderWriter(db, rooms, never, discard)
	for i, c := range []struct {
		sku      string
		quantity int
	}{{"TEE", 2}, {"CAP", 1}} {
		conf := confirmation(i + 1)
		conf.SKU, conf.Quantity = c.sku, c.quantity
		if err := w.Handle(messageOf(t, conf)); err != nil {
			t.Fatal(err)
		}
	}
	var batch orderstream.PaymentBatch
	for _, o := range orders(t, db) {
		batch.Results = append(batch.Results, orderstream.PaymentResult{OrderID: o.ID, SaleID: saleID,
			ReservationID: o.ReservationID, Status: checkout.PaymentPaid})
	}
	payload, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	settler := worker.NewPaymentSettler(db, rooms, rooms, never, discard)
	for delivery := 1; delivery <= 2; delivery++ {
		if err := settler.Handle(message.NewMessage(fmt.Sprint("payments-", delivery), payload)); err != nil {
			t.Fatalf("delivery %d: %v", delivery, err)
		}
	}
	told := map[string][]waitingroom.OrderEvent{}
	for _, e := range orderEvents(t, rdb) {
		if e.Status == worker.OrderPaid {
			told[e.Reservation] = append(told[e.Reservation], e)
		}
	}
	want := map[string]struct {
		sku      string
		quantity int
	}{"r_001": {"TEE", 2}, "r_002": {"CAP", 1}}
	for reservation, w := range want {
		news := told[reservation]
		if len(news) != 2 {
			t.Fatalf("%s: %d paid announcements for two deliveries, want 2", reservation, len(news))
		}
		for i, e := range news {
			if e.SKU != w.sku || e.Quantity != w.quantity || e.OrderID != news[0].OrderID || e.OrderID == 0 {
				t.Errorf("%s, delivery %d: told %+v, want %s × %d of its order", reservation, i+1, e, w.sku, w.quantity)
			}
		}
	}
}
