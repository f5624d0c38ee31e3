package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// outcome is how one shopper's sale ended.
type outcome struct {
	shopper    string
	admissions int  // admitted messages received
	ordered    bool // an order message with status confirmed
	soldOut    bool // a sold_out message
	err        error
}

// joinedShopper makes a new shopper, connects it to the sale and joins;
// the caller closes the connection.
func joinedShopper(ctx context.Context, c *shopperclient.Client, saleID string) (*shopperclient.Conn, shopperclient.Session, error) {
	s, err := c.NewSession(ctx)
	if err != nil {
		return nil, s, err
	}
	conn, err := c.Connect(ctx, saleID, s)
	if err != nil {
		return nil, s, err
	}
	if err := conn.Join(ctx); err != nil {
		conn.CloseNow()
		return nil, s, err
	}
	return conn, s, nil
}

// shop walks one shopper through a sale: join, wait, check out when
// admitted, and stop at its order or at sold out.
func shop(ctx context.Context, c *shopperclient.Client, saleID string) outcome {
	conn, s, err := joinedShopper(ctx, c, saleID)
	o := outcome{shopper: s.ShopperID, err: err}
	if err != nil {
		return o
	}
	defer conn.CloseNow()
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			o.err = fmt.Errorf("shopper %s: %w", s.ShopperID, err)
			return o
		}
		switch m.Type {
		case "admitted":
			o.admissions++
			if _, err := c.Checkout(ctx, m.CheckoutURL, m.Token); err != nil {
				o.err = fmt.Errorf("shopper %s: checkout: %w", s.ShopperID, err)
				return o
			}
		case "order":
			if m.Status == "pending_payment" {
				continue // the payment is on its way
			}
			o.ordered = m.Status == "paid"
			return o
		case "sold_out":
			o.soldOut = true
			return o
		case "error":
			o.err = fmt.Errorf("shopper %s: error %s: %s", s.ShopperID, m.Code, m.Message)
			return o
		}
	}
}

func TestThreeHundredShoppersBuyExactlyTheHundredUnits(t *testing.T) {
	threeHundredShoppersBuyTheHundredUnits(t, startSystem(t))
}

// threeHundredShoppersBuyTheHundredUnits plays the end-to-end sale on sys:
// on one Redis, and on a Redis Cluster (cluster_test.go).
func threeHundredShoppersBuyTheHundredUnits(t *testing.T, sys *system) {
	const shoppers, stock = 300, 100
	saleID := sys.createSale(t, map[string]any{
		"sku": "E2E-1", "name": "End to end", "price_cents": 1000, "stock": stock,
		"starts_at": startsIn(time.Minute), "outflow_per_second": 200, "reservation_ttl_seconds": 60,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	outcomes := make([]outcome, shoppers)
	var wg sync.WaitGroup
	for i := range outcomes {
		wg.Go(func() { outcomes[i] = shop(ctx, client, saleID) })
	}
	sys.startOncePrequeued(t, ctx, shoppers, saleID)
	wg.Wait()

	var ordered, soldOut int
	seen := map[string]bool{}
	for _, o := range outcomes {
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.admissions > 1 {
			t.Errorf("shopper %s was admitted %d times", o.shopper, o.admissions)
		}
		if seen[o.shopper] {
			t.Errorf("shopper id %s given twice", o.shopper)
		}
		seen[o.shopper] = true
		switch {
		case o.ordered:
			ordered++
		case o.soldOut:
			soldOut++
		}
	}
	if ordered != stock || soldOut != shoppers-stock {
		t.Fatalf("ordered %d and sold out %d, want %d and %d", ordered, soldOut, stock, shoppers-stock)
	}
	var rows, distinct, sold int
	if err := sys.DB.Get(&rows, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	if err := sys.DB.Get(&distinct, `SELECT count(DISTINCT shopper_id) FROM orders WHERE sale_id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	if err := sys.DB.Get(&sold, `SELECT sold FROM sales WHERE id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	if rows != stock || distinct != stock || sold != stock {
		t.Fatalf("postgres has %d orders for %d shoppers and sold=%d, want %d each", rows, distinct, sold, stock)
	}
}
