package salehistory

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/orders"
	"github.com/foyerhq/foyer/waitingroom"
)

// An event's report has each product's stock, sold, left and revenue (its
// paid orders alone), in the JSON and the CSV; its public report has the
// units without the money.
func TestTheReportOfAnEventHasEachProductsStockSoldLeftAndRevenue(t *testing.T) {
	rdb, db := newServers(t)
	ctx := context.Background()
	op := waitingroom.NewOperator(waitingroom.NewCatalog(db), waitingroom.NewRooms(rdb))
	start := time.Now().Add(-time.Minute)
	plan := waitingroom.Plan{Name: "Event", Currency: "EUR", StartsAt: start, EndsAt: start.Add(time.Hour),
		OutflowPerSecond: 1000, ReservationTTLSeconds: 300}
	plan.SetProducts([]waitingroom.Product{
		{SKU: "RED", Name: "Red tee", PriceCents: 1500, Stock: 4, PerShopperLimit: 2},
		{SKU: "=CAP", Name: "Cap", PriceCents: 900, Stock: 2, PerShopperLimit: 1},
	})
	p, err := op.Create(ctx, plan, "test")
	if err != nil {
		t.Fatal(err)
	}
	// RED: two paid orders (1 and 2 units), one pending, one cancelled;
	// =CAP: one paid.
	for i, o := range []struct {
		sku, status string
		quantity    int
		price       int64
	}{{"RED", "paid", 1, 1500}, {"RED", "paid", 2, 1500}, {"RED", "pending_payment", 1, 1500},
		{"RED", "cancelled", 1, 1500}, {"=CAP", "paid", 1, 900}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id,
			quantity, price_cents, status, confirmed_at, sku) VALUES ($1, $2, $3, 't', $4, $5, $6, now(), $7)`,
			p.ID, "r_"+string(rune('a'+i)), "shopper-"+string(rune('a'+i)), o.quantity, o.price, o.status, o.sku); err != nil {
			t.Fatal(err)
		}
	}
	db.MustExec(`UPDATE sale_products SET sold = CASE sku WHEN 'RED' THEN 4 ELSE 1 END WHERE sale_id = $1`, p.ID)

	reports := NewReports(rdb, db)
	rep, err := reports.Report(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []orders.ProductFigures{
		{SKU: "RED", Name: "Red tee", Stock: 4, Sold: 4, Left: 0, RevenueCents: 4500},
		{SKU: "=CAP", Name: "Cap", Stock: 2, Sold: 1, Left: 1, RevenueCents: 900},
	}
	if len(rep.Products) != len(want) || rep.Products[0] != want[0] || rep.Products[1] != want[1] {
		t.Errorf("products %+v, want %+v", rep.Products, want)
	}

	var out bytes.Buffer
	if err := WriteCSV(&out, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, r := range rows {
		values[r[0]+"/"+r[1]] = r[2]
	}
	for key, want := range map[string]string{"products/RED stock": "4", "products/RED sold": "4", "products/RED left": "0",
		"products/RED revenue_cents": "4500", "products/RED name": "Red tee", "products/'=CAP revenue_cents": "900"} {
		if values[key] != want {
			t.Errorf("CSV %s = %q, want %q", key, values[key], want)
		}
	}

	if _, err := reports.PublishFairness(ctx, p.ID, true, "test"); err != nil {
		t.Fatal(err)
	}
	fair, err := reports.Fairness(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(fair)
	if len(fair.Products) != 2 || fair.Products[0] != (PublicProduct{SKU: "RED", Name: "Red tee", Stock: 4, Sold: 4}) {
		t.Errorf("public products %+v, want RED 4 of 4 sold first", fair.Products)
	}
	if strings.Contains(string(body), "revenue") || strings.Contains(string(body), "shopper-") {
		t.Errorf("the public report tells the money or names a shopper: %s", body)
	}
}

// A single-product sale's report has no products.
func TestTheReportOfASingleProductSaleHasNoProducts(t *testing.T) {
	rdb, db := newServers(t)
	saleID := openSale(t, rdb, db, 0)
	rep, err := NewReports(rdb, db).Report(context.Background(), saleID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(rep)
	if rep.Products != nil || strings.Contains(string(body), `"products"`) {
		t.Errorf("a single-product sale's report has products: %s", body)
	}
}
