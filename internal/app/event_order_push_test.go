package app_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// paidOrder checks out what checkout buys for a new shopper of the sale,
// and returns the order messages it is told up to paid, then the order
// message a new connection of the same session is told on arriving.
func paidOrder(t *testing.T, sys *system, saleID string, checkout func(ctx context.Context, c *shopperclient.Client, admitted shopperclient.Message) error) (live []shopperclient.Message, again shopperclient.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	conn, s, err := joinedShopper(ctx, client, saleID)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for the admission: %v", err)
		}
		if m.Type == "admitted" {
			if err := checkout(ctx, client, m); err != nil {
				t.Fatalf("checkout: %v", err)
			}
		}
		if m.Type == "order" {
			live = append(live, m)
			if m.Status == "paid" {
				break
			}
		}
	}
	conn.Close()
	reloaded, err := client.Connect(ctx, saleID, s)
	if err != nil {
		t.Fatal(err)
	}
	defer reloaded.CloseNow()
	for {
		m, err := reloaded.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for the order on arriving again: %v", err)
		}
		if m.Type == "order" {
			return live, m
		}
	}
}

// TestAnEventsOrderPushNamesTheProductBoughtLiveAndOnArrivingAgain: a
// page reloaded after an event's checkout had only the order push to go
// by, and it did not say what was bought. The workers' news and the
// answer to a returning connection both tell the sku and the units; a
// single-product sale's order messages carry neither.
func TestAnEventsOrderPushNamesTheProductBoughtLiveAndOnArrivingAgain(t *testing.T) {
	sys := startSystem(t)
	event := sys.createSale(t, eventBody(0))
	live, again := paidOrder(t, sys, event, func(ctx context.Context, c *shopperclient.Client, m shopperclient.Message) error {
		_, err := c.CheckoutProduct(ctx, m.CheckoutURL, m.Token, "TEE-BLUE", 2)
		return err
	})
	for _, m := range append(live, again) {
		if m.SKU != "TEE-BLUE" || m.Quantity != 2 {
			t.Errorf("an event's order message %s names %q × %d, want TEE-BLUE × 2", m.Raw, m.SKU, m.Quantity)
		}
	}
	if again.Status != "paid" || again.OrderID == 0 {
		t.Errorf("arriving again, the order was told as %s", again.Raw)
	}

	single := sys.createSale(t, map[string]any{
		"sku": "ONE-1", "name": "One product", "price_cents": 1000, "stock": 5,
		"starts_at": startsIn(0), "outflow_per_second": 100, "reservation_ttl_seconds": 60,
	})
	live, again = paidOrder(t, sys, single, func(ctx context.Context, c *shopperclient.Client, m shopperclient.Message) error {
		_, err := c.Checkout(ctx, m.CheckoutURL, m.Token)
		return err
	})
	for _, m := range append(live, again) {
		if bytes.Contains(m.Raw, []byte(`"sku"`)) || bytes.Contains(m.Raw, []byte(`"quantity"`)) {
			t.Errorf("a single-product sale's order message %s names a product", m.Raw)
		}
	}
}
