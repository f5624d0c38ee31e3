package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

func TestAShopCheckoutSaleSendsTheAdmittedShopperToTheShopWithTheToken(t *testing.T) {
	sys := startSystem(t)
	shopURL := "https://shop.example/checkout?cart=42"
	saleID := sys.createSale(t, map[string]any{"sku": "SHOP-1", "name": "Shop's checkout", "stock": 3,
		"outflow_per_second": 100, "checkout": "shop", "checkout_url": shopURL})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	u, err := url.Parse(admitted.CheckoutURL)
	if err != nil {
		t.Fatalf("checkout_url %q: %v", admitted.CheckoutURL, err)
	}
	if u.Scheme != "https" || u.Host != "shop.example" || u.Path != "/checkout" {
		t.Errorf("checkout_url %q is not the shop's page %s", admitted.CheckoutURL, shopURL)
	}
	q := u.Query()
	if admitted.Token == "" || q.Get("foyer_token") != admitted.Token {
		t.Errorf("foyer_token = %q, want the admitted message's token %q", q.Get("foyer_token"), admitted.Token)
	}
	if q.Get("foyer_sale") != saleID {
		t.Errorf("foyer_sale = %q, want %s", q.Get("foyer_sale"), saleID)
	}
	if q.Get("cart") != "42" {
		t.Errorf("the shop's own parameter cart = %q, want 42", q.Get("cart"))
	}
	if admitted.Checkout != wire.CheckoutShop {
		t.Errorf("checkout = %q, want %q: the page must open the shop's page, not post to it", admitted.Checkout, wire.CheckoutShop)
	}
}

func TestAFoyerCheckoutSaleStillSendsTheShopperToFoyersCheckout(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "SHOP-2", "name": "Foyer's checkout", "stock": 3,
		"outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	if !strings.HasSuffix(admitted.CheckoutURL, "/v1/sales/"+saleID+"/checkout") || strings.Contains(admitted.CheckoutURL, "foyer_token") {
		t.Errorf("checkout_url = %q, want Foyer's checkout of the sale", admitted.CheckoutURL)
	}
	if admitted.Checkout != wire.CheckoutFoyer {
		t.Errorf("checkout = %q, want %q", admitted.Checkout, wire.CheckoutFoyer)
	}
}

func TestABadShopCheckoutPlanIsRefusedAndCreatesNothing(t *testing.T) {
	sys := startSystem(t)
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"sku": "SHOP-3", "name": "Bad checkout", "stock": 3}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	cases := []struct {
		name string
		body map[string]any
	}{
		{"a shop checkout without a url", base(map[string]any{"checkout": "shop"})},
		{"an ftp url", base(map[string]any{"checkout": "shop", "checkout_url": "ftp://shop.example/checkout"})},
		{"a plain http url off this machine", base(map[string]any{"checkout": "shop", "checkout_url": "http://example.com/checkout"})},
		{"a url of 501 characters", base(map[string]any{"checkout": "shop",
			"checkout_url": "https://shop.example/" + strings.Repeat("a", 501-len("https://shop.example/"))})},
		{"a url with a control character", base(map[string]any{"checkout": "shop", "checkout_url": "https://shop.example/\ncheckout"})},
		{"a url with a fragment", base(map[string]any{"checkout": "shop", "checkout_url": "https://shop.example/checkout#pay"})},
		{"a checkout of other", base(map[string]any{"checkout": "other", "checkout_url": "https://shop.example/checkout"})},
		{"a url for a foyer checkout", base(map[string]any{"checkout_url": "https://shop.example/checkout"})},
	}
	for _, tc := range cases {
		sys.expect(t, http.MethodPost, "/v1/admin/sales", tc.body, http.StatusUnprocessableEntity, "invalid_sale")
	}
	if n := sys.count(t, `SELECT count(*) FROM sales`); n != 0 {
		t.Errorf("bad plans made %d sales", n)
	}
	if n := sys.Redis.SCard(context.Background(), waitingroom.ActiveSales).Val(); n != 0 {
		t.Errorf("bad plans loaded %d sales into Redis", n)
	}
}
