package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// refunder keeps the refunds it is asked for, and refuses them all when
// refuse is set, as a provider refuses a payment that is not its own.
type refunder struct {
	refuse bool
	mu     sync.Mutex
	asked  []string
}

func (r *refunder) RefundPayment(_ context.Context, ref string, orderID int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, fmt.Sprintf("%s/%d", ref, orderID))
	if r.refuse {
		return checkout.ErrRefundRefused
	}
	return nil
}

// paymentsMessage is a message of payment results.
func paymentsMessage(t *testing.T, results ...orderstream.PaymentResult) *message.Message {
	t.Helper()
	payload, err := json.Marshal(orderstream.PaymentBatch{Results: results})
	if err != nil {
		t.Fatal(err)
	}
	return message.NewMessage(fmt.Sprintf("payments-%d", len(results)), payload)
}

// TestAPaymentThatSucceedsAfterItsOrderWasCancelledIsRefundedAndNothingElse:
// a success for a cancelled order refunds the payment it names and leaves
// the order cancelled; one for a pending order marks it paid and refunds
// nothing; one that names no payment (Foyer's own webhook) refunds nothing.
// The refund is recorded once however often it is settled, and the shopper
// is told its payment was refunded. A refund the provider refuses leaves
// the result for an operator.
func TestAPaymentThatSucceedsAfterItsOrderWasCancelledIsRefundedAndNothingElse(t *testing.T) {
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
	result := func(r, status, ref string) orderstream.PaymentResult {
		return orderstream.PaymentResult{OrderID: id[r], SaleID: saleID, ReservationID: r, Status: status, PaymentRef: ref}
	}
	refunds := &refunder{}
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), noAnswer, discard)
	settler.Refunds = refunds
	if err := settler.Handle(paymentsMessage(t, result("r_001", checkout.PaymentFailed, "pi_1"),
		result("r_003", checkout.PaymentFailed, ""))); err != nil {
		t.Fatal(err)
	}
	late := paymentsMessage(t, result("r_001", checkout.PaymentPaid, "pi_1"), result("r_002", checkout.PaymentPaid, "pi_2"),
		result("r_003", checkout.PaymentPaid, ""))
	for delivery := 1; delivery <= 2; delivery++ { // a redelivery asks again: the provider refunds once
		if err := settler.Handle(late); err != nil {
			t.Fatal(err)
		}
	}
	want := fmt.Sprintf("pi_1/%d", id["r_001"])
	if len(refunds.asked) != 2 || refunds.asked[0] != want || refunds.asked[1] != want {
		t.Errorf("refunds asked %v, want %s on each delivery", refunds.asked, want)
	}
	statuses := map[string]string{"r_001": worker.OrderCancelled, "r_002": worker.OrderPaid, "r_003": worker.OrderCancelled}
	for _, o := range orders(t, db) {
		if o.Status != statuses[o.ReservationID] {
			t.Errorf("order of %s is %s, want %s", o.ReservationID, o.Status, statuses[o.ReservationID])
		}
	}
	if n := sold(t, db); n != 1 {
		t.Errorf("sold = %d, want 1 (the paid order's)", n)
	}

	var recorded []struct {
		Ref     string `db:"payment_ref"`
		OrderID int64  `db:"order_id"`
		Amount  int64  `db:"amount_cents"`
	}
	if err := db.Select(&recorded, `SELECT payment_ref, order_id, amount_cents FROM refunds`); err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 1 || recorded[0].Ref != "pi_1" || recorded[0].OrderID != id["r_001"] || recorded[0].Amount <= 0 {
		t.Errorf("refunds recorded %+v, want pi_1 of order %d once, with its amount", recorded, id["r_001"])
	}
	told := false
	for _, e := range orderEvents(t, rdb) {
		if e.Status == worker.OrderRefunded && e.Reservation != "r_001" {
			t.Errorf("shopper of %s told of a refund it never had", e.Reservation)
		}
		if e.Status == worker.OrderRefunded && e.Reservation == "r_001" {
			told = true
		}
	}
	if !told {
		t.Error("the shopper of the refunded order was not told")
	}

	refunds.refuse = true
	if err := settler.Handle(late); !errors.Is(err, checkout.ErrRefundRefused) {
		t.Errorf("a refused refund: %v, want ErrRefundRefused for the poison topic", err)
	}
}
