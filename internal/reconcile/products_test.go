package reconcile_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/reconcile"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestReconcileNamesEachProductOfAnEventWhoseSoldDiffers sells two units of
// an event's product A, rebuilds Redis from Postgres so both sides agree,
// then makes two differences: Redis gives a unit of A back that Postgres
// holds as sold, and sale_products counts a unit of B no order bought. The
// report names those two products' checks, and no other.
func TestReconcileNamesEachProductOfAnEventWhoseSoldDiffers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	plan := waitingroom.Plan{ID: "s_event", Name: "Drop", Currency: "EUR", StartsAt: time.Now().Add(-time.Minute),
		EndsAt: time.Now().Add(time.Hour), OutflowPerSecond: 10, ReservationTTLSeconds: 60}
	plan.SetProducts([]waitingroom.Product{
		{SKU: "A", Name: "Red", PriceCents: 1000, Stock: 3, PerShopperLimit: 2},
		{SKU: "B", Name: "Blue", PriceCents: 2000, Stock: 5, PerShopperLimit: 2},
	})
	if err := plan.Validate(); err != nil {
		t.Fatal(err)
	}
	catalog := waitingroom.NewCatalog(db)
	tx, err := catalog.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.Create(ctx, tx, &plan); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.MustExec(`INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id, quantity, price_cents,
		status, confirmed_at, sku) VALUES ('s_event', 'r_1', 'shopper-1', 'txn-1', 2, 1000, 'paid', now(), 'A')`)
	db.MustExec(`UPDATE sales SET sold = 2 WHERE id = 's_event'`)
	db.MustExec(`UPDATE sale_products SET sold = 2 WHERE sale_id = 's_event' AND sku = 'A'`)
	r := reconcile.New(rdb, db)
	if err := r.Repair(ctx, "s_event"); err != nil {
		t.Fatal(err)
	}
	if got := differences(t, r); len(got) != 0 {
		t.Fatalf("after the repair: %q differ, want none", got)
	}

	meta := waitingroom.Keys("s_event").Meta
	fields := waitingroom.ProductCountFields("A") // stock, left, sold
	rdb.HIncrBy(ctx, meta, fields[1], 1)
	rdb.HIncrBy(ctx, meta, fields[2], -1)
	db.MustExec(`UPDATE sale_products SET sold = 1 WHERE sale_id = 's_event' AND sku = 'B'`)
	want := []string{"product A sold", "product B sale_products.sold = orders' quantities", "product B sold"}
	if got := differences(t, r); !slices.Equal(got, want) {
		t.Errorf("differences %q, want %q", got, want)
	}
	rep, _ := r.Run(ctx, "s_event")
	var out bytes.Buffer
	rep.Print(&out)
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "product A sold ") && !strings.Contains(line, "DIFFERENT") {
			t.Errorf("the printed report does not call product A's sold different: %q", line)
		}
	}
}

// differences lists the checks of the event's report that failed.
func differences(t *testing.T, r *reconcile.Reconciler) []string {
	t.Helper()
	rep, err := r.Run(t.Context(), "s_event")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range rep.Checks {
		if !c.OK {
			out = append(out, c.What)
		}
	}
	return out
}
