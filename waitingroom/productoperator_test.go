package waitingroom

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// operatorEvent creates an event of threeProducts through an Operator on
// real Postgres and Redis, starting at start.
func operatorEvent(t *testing.T, start time.Time) (*Operator, *sqlx.DB, *redis.Client, *Plan) {
	t.Helper()
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	o := NewOperator(NewCatalog(db), NewRooms(rdb))
	p := validPlan()
	p.PerShopperLimit = 0
	p.SetProducts(threeProducts())
	p.StartsAt, p.EndsAt = start, start.Add(time.Hour)
	sale, err := o.Create(t.Context(), p, "test")
	if err != nil {
		t.Fatal(err)
	}
	return o, db, rdb, sale
}

func TestAnEventIsStoredWithItsProductsInOrderAndLoadedWithThem(t *testing.T) {
	ctx := t.Context()
	o, db, _, sale := operatorEvent(t, time.Now().Add(-time.Minute))
	got, err := o.Get(ctx, sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Products) != 3 || got.Products[0] != threeProducts()[0] || got.Products[2] != threeProducts()[2] ||
		got.Stock != 10 || got.SKU != "" {
		t.Errorf("stored event %+v, want its three products in order, stock 10 and no sku of its own", got)
	}
	st, err := o.rooms.Status(ctx, sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Products) != 3 || st.Products[1] != (ProductStatus{SKU: "B", Stock: 5, Left: 5}) || st.Available != 10 {
		t.Errorf("live event %+v, want B with 5 left and 10 available", st)
	}
	shown, err := o.rooms.StatusShown(ctx, sale.ID)
	if err != nil || shown.Products[1] != (ProductStatus{SKU: "B", Name: "Blue", PriceCents: 2000, PerShopperLimit: 2, Stock: 5, Left: 5}) {
		t.Errorf("shown event %+v (%v), want B named, priced and limited as planned", shown.Products, err)
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM sale_products WHERE sale_id = $1`, sale.ID); err != nil || n != 3 {
		t.Errorf("%d product rows (%v), want 3", n, err)
	}
}

func TestStockIsAddedToOneOfAnEventsProductsAndNeverWithoutOne(t *testing.T) {
	ctx := t.Context()
	o, _, rdb, sale := operatorEvent(t, time.Now().Add(-time.Minute))
	before := metaState(t, rdb, sale.ID)
	for _, c := range []struct {
		product string
		want    error
	}{{"", ErrProductRequired}, {"Z", ErrProductUnknown}} {
		_, err := o.Control(ctx, sale.ID, Control{Action: ActionAddStock, Value: 4, Product: c.product, Actor: "test"})
		if !errors.Is(err, c.want) {
			t.Errorf("add stock to %q: %v, want %v", c.product, err, c.want)
		}
	}
	if after := metaState(t, rdb, sale.ID); !maps.Equal(before, after) {
		t.Error("refused stock changed Redis")
	}
	if _, err := o.Control(ctx, sale.ID, Control{Action: ActionAddStock, Value: 4, Product: "C", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	st := assertPool(t, o.rooms, sale.ID)
	if st.Products[2].Stock != 6 || st.Products[2].Left != 6 || st.Stock != 14 || st.Available != 14 {
		t.Errorf("after 4 more of C: %+v, want C 6 of 6 and the event 14", st)
	}
	got, err := o.Get(ctx, sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Stock != 14 || got.Products[2].Stock != 6 {
		t.Errorf("postgres has stock %d and C %d, want 14 and 6", got.Stock, got.Products[2].Stock)
	}
}

func TestAnEventsProductsAreReplacedWholeByAnEditBeforeItOpens(t *testing.T) {
	ctx := t.Context()
	o, _, rdb, sale := operatorEvent(t, time.Now().Add(time.Hour))
	fresh := []Product{
		{SKU: "X", Name: "Ex", PriceCents: 500, Stock: 7, PerShopperLimit: 3},
		{SKU: "Y", Name: "Why", PriceCents: 700, Stock: 1, PerShopperLimit: 1},
	}
	after, err := o.Edit(ctx, sale.ID, PlanChange{Products: &fresh}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if after.Stock != 8 || after.PriceCents != 500 || after.PerShopperLimit != 3 {
		t.Errorf("edited event %+v, want stock 8, from 500, limit 3", after)
	}
	st := assertPool(t, o.rooms, sale.ID)
	if len(st.Products) != 2 || st.Products[0].SKU != "X" || st.Available != 8 {
		t.Errorf("live event after the edit %+v, want X and Y, 8 available", st)
	}
	if rdb.HExists(ctx, Keys(sale.ID).Meta, "p:A:left").Val() {
		t.Error("the replaced product A is still in Redis")
	}
	got, err := o.Get(ctx, sale.ID)
	if err != nil || len(got.Products) != 2 || got.Products[1].SKU != "Y" {
		t.Errorf("postgres has %+v (%v), want X and Y", got, err)
	}
	sku := "S"
	if _, err := o.Edit(ctx, sale.ID, PlanChange{SKU: &sku}, "test"); !errors.Is(err, ErrInvalidSale) {
		t.Errorf("an event's own sku edited: %v, want ErrInvalidSale", err)
	}
}

func TestAnEventsLiveStateSurvivesLoadingItAgain(t *testing.T) {
	ctx := context.Background()
	o, _, _, sale := operatorEvent(t, time.Now().Add(-time.Minute))
	if _, err := o.Control(ctx, sale.ID, Control{Action: ActionAddStock, Value: 1, Product: "A", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if n, err := o.LoadCurrent(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("loaded %d (%v)", n, err)
	}
	if st := assertPool(t, o.rooms, sale.ID); st.Products[0].Stock != 4 {
		t.Errorf("after loading again, A has stock %d, want the 4 it had", st.Products[0].Stock)
	}
}
