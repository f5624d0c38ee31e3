package fanout

import (
	"net/url"
	"testing"

	"github.com/foyerhq/foyer/waitingroom"
)

func TestShopCheckoutURLAddsTheTokenAndTheSaleAndKeepsTheShopsQuery(t *testing.T) {
	cases := []struct{ shop, want string }{
		{"https://shop.example/checkout", "https://shop.example/checkout?foyer_sale=s1&foyer_token=a.b.c"},
		{"https://shop.example/checkout?cart=42", "https://shop.example/checkout?cart=42&foyer_sale=s1&foyer_token=a.b.c"},
		// A parameter of Foyer's name in the shop's URL is replaced, never doubled.
		{"https://shop.example/c?foyer_token=stale&foyer_sale=x", "https://shop.example/c?foyer_sale=s1&foyer_token=a.b.c"},
		{"http://localhost:8080/pay?q=a+b", "http://localhost:8080/pay?foyer_sale=s1&foyer_token=a.b.c&q=a+b"},
	}
	for _, tc := range cases {
		shop, err := shopCheckout(waitingroom.Status{Checkout: waitingroom.CheckoutShop, CheckoutURL: tc.shop})
		if err != nil {
			t.Fatal(err)
		}
		if got := shopCheckoutURL(shop, "a.b.c", "s1"); got != tc.want {
			t.Errorf("shopCheckoutURL(%s) = %s, want %s", tc.shop, got, tc.want)
		}
		if again := shopCheckoutURL(shop, "d.e.f", "s1"); again == tc.want {
			t.Errorf("the shop's URL was changed by building one from it: %s", again)
		}
	}
}

func TestShopCheckoutURLEscapesAToken(t *testing.T) {
	shop, _ := url.Parse("https://shop.example/checkout")
	got, err := url.Parse(shopCheckoutURL(shop, "a&b=c", "s 1"))
	if err != nil {
		t.Fatal(err)
	}
	if q := got.Query(); q.Get("foyer_token") != "a&b=c" || q.Get("foyer_sale") != "s 1" {
		t.Errorf("query %q does not carry the token and the sale unchanged", got.RawQuery)
	}
}

func TestAFoyerCheckoutSaleHasNoShopPage(t *testing.T) {
	for _, st := range []waitingroom.Status{{}, {Checkout: waitingroom.CheckoutFoyer}} {
		if shop, err := shopCheckout(st); shop != nil || err != nil {
			t.Errorf("shopCheckout(%q) = %v, %v, want nil", st.Checkout, shop, err)
		}
	}
}
