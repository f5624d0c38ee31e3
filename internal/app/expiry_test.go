package app_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestUnpaidHoldsExpireAndTheNextShoppersBuyTheUnits admits two shoppers to
// a sale of two units who never check out. When their holds expire (the
// shortest TTL, 10 s), the two shoppers behind them are admitted, buy, and
// the sale ends with exactly two orders, theirs.
func TestUnpaidHoldsExpireAndTheNextShoppersBuyTheUnits(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "X-1", "name": "Expiry", "stock": 2,
		"outflow_per_second": 100, "reservation_ttl_seconds": 10})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var idle []*inbox
	for range 2 {
		conn, _ := connectNew(t, ctx, sys.URL, saleID)
		in := listen(conn)
		in.wait(ctx, "welcome")
		conn.Join(ctx)
		if _, err := in.wait(ctx, "admitted"); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, in)
	}
	var buyers []*inbox
	for range 2 {
		conn, _ := connectNew(t, ctx, sys.URL, saleID)
		in := listen(conn)
		in.wait(ctx, "welcome")
		conn.Join(ctx)
		if _, err := in.wait(ctx, "position"); err != nil {
			t.Fatal(err)
		}
		buyers = append(buyers, in)
	}
	for _, in := range idle {
		if _, err := in.wait(ctx, "expired"); err != nil {
			t.Fatalf("a hold never expired: %v", err)
		}
	}
	for _, in := range buyers {
		admitted, err := in.wait(ctx, "admitted")
		if err != nil {
			t.Fatalf("a waiting shopper was not admitted to an expired hold's unit: %v", err)
		}
		sys.checkout(t, saleID, admitted.Token)
		orderStatus(t, ctx, in, "paid")
	}
	if n := sys.countOrders(t, saleID); n != 2 {
		t.Errorf("%d orders, want exactly the stock, 2", n)
	}
	// The node's admitter counted what it did: four let out, two holds
	// released.
	body := scrape(t, sys.OpsURLs[0])
	for _, want := range []string{"\nfoyer_admissions_total 4\n", "\nfoyer_holds_released_total 2\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}
