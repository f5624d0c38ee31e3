package worker_test

import (
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// An event's order whose payment failed gives its units back to its
// product in Postgres (sale_products.sold) as well as to the event
// (sales.sold), once however often the failure is delivered; the other
// products keep what they sold.
func TestACancelledEventOrderLowersItsProductsSoldOnce(t *testing.T) {
	db := newDB(t, 5)
	db.MustExec(`INSERT INTO sale_products (sale_id, position, sku, name, price_cents, stock, per_shopper_limit)
		VALUES ($1, 0, 'TEE', 'Tee', 1500, 3, 2), ($1, 1, 'CAP', 'Cap', 900, 2, 1)`, saleID)
	rooms := waitingroom.NewRooms(testenv.RedisClient(t, testenv.NewRedis(t)))
	never := &checkout.TestProvider{Outcome: "never", Log: discard}
	w := worker.NewOrderWriter(db, rooms, never, discard)
	for i, c := range []struct {
		sku      string
		quantity int
	}{{"TEE", 1}, {"TEE", 2}, {"CAP", 1}} {
		conf := confirmation(i + 1)
		conf.SKU, conf.Quantity = c.sku, c.quantity
		if err := w.Handle(messageOf(t, conf)); err != nil {
			t.Fatal(err)
		}
	}
	productSold := func() map[string]int {
		t.Helper()
		var rows []struct {
			SKU  string `db:"sku"`
			Sold int    `db:"sold"`
		}
		if err := db.Select(&rows, `SELECT sku, sold FROM sale_products WHERE sale_id = $1`, saleID); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, r := range rows {
			out[r.SKU] = r.Sold
		}
		return out
	}
	if got := productSold(); got["TEE"] != 3 || got["CAP"] != 1 || sold(t, db) != 4 {
		t.Fatalf("after three orders: products %v, sale %d; want TEE 3, CAP 1, 4", got, sold(t, db))
	}

	var two orderstream.PaymentResult
	for _, o := range orders(t, db) {
		if o.ReservationID == "r_002" {
			two = orderstream.PaymentResult{OrderID: o.ID, SaleID: saleID, ReservationID: o.ReservationID,
				Status: checkout.PaymentFailed}
		}
	}
	settler := worker.NewPaymentSettler(db, rooms, rooms, never, discard)
	for range 2 { // the stream delivers it again until acknowledged
		msg, err := orderstream.PaymentResultsMessage([]orderstream.PaymentResult{two})
		if err != nil {
			t.Fatal(err)
		}
		if err := settler.Handle(msg); err != nil {
			t.Fatal(err)
		}
	}
	if got := productSold(); got["TEE"] != 1 || got["CAP"] != 1 || sold(t, db) != 2 {
		t.Errorf("after the two-tee order was cancelled: products %v, sale %d; want TEE 1, CAP 1, 2", got, sold(t, db))
	}
}
