package branding_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/branding"
	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// newStore is a Store on a database of the test's own, with one sale, s1.
func newStore(t *testing.T) (*branding.Store, *sqlx.DB) {
	t.Helper()
	db := sqlx.MustConnect("postgres", testenv.NewDatabase(t))
	t.Cleanup(func() { _ = db.Close() })
	start := time.Now()
	db.MustExec(`INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at, outflow_per_second, reservation_ttl_seconds)
		VALUES ('s1', 'SKU', 'Spring sneaker', 100, 5, $1, $2, 10, 300)`, start, start.Add(time.Hour))
	return branding.NewStore(db), db
}

func TestABrandingIsStoredReadBackAndAuditedWithItsActor(t *testing.T) {
	store, db := newStore(t)
	ctx := t.Context()
	got, err := store.Get(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Branding != (branding.Branding{}) || got.SaleName != "Spring sneaker" || !got.UpdatedAt.IsZero() {
		t.Errorf("a sale never branded reads %+v; want no branding, the sale's name and no time", got)
	}
	b, err := branding.Check(full(), testHosts)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Set(ctx, "s1", b, "operator:ada"); err != nil {
		t.Fatal(err)
	}
	if got, err = store.Get(ctx, "s1"); err != nil || got.Branding != b || got.UpdatedAt.IsZero() {
		t.Errorf("read back %+v, %v; want %+v with its time", got, err, b)
	}
	var row struct {
		Action string `db:"action"`
		Actor  string `db:"actor"`
		Detail []byte `db:"detail"`
	}
	if err := db.Get(&row, `SELECT action, actor, detail FROM admin_actions WHERE sale_id = 's1'`); err != nil {
		t.Fatal(err)
	}
	var detail branding.Branding
	if err := json.Unmarshal(row.Detail, &detail); err != nil || row.Action != "branding" || row.Actor != "operator:ada" || detail != b {
		t.Errorf("audit row %s by %s: %s (%v); want branding by operator:ada with what was set", row.Action, row.Actor, row.Detail, err)
	}
	// Setting another replaces the whole of it: a field left out is cleared.
	if err := store.Set(ctx, "s1", branding.Branding{Headline: "Only this"}, "admin"); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, "s1"); got.Branding != (branding.Branding{Headline: "Only this"}) {
		t.Errorf("after a second set: %+v; want only its headline", got.Branding)
	}
}

func TestABrandingOfAnUnknownSaleIsRefusedAndNothingIsWritten(t *testing.T) {
	store, db := newStore(t)
	ctx := t.Context()
	if err := store.Set(ctx, "nope", branding.Branding{Headline: "x"}, "admin"); !errors.Is(err, branding.ErrNoSale) {
		t.Errorf("Set of an unknown sale: %v; want %v", err, branding.ErrNoSale)
	}
	if _, err := store.Get(ctx, "nope"); !errors.Is(err, branding.ErrNoSale) {
		t.Errorf("Get of an unknown sale: %v; want %v", err, branding.ErrNoSale)
	}
	var rows int
	if err := db.Get(&rows, `SELECT (SELECT count(*) FROM sale_branding) + (SELECT count(*) FROM admin_actions)`); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d rows written for an unknown sale; want none", rows)
	}
}

func TestADeletedSaleTakesItsBrandingAlong(t *testing.T) {
	store, db := newStore(t)
	if err := store.Set(t.Context(), "s1", branding.Branding{Headline: "x"}, "admin"); err != nil {
		t.Fatal(err)
	}
	db.MustExec(`DELETE FROM sales WHERE id = 's1'`)
	var left int
	if err := db.Get(&left, `SELECT count(*) FROM sale_branding`); err != nil || left != 0 {
		t.Errorf("%d brandings left after the sale was deleted (%v); want none", left, err)
	}
}
