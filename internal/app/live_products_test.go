package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// liveProducts is what the dashboard's push says of each sale's products.
type liveProducts struct {
	Sales []struct {
		ID       string `json:"id"`
		Products []struct {
			SKU               string
			Stock, Left, Sold int64
		} `json:"products"`
	} `json:"sales"`
}

// TestTheDashboardIsPushedEachProductsUnitsOfAnEventAndNothingNewForASale
// buys the one cap of an event of three products and reads the dashboard's
// live feed until it shows it sold; a single-product sale beside it is
// pushed without products.
func TestTheDashboardIsPushedEachProductsUnitsOfAnEventAndNothingNewForASale(t *testing.T) {
	sys := startSystem(t)
	single := sys.createSale(t, map[string]any{"sku": "S-1", "name": "Single", "stock": 5, "starts_at": startsIn(time.Hour)})
	eventID := sys.createSale(t, eventBody(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	conn, admitted, err := admittedOnce(ctx, client, eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if _, err := client.CheckoutProduct(ctx, admitted.CheckoutURL, admitted.Token, "CAP", 1); err != nil {
		t.Fatalf("buy the cap: %v", err)
	}

	ws := dialLive(t, ctx, sys, sys.AdminToken)
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("no push showed the cap sold: %v", err)
		}
		var s liveProducts
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("push %s: %v", data, err)
		}
		var got string
		for _, sale := range s.Sales {
			switch sale.ID {
			case single:
				if sale.Products != nil {
					t.Fatalf("a single-product sale is pushed products: %+v", sale.Products)
				}
			case eventID:
				parts := []string{}
				for _, p := range sale.Products {
					parts = append(parts, p.SKU+" "+itoa(p.Left)+"/"+itoa(p.Stock)+" sold "+itoa(p.Sold))
				}
				got = strings.Join(parts, ", ")
			}
		}
		if got == "TEE-RED 2/2 sold 0, TEE-BLUE 3/3 sold 0, CAP 0/1 sold 1" {
			if strings.Count(string(data), `"products"`) != 1 {
				t.Errorf("push %s: want products for the event alone", data)
			}
			return
		}
		if got != "TEE-RED 2/2 sold 0, TEE-BLUE 3/3 sold 0, CAP 1/1 sold 0" {
			t.Fatalf("event pushed as %q", got)
		}
	}
}
