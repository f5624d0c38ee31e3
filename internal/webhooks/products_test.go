package webhooks_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// Every order event names the order's product: an event's order its
// product's sku and name, in order.created and in the order.paid or
// order.cancelled its payment brings; a single-product sale's order its
// sale's own sku and name.
func TestEveryOrderEventNamesTheProductTheOrderBought(t *testing.T) {
	db := newDB(t)
	db.MustExec(`INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at, outflow_per_second,
		reservation_ttl_seconds) VALUES ('s_event', '', 'Drop', 900, 5, now() - interval '1 minute',
		now() + interval '1 hour', 10, 60)`)
	db.MustExec(`INSERT INTO sale_products (sale_id, position, sku, name, price_cents, stock, per_shopper_limit)
		VALUES ('s_event', 0, 'TEE', 'Red tee', 1500, 3, 1), ('s_event', 1, 'CAP', 'Cap', 900, 2, 1)`)
	rooms := waitingroom.NewRooms(testenv.RedisClient(t, testenv.NewRedis(t)))
	rec := webhooks.NewRecorder()
	never := &checkout.TestProvider{Outcome: "never", Log: discard}
	writer := worker.NewOrderWriter(db, rooms, never, discard)
	writer.Events = rec
	settler := worker.NewPaymentSettler(db, rooms, rooms, never, discard)
	settler.Events = rec

	confirmed := func(sale, reservation, sku string, price int64) orderstream.ReservationConfirmed {
		return orderstream.ReservationConfirmed{SaleID: sale, ReservationID: reservation, ShopperID: "sh_" + reservation,
			Txn: "txn_" + reservation, Quantity: 1, PriceCents: price, Currency: "EUR", ConfirmedAt: time.Now(), SKU: sku}
	}
	msg, err := orderstream.ConfirmationBatchMessage([]orderstream.ReservationConfirmed{
		confirmed("s_event", "r_tee", "TEE", 1500), confirmed("s_event", "r_cap", "CAP", 900),
		confirmed(saleID, "r_one", "", 1999)})
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.Handle(msg); err != nil {
		t.Fatal(err)
	}
	var ids []struct {
		ID  int64  `db:"id"`
		Res string `db:"reservation_id"`
	}
	if err := db.Select(&ids, `SELECT id, reservation_id FROM orders ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	var results []orderstream.PaymentResult
	for _, o := range ids {
		status := checkout.PaymentPaid
		if o.Res == "r_cap" {
			status = checkout.PaymentFailed
		}
		sale := "s_event"
		if o.Res == "r_one" {
			sale = saleID
		}
		results = append(results, orderstream.PaymentResult{OrderID: o.ID, SaleID: sale, ReservationID: o.Res, Status: status})
	}
	msg, err = orderstream.PaymentResultsMessage(results)
	if err != nil {
		t.Fatal(err)
	}
	if err := settler.Handle(msg); err != nil {
		t.Fatal(err)
	}

	var bodies []string
	if err := db.Select(&bodies, `SELECT body FROM webhook_events ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range bodies {
		var e struct {
			Type string
			Data webhooks.OrderData
		}
		if err := json.Unmarshal([]byte(b), &e); err != nil {
			t.Fatal(err)
		}
		got[e.Type+" "+e.Data.ReservationID] = e.Data.SKU + " / " + e.Data.ProductName
	}
	want := map[string]string{
		"order.created r_tee": "TEE / Red tee", "order.paid r_tee": "TEE / Red tee",
		"order.created r_cap": "CAP / Cap", "order.cancelled r_cap": "CAP / Cap",
		"order.created r_one": "SKU-1 / Test sale", "order.paid r_one": "SKU-1 / Test sale",
	}
	if len(got) != len(want) {
		t.Errorf("events %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s names %q, want %q", k, got[k], v)
		}
	}
}
