package waitingroom

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// threeProducts are an event's products: 3, 5 and 2 units, bought one at a
// time but for B, two.
func threeProducts() []Product {
	return []Product{
		{SKU: "A", Name: "Red", PriceCents: 1000, Stock: 3, PerShopperLimit: 1},
		{SKU: "B", Name: "Blue", PriceCents: 2000, Stock: 5, PerShopperLimit: 2},
		{SKU: "C", Name: "Green", PriceCents: 3000, Stock: 2, PerShopperLimit: 1},
	}
}

// openEvent loads an event of these products that has started into a
// fresh Redis, with change made to its plan first.
func openEvent(t *testing.T, products []Product, change ...func(*Plan)) (*redis.Client, *Rooms, string) {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := NewRooms(rdb)
	p := validPlan()
	p.ID, p.PerShopperLimit = "s_event", 0
	p.SetProducts(products)
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	for _, c := range change {
		c(&p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := rooms.Load(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	return rdb, rooms, p.ID
}

// admitted joins n shoppers (s00, s01, ...) and admits them all.
func admitted(t *testing.T, rdb *redis.Client, rooms *Rooms, saleID string, n int) (*Admitter, string, []Reservation) {
	t.Helper()
	var shoppers []string
	for i := range n {
		shoppers = append(shoppers, fmt.Sprintf("s%02d", i))
	}
	join(t, rooms, saleID, shoppers...)
	a := NewAdmitter(rdb, "node-a", quietLog())
	fence := lead(t, a, saleID)
	got, err := a.Admit(context.Background(), saleID, fence, n)
	if err != nil || len(got) != n {
		t.Fatalf("admitted %d (%v), want %d", len(got), err, n)
	}
	return a, fence, got
}

// assertPool checks an event's counters against each other: the pool's
// identity available = Σ left − held, sold = Σ sold of the products, and
// every product's left + sold = its stock, never below zero.
func assertPool(t *testing.T, rooms *Rooms, saleID string) Status {
	t.Helper()
	st, err := rooms.Status(context.Background(), saleID)
	if err != nil {
		t.Fatal(err)
	}
	var left, sold, stock int64
	for _, p := range st.Products {
		if p.Left < 0 || p.Sold < 0 || p.Left+p.Sold != p.Stock {
			t.Errorf("product %s: left %d + sold %d is not its stock %d", p.SKU, p.Left, p.Sold, p.Stock)
		}
		left, sold, stock = left+p.Left, sold+p.Sold, stock+p.Stock
	}
	if st.Available != left-st.Held || st.Sold != sold || st.Stock != stock {
		t.Errorf("pool %+v against the products' left %d, sold %d, stock %d: available must be left - held",
			st, left, sold, stock)
	}
	return st
}

func TestShoppersAllChoosingOneProductBuyExactlyItsStockAndMayChooseAnother(t *testing.T) {
	rdb, rooms, saleID := openEvent(t, threeProducts())
	ctx := context.Background()
	_, _, holds := admitted(t, rdb, rooms, saleID, 10)

	// Everyone at once for A, then those refused for B, then for C.
	rest := holds
	for _, c := range []struct {
		sku  string
		want int
	}{{"A", 3}, {"B", 5}, {"C", 2}} {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var refused []Reservation
		confirmed := 0
		for _, h := range rest {
			wg.Go(func() {
				_, err := rooms.ConfirmProduct(ctx, saleID, h.Shopper, h.ID, c.sku, 1, "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					confirmed++
				case errors.Is(err, ErrProductSoldOut):
					refused = append(refused, h)
				default:
					t.Errorf("confirm %s for %s: %v, want confirmed or ErrProductSoldOut", c.sku, h.Shopper, err)
				}
			})
		}
		wg.Wait()
		if confirmed != c.want {
			t.Errorf("%d confirmed %s, want exactly its stock, %d", confirmed, c.sku, c.want)
		}
		assertPool(t, rooms, saleID)
		rest = refused
	}
	if len(rest) != 0 {
		t.Errorf("%d shoppers bought nothing, though every admitted shopper had a unit of the event", len(rest))
	}
	if st := assertPool(t, rooms, saleID); st.State != StateSoldOut || st.Sold != 10 {
		t.Errorf("after every product sold: %+v, want sold out with 10 sold", st)
	}
}

func TestAnEventsCheckoutIsPricedAtItsProductAndTheReservationKeepsIt(t *testing.T) {
	rdb, rooms, saleID := openEvent(t, threeProducts())
	ctx := context.Background()
	_, _, holds := admitted(t, rdb, rooms, saleID, 1)
	c, err := rooms.ConfirmProduct(ctx, saleID, holds[0].Shopper, holds[0].ID, "B", 2, "digest")
	if err != nil {
		t.Fatal(err)
	}
	if c.SKU != "B" || c.PriceCents != 2000 || c.Quantity != 2 {
		t.Errorf("confirmation %+v, want 2 of B at 2000", c)
	}
	// The outbox relay publishes what the reservation kept, not the
	// sale's "from" price.
	out, _, err := rooms.Outbox(ctx, saleID, time.Now().Add(time.Minute), 10)
	if err != nil || len(out) != 1 || out[0].SKU != "B" || out[0].PriceCents != 2000 {
		t.Errorf("outbox %+v (%v), want the reservation of B at 2000", out, err)
	}
	again, err := rooms.ConfirmProduct(ctx, saleID, holds[0].Shopper, holds[0].ID, "B", 2, "digest")
	if err != nil || !again.Replayed || again.PriceCents != 2000 {
		t.Errorf("the same request again: %+v (%v), want it replayed at B's price", again, err)
	}
	if _, err := rooms.ConfirmProduct(ctx, saleID, holds[0].Shopper, holds[0].ID, "A", 2, "digest"); !errors.Is(err, ErrReservationConfirmed) {
		t.Errorf("the same key for another product: %v, want ErrReservationConfirmed", err)
	}
	st := assertPool(t, rooms, saleID)
	if st.Products[1].Left != 3 || st.Available != 8 || st.Held != 0 {
		t.Errorf("after 2 of B: %+v, want B left 3, available 8 and none held", st)
	}
}

// metaState is everything a refused checkout must leave as it was.
func metaState(t *testing.T, rdb *redis.Client, saleID string) map[string]string {
	t.Helper()
	ctx := context.Background()
	k := Keys(saleID)
	out := map[string]string{}
	for _, key := range []string{k.Meta, k.Bought, k.Res, k.Shoppers} {
		for f, v := range rdb.HGetAll(ctx, key).Val() {
			out[key+" "+f] = v
		}
	}
	out["outbox"] = strings.Join(rdb.ZRange(ctx, k.Outbox, 0, -1).Val(), " ")
	return out
}

func TestARefusedProductCheckoutChangesNothing(t *testing.T) {
	products := threeProducts()
	products[2].Stock = 1
	rdb, rooms, saleID := openEvent(t, products)
	ctx := context.Background()
	_, _, holds := admitted(t, rdb, rooms, saleID, 2)
	if _, err := rooms.ConfirmProduct(ctx, saleID, holds[1].Shopper, holds[1].ID, "C", 1, ""); err != nil {
		t.Fatal(err)
	}
	h := holds[0]
	before := metaState(t, rdb, saleID)
	for _, c := range []struct {
		product  string
		quantity int
		want     error
	}{
		{"", 1, ErrProductRequired},
		{"Z", 1, ErrProductUnknown},
		{"p:A", 1, ErrProductUnknown},
		{strings.Repeat("A", 65), 1, ErrProductUnknown},
		{"C", 1, ErrProductSoldOut},
		{"A", 2, ErrOverProductLimit}, // 3 of A left, but one a shopper
		{"B", 3, ErrOverLimit},
	} {
		_, err := rooms.ConfirmProduct(ctx, saleID, h.Shopper, h.ID, c.product, c.quantity, "")
		if !errors.Is(err, c.want) {
			t.Errorf("checkout of %d of %q: %v, want %v", c.quantity, c.product, err, c.want)
		}
	}
	if after := metaState(t, rdb, saleID); !maps.Equal(before, after) {
		t.Errorf("refused checkouts changed Redis:\nbefore %v\nafter  %v", before, after)
	}
	if _, err := rooms.ConfirmProduct(ctx, saleID, h.Shopper, h.ID, "A", 1, ""); err != nil {
		t.Errorf("after the refusals, the hold still buys A: %v", err)
	}
}

func TestAShopperBuysNoMoreOfAProductThanItsLimitOverSeveralOrders(t *testing.T) {
	rdb, rooms, saleID := openEvent(t, threeProducts(), func(p *Plan) { p.PerCustomerOrders = 3 })
	ctx := context.Background()
	a, fence, holds := admitted(t, rdb, rooms, saleID, 1)
	shopper := holds[0].Shopper
	if _, err := rooms.ConfirmProduct(ctx, saleID, shopper, holds[0].ID, "A", 1, ""); err != nil {
		t.Fatal(err)
	}
	// Orders to go: the shopper queues again and is let out again.
	join(t, rooms, saleID, shopper)
	again, err := a.Admit(ctx, saleID, fence, 1)
	if err != nil || len(again) != 1 {
		t.Fatalf("admitted again %d (%v)", len(again), err)
	}
	if _, err := rooms.ConfirmProduct(ctx, saleID, shopper, again[0].ID, "A", 1, ""); !errors.Is(err, ErrOverProductLimit) {
		t.Errorf("a second unit of A, whose limit is 1: %v, want ErrOverProductLimit", err)
	}
	if _, err := rooms.ConfirmProduct(ctx, saleID, shopper, again[0].ID, "B", 2, ""); err != nil {
		t.Errorf("2 of B, whose limit is 2, with the same hold: %v", err)
	}
	assertPool(t, rooms, saleID)
}

func TestLapsedHoldsAndRefundsKeepThePoolAndEveryProductWhole(t *testing.T) {
	rdb, rooms, saleID := openEvent(t, threeProducts())
	ctx := context.Background()
	a, _, holds := admitted(t, rdb, rooms, saleID, 3)
	if _, err := rooms.ConfirmProduct(ctx, saleID, holds[0].Shopper, holds[0].ID, "B", 2, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := rooms.ConfirmProduct(ctx, saleID, holds[1].Shopper, holds[1].ID, "A", 1, ""); err != nil {
		t.Fatal(err)
	}
	lapse(t, rdb, saleID, holds[2].ID)
	if err := a.runSale(ctx, saleID, a.sales[saleID], time.Now()); err != nil {
		t.Fatal(err)
	}
	st := assertPool(t, rooms, saleID)
	if st.Held != 0 || st.Available != 7 {
		t.Errorf("after a hold lapsed: %+v, want none held and 7 available", st)
	}
	if err := rooms.Refund(ctx, saleID, holds[0].ID, 2); err != nil {
		t.Fatal(err)
	}
	if err := rooms.Refund(ctx, saleID, holds[0].ID, 2); err != nil { // once only
		t.Fatal(err)
	}
	st = assertPool(t, rooms, saleID)
	if st.Products[1].Left != 5 || st.Available != 9 || st.Sold != 1 {
		t.Errorf("after B's order was refunded: %+v, want B left 5, available 9, sold 1", st)
	}
	bought := rdb.HGet(ctx, Keys(saleID).Bought, holds[0].Shopper+":p:B").Val()
	if n, _ := strconv.Atoi(bought); n != 0 {
		t.Errorf("the refunded shopper still counts %s units of B against its limit", bought)
	}
}

func TestASingleProductSaleTakesItsOwnSkuOrNoneAndRefusesAnother(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 3)
	ctx := context.Background()
	join(t, rooms, saleID, "a", "b")
	a := NewAdmitter(rdb, "node-a", quietLog())
	holds, err := a.Admit(ctx, saleID, lead(t, a, saleID), 2)
	if err != nil || len(holds) != 2 {
		t.Fatalf("admitted %d (%v)", len(holds), err)
	}
	before := metaState(t, rdb, saleID)
	if _, err := rooms.ConfirmProduct(ctx, saleID, "a", holds[0].ID, "OTHER", 1, ""); !errors.Is(err, ErrProductUnknown) {
		t.Errorf("another sku: %v, want ErrProductUnknown", err)
	}
	if after := metaState(t, rdb, saleID); !maps.Equal(before, after) {
		t.Errorf("a refused checkout changed Redis")
	}
	c, err := rooms.ConfirmProduct(ctx, saleID, "a", holds[0].ID, validPlan().SKU, 1, "")
	if err != nil || c.SKU != "" || c.PriceCents != validPlan().PriceCents {
		t.Errorf("its own sku: %+v (%v), want today's confirmation", c, err)
	}
	if _, err := rooms.Confirm(ctx, saleID, "b", holds[1].ID, 1, ""); err != nil {
		t.Errorf("no sku: %v", err)
	}
	if st, _ := rooms.Status(ctx, saleID); st.Products != nil {
		t.Errorf("a single-product sale's status carries products %+v", st.Products)
	}
}

func TestAnEventsPlanIsRefusedOutsideItsBounds(t *testing.T) {
	many := make([]Product, 21)
	for i := range many {
		many[i] = Product{SKU: fmt.Sprintf("P%d", i), Name: "x", PriceCents: 1, Stock: 1, PerShopperLimit: 1}
	}
	for _, c := range []struct {
		name     string
		products []Product
		change   func(*Plan)
		want     string
	}{
		{"one product", threeProducts()[:1], nil, "between 2 and 20"},
		{"21 products", many, nil, "between 2 and 20"},
		{"a sku twice", append(threeProducts(), threeProducts()[0]), nil, "unique"},
		{"a sku beside products", threeProducts(), func(p *Plan) { p.SKU = "X" }, "sku goes with a single-product sale"},
		{"a product without stock", []Product{threeProducts()[0], {SKU: "Z", Name: "z", Stock: 0, PerShopperLimit: 1}}, nil, "products[1].stock"},
		{"a limit of 11", []Product{threeProducts()[0], {SKU: "Z", Name: "z", Stock: 1, PerShopperLimit: 11}}, nil, "products[1].per_shopper_limit"},
		{"an image over http", []Product{threeProducts()[0], {SKU: "Z", Name: "z", Stock: 1, PerShopperLimit: 1, ImageURL: "http://x/y.png"}}, nil, "image_url"},
	} {
		p := validPlan()
		p.PerShopperLimit = 0
		p.SetProducts(c.products)
		if c.change != nil {
			c.change(&p)
		}
		err := p.Validate()
		if !errors.Is(err, ErrInvalidSale) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrInvalidSale naming %q", c.name, err, c.want)
		}
	}
	p := validPlan()
	p.PerShopperLimit = 0
	p.SetProducts(threeProducts())
	if err := p.Validate(); err != nil || p.Stock != 10 || p.PriceCents != 1000 || p.PerShopperLimit != 2 {
		t.Errorf("three products: %v, stock %d, price %d, limit %d; want valid, 10, the lowest price 1000, the highest limit 2",
			err, p.Stock, p.PriceCents, p.PerShopperLimit)
	}
}
