package app_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAnOperatorMakesAShopKeyAndAShopCheckoutSaleInTheDashboard drives the
// dashboard in a real browser: a shop key made with two scopes, shown once
// and then gone from the page, that works against the API until it is
// revoked there; and a sale whose identity is required, whose checkout is
// the shop's page, which invites whom it admits and lets a customer buy 4
// units in 2 orders, all of which the sale's page then shows.
func TestAnOperatorMakesAShopKeyAndAShopCheckoutSaleInTheDashboard(t *testing.T) {
	sys := startSystem(t)
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		sys.signInWithToken(),
		chromedp.WaitVisible("#sk-form"),
		waitFor(`document.querySelector('#shopkeys').textContent.includes('No shop keys yet')`),
	); err != nil {
		t.Fatal(err)
	}

	var secret, copied string
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#sk-name", "Example shop"),
		chromedp.Click(`input[name=sk-scope][value=orders]`),
		chromedp.Click("#sk-create"),
		chromedp.WaitVisible("#sk-new"),
		chromedp.Value("#sk-secret", &secret),
		chromedp.Click("#sk-copy"),
		waitFor(`document.querySelector('#sk-copied').textContent !== ''`),
		chromedp.Text("#sk-copied", &copied),
		waitFor(`document.querySelectorAll('#shopkeys button[data-id]').length === 1`),
		shoot("shop-keys"),
	); err != nil {
		t.Fatalf("creating a key: %v", err)
	}
	if !strings.HasPrefix(secret, "fk_") || copied != "Copied." {
		t.Errorf("the page shows key %q and copy result %q", secret, copied)
	}
	var listed struct{ Keys []shopKey }
	sys.call(t, http.MethodGet, "/v1/admin/shop-keys", sys.AdminToken, nil, &listed)
	if len(listed.Keys) == 1 {
		slices.Sort(listed.Keys[0].Scopes)
	}
	if len(listed.Keys) != 1 || listed.Keys[0].Name != "Example shop" || strings.Join(listed.Keys[0].Scopes, ",") != "orders,redeem" ||
		!strings.HasPrefix(secret, "fk_"+listed.Keys[0].ID+"_") {
		t.Fatalf("keys %+v after the dashboard made %q", listed.Keys, secret)
	}
	var shown string
	if err := chromedp.Run(ctx, chromedp.Click("#sk-done"), chromedp.WaitNotVisible("#sk-new"),
		chromedp.Value("#sk-secret", &shown)); err != nil || shown != "" {
		t.Errorf("after Done the page still holds the key %q (%v)", shown, err)
	}

	// A sale for the shop: customers only, checked out on the shop's page.
	shopURL := "https://shop.example/checkout"
	var urlHidden bool
	var settings string
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`document.querySelector('#ns-checkout-url-field').hidden`, &urlHidden),
		chromedp.SendKeys("#ns-sku", "SHOP-DASH"),
		chromedp.SendKeys("#ns-name", "Shop drop"),
		chromedp.SendKeys("#ns-price", "10"),
		chromedp.SendKeys("#ns-stock", "5"),
		chromedp.Evaluate(`for (const [id, v] of [["ns-identity", "required"], ["ns-checkout", "shop"]]) {
			const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event("change"));
		}`, nil),
		chromedp.WaitVisible("#ns-checkout-url"),
		chromedp.SendKeys("#ns-checkout-url", shopURL),
		chromedp.SetValue("#ns-per-customer-units", "4"),
		chromedp.SetValue("#ns-per-customer-orders", "2"),
		chromedp.SetValue("#ns-eligibility", "invited"),
		chromedp.Click("#ns-submit"),
		waitFor(`document.querySelector('#sales').textContent.includes('Shop drop')`),
		waitFor(`document.querySelector('#detail-settings').textContent.includes('per customer')`),
		chromedp.Text("#detail-settings", &settings),
		shoot("shop-sale-settings"),
	); err != nil {
		t.Fatalf("creating a shop sale: %v", err)
	}
	for _, want := range []string{"identity required", "checkout on the shop’s page (" + shopURL + ")", "invited only",
		"at most 2 orders, 4 units"} {
		if !strings.Contains(settings, want) {
			t.Errorf("the sale's page says %q, want it to say %q", settings, want)
		}
	}
	if !urlHidden {
		t.Error("the checkout URL is asked for a sale that checks out in Foyer")
	}
	var sales struct {
		Sales []struct {
			SKU, Identity, Checkout, Eligibility string
			CheckoutURL                          string `json:"checkout_url"`
			PerCustomerUnits                     int    `json:"per_customer_units"`
			PerCustomerOrders                    int    `json:"per_customer_orders"`
			ID                                   string
		}
	}
	sys.call(t, http.MethodGet, "/v1/admin/sales", sys.AdminToken, nil, &sales)
	if len(sales.Sales) != 1 || sales.Sales[0].Identity != "required" || sales.Sales[0].Checkout != "shop" ||
		sales.Sales[0].CheckoutURL != shopURL || sales.Sales[0].Eligibility != "invited" ||
		sales.Sales[0].PerCustomerUnits != 4 || sales.Sales[0].PerCustomerOrders != 2 {
		t.Fatalf("sales %+v, want one invited shop sale with identity required, 4 units and 2 orders per customer", sales.Sales)
	}
	if status, code := sys.shopCall(t, "/v1/shop/sales/"+sales.Sales[0].ID+"/orders", secret); status != http.StatusOK {
		t.Errorf("the dashboard's key reads orders: %d %s", status, code)
	}

	// Revoked in two clicks; the shop is refused after.
	if err := chromedp.Run(ctx,
		chromedp.Click("#shopkeys button[data-id]"),
		waitFor(`document.querySelector('#shopkeys button[data-id]').dataset.armed === 'true'`),
		chromedp.Click("#shopkeys button[data-id]"),
		waitFor(`document.querySelector('#shopkeys tr[data-revoked]') !== null`),
	); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	if status, code := sys.shopCall(t, "/v1/shop/sales/"+sales.Sales[0].ID+"/orders", secret); status != http.StatusUnauthorized || code != "shop_key_invalid" {
		t.Errorf("a revoked key: %d %s, want 401 shop_key_invalid", status, code)
	}
}
