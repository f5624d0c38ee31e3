package catalog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/catalog"
	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newStore(t *testing.T) (*catalog.Store, *sqlx.DB) {
	t.Helper()
	db := sqlx.MustConnect("postgres", testenv.NewDatabase(t))
	t.Cleanup(func() { _ = db.Close() })
	return catalog.New(db), db
}

func mustParse(t *testing.T, csv string) []catalog.Product {
	t.Helper()
	ps, err := catalog.ParseCSV(strings.NewReader("sku,name,list_price_cents,currency,image_url,description\n" + csv))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestAnImportUpsertsBySKUAndIsAudited(t *testing.T) {
	store, db := newStore(t)
	ctx := t.Context()
	got, err := store.Import(ctx, mustParse(t, "SNK-1,Sneaker,8000,EUR,,\nBT-2,Boot,12000,EUR,,\n"), "alice")
	if err != nil || got != (catalog.Imported{Created: 2}) {
		t.Fatalf("first import: %+v, %v", got, err)
	}
	got, err = store.Import(ctx, mustParse(t, "SNK-1,Sneaker II,7500,EUR,https://cdn.example/s.png,New\nHT-3,Hat,2000,EUR,,\n"), "bob")
	if err != nil || got != (catalog.Imported{Created: 1, Updated: 1}) {
		t.Fatalf("second import: %+v, %v", got, err)
	}
	p, err := store.Get(ctx, "SNK-1")
	if err != nil || p.Name != "Sneaker II" || p.ListPriceCents != 7500 || p.ImageURL != "https://cdn.example/s.png" {
		t.Errorf("SNK-1 after the upsert: %+v, %v", p, err)
	}
	page, err := store.List(ctx, "", "")
	if err != nil || len(page.Products) != 3 || page.Products[0].SKU != "SNK-1" || page.Next != "" {
		t.Errorf("list: %+v, %v", page, err)
	}
	var audit []string
	if err := db.SelectContext(ctx, &audit, `SELECT actor || ' ' || action || ' ' || detail::text FROM admin_actions ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []string{`alice catalog_import {"created": 2, "updated": 0}`, `bob catalog_import {"created": 1, "updated": 1}`}
	if fmt.Sprint(audit) != fmt.Sprint(want) {
		t.Errorf("audit %q, want %q", audit, want)
	}
}

func TestAnImportWithABadRowChangesNothing(t *testing.T) {
	store, db := newStore(t)
	ctx := t.Context()
	if _, err := store.Import(ctx, mustParse(t, "SNK-1,Sneaker,8000,EUR,,\n"), "alice"); err != nil {
		t.Fatal(err)
	}
	// Past the parser (a caller that skipped it): the store checks again.
	bad := []catalog.Product{{SKU: "SNK-1", Name: "Changed", ListPriceCents: 1, Currency: "EUR"},
		{SKU: "BT-2", Name: "Boot", ListPriceCents: -5, Currency: "EUR"}}
	if _, err := store.Import(ctx, bad, "mallory"); !errors.Is(err, catalog.ErrInvalid) || !strings.Contains(err.Error(), "row 2") {
		t.Fatalf("a bad row: %v", err)
	}
	var products, audits int
	var name string
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM admin_actions),
		(SELECT name FROM products WHERE sku = 'SNK-1')`).Scan(&products, &audits, &name); err != nil {
		t.Fatal(err)
	}
	if products != 1 || audits != 1 || name != "Sneaker" {
		t.Errorf("after a refused import: %d products, %d audit rows, SNK-1 named %q", products, audits, name)
	}
}

func TestTheListPagesByCursorAndADeletedProductIsGoneAudited(t *testing.T) {
	store, db := newStore(t)
	ctx := t.Context()
	var csv strings.Builder
	for i := range 5 {
		fmt.Fprintf(&csv, "SKU-%d,Item %d,%d,EUR,,\n", i, i, 100*(i+1))
	}
	if _, err := store.Import(ctx, mustParse(t, csv.String()), "alice"); err != nil {
		t.Fatal(err)
	}
	var seen []string
	cursor := ""
	for range 3 {
		page, err := store.List(ctx, "2", cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Products {
			seen = append(seen, p.SKU)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(seen) != "[SKU-0 SKU-1 SKU-2 SKU-3 SKU-4]" {
		t.Errorf("paged %v", seen)
	}
	if _, err := store.List(ctx, "501", ""); !errors.Is(err, catalog.ErrBadQuery) {
		t.Errorf("a limit of 501: %v", err)
	}
	if err := store.Delete(ctx, "SKU-2", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, "SKU-2"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("a deleted product: %v", err)
	}
	if err := store.Delete(ctx, "SKU-2", "bob"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM admin_actions WHERE action = 'product_deleted' AND actor = 'bob'`); err != nil || n != 1 {
		t.Errorf("%d product_deleted rows, %v", n, err)
	}
}

func TestAnImportOfTenThousandProductsLandsInOneStatement(t *testing.T) {
	store, db := newStore(t)
	var csv strings.Builder
	csv.WriteString("sku,name,list_price_cents,currency\n")
	for i := range catalog.MaxRows {
		fmt.Fprintf(&csv, "SKU-%05d,Item %d,%d,EUR\n", i, i, 100+i)
	}
	ps, err := catalog.ParseCSV(strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Import(t.Context(), ps, "alice")
	if err != nil || got != (catalog.Imported{Created: catalog.MaxRows}) {
		t.Fatalf("%d products: %+v, %v", catalog.MaxRows, got, err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM products`); err != nil || n != catalog.MaxRows {
		t.Errorf("%d products stored, %v", n, err)
	}
}
