package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/checkout"
)

// TestTheShopperPageSendsAnAdmittedShopperOfAShopSaleToTheShopsCheckout
// drives Foyer's own shopper page in chromium through an invited sale whose
// checkout is the shop's: once admitted, the browser ends on the shop's
// checkout page (an httptest server standing in for the shop, on another
// origin) with the reservation token and the sale in its query. Back on
// Foyer's page it is not sent away again, but offered the way to the
// checkout.
func TestTheShopperPageSendsAnAdmittedShopperOfAShopSaleToTheShopsCheckout(t *testing.T) {
	sys := startSystem(t)
	visits := make(chan url.URL, 4)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/checkout" { // the browser's favicon
			http.NotFound(w, r)
			return
		}
		visits <- *r.URL
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>The shop's checkout</title><h1 id="shop-checkout">Pay</h1>`)
	}))
	t.Cleanup(shop.Close)
	saleID := sys.createSale(t, map[string]any{"sku": "SHOP-PAGE-1", "name": "A shop's drop", "stock": 3,
		"outflow_per_second": 100, "identity": "optional", "eligibility": "invited",
		"checkout": "shop", "checkout_url": shop.URL + "/checkout?cart=7"})
	code := sys.inviteCodes(t, saleID, 1)[0]

	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+saleID+"&invite="+code),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
	); err != nil {
		t.Fatalf("joining: %v", err)
	}
	var visit url.URL
	select {
	case visit = <-visits:
	case <-time.After(30 * time.Second):
		var shown string
		chromedp.Run(ctx, chromedp.Text("body", &shown))
		t.Fatalf("the admitted shopper never reached the shop's checkout; the page shows:\n%s", shown)
	}
	q := visit.Query()
	if _, err := checkout.NewTokens(mustRing(t, sys.Seed)).Verify(saleID, q.Get("foyer_token")); err != nil {
		t.Errorf("foyer_token %q is not a reservation token of the sale: %v", q.Get("foyer_token"), err)
	}
	if q.Get("foyer_sale") != saleID || q.Get("cart") != "7" {
		t.Errorf("the shop's checkout got %q, want foyer_sale=%s beside the shop's cart=7", visit.RawQuery, saleID)
	}
	var at string
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#shop-checkout"), chromedp.Location(&at)); err != nil {
		t.Fatalf("the browser is not on the shop's checkout page: %v", err)
	}
	if at != shop.URL+visit.String() {
		t.Errorf("the browser is at %s, want the shop's checkout %s", at, shop.URL+visit.String())
	}
	if meta := metaOf(t, sys, saleID); meta["held"] != "1" || meta["sold"] != "0" {
		t.Errorf("held %s, sold %s: want the unit held for the shop to sell", meta["held"], meta["sold"])
	}

	// The shopper comes back to Foyer's page: the hold is still theirs,
	// and they go on to the checkout when they choose, with the same token.
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#buy').hidden && document.querySelector('#buy').textContent === 'Continue to checkout'`),
	); err != nil {
		t.Fatalf("back on Foyer's page: %v", err)
	}
	select {
	case again := <-visits:
		t.Fatalf("coming back to Foyer's page sent the shopper to the shop again, unasked (%s)", again.RawQuery)
	default:
	}
	if err := chromedp.Run(ctx, chromedp.Click("#buy")); err != nil {
		t.Fatal(err)
	}
	select {
	case again := <-visits:
		if again.Query().Get("foyer_token") != q.Get("foyer_token") {
			t.Errorf("Continue to checkout went to the shop with another token: %s", again.RawQuery)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Continue to checkout never reached the shop's checkout")
	}
}
