package orders

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// An event's orders carry their product's sku and name, a single-product
// sale's its own sku and name (an order row written before events has no
// sku of its own: its sale's is its), in the API's pages and the CSV.
func TestEveryOrderNamesItsProductsSkuAndName(t *testing.T) {
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.MustExec(`INSERT INTO sales (id, sku, name, price_cents, currency, stock, starts_at, ends_at, outflow_per_second,
		reservation_ttl_seconds) VALUES ('s_event', '', 'Drop', 900, 'EUR', 5, now(), now() + interval '1 hour', 10, 60),
		('s_one', 'SNK-1', 'Sneaker', 9900, 'EUR', 5, now(), now() + interval '1 hour', 10, 60)`)
	db.MustExec(`INSERT INTO sale_products (sale_id, position, sku, name, price_cents, stock, per_shopper_limit)
		VALUES ('s_event', 0, 'TEE', 'Red tee', 1500, 3, 1), ('s_event', 1, '=CAP', 'Cap', 900, 2, 1)`)
	db.MustExec(`INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id, quantity, price_cents, status,
		confirmed_at, sku) VALUES ('s_event', 'r_1', 'sh_1', 't_1', 1, 1500, 'paid', now(), 'TEE'),
		('s_event', 'r_2', 'sh_2', 't_2', 1, 900, 'paid', now(), '=CAP'),
		('s_one', 'r_3', 'sh_3', 't_3', 1, 9900, 'paid', now(), 'SNK-1'),
		('s_one', 'r_4', 'sh_4', 't_4', 1, 9900, 'paid', now(), NULL)`)
	r := NewReader(db)
	ctx := context.Background()
	var got []string
	for _, sale := range []string{"s_event", "s_one"} {
		page, err := r.Page(ctx, sale, Query{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Orders {
			got = append(got, o.ReservationID+" "+o.SKU+" "+o.ProductName)
		}
	}
	want := []string{"r_1 TEE Red tee", "r_2 =CAP Cap", "r_3 SNK-1 Sneaker", "r_4 SNK-1 Sneaker"}
	if !slices.Equal(got, want) {
		t.Errorf("orders %q, want %q", got, want)
	}

	var out bytes.Buffer
	w := NewCSVWriter(&out)
	if err := r.Each(ctx, "s_event", Query{}, w.Write); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !slices.Equal(rows[0][10:], []string{"sku", "product_name"}) ||
		!slices.Equal(rows[1][10:], []string{"TEE", "Red tee"}) || !slices.Equal(rows[2][10:], []string{"'=CAP", "Cap"}) {
		t.Errorf("CSV %q: want sku and product_name last, a sku that starts a formula defused", rows)
	}
}
