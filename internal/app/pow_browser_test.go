package app_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAShopperInARealBrowserSolvesTheProofOfWorkAndGetsAPlace joins a sale
// that asks for proof of work from the shopper page: pow.js solves the
// welcome's challenge with WebCrypto and the join carries the solution.
func TestAShopperInARealBrowserSolvesTheProofOfWorkAndGetsAPlace(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "W-P", "name": "Pow", "stock": 10,
		"outflow_per_second": stalled, "pow_difficulty": 8})
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`typeof FoyerPow === 'object' && !document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 1`),
	); err != nil {
		t.Fatal(err)
	}
	var shown string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('#error').textContent`, &shown)); err != nil {
		t.Fatal(err)
	}
	if shown != "" {
		t.Errorf("the page shows an error: %q", shown)
	}
	if n := sys.queueLength(t, saleID); n != 1 {
		t.Errorf("%d in the queue, want the browser's shopper", n)
	}
}

// TestAShopperPageWelcomedBeforeProofOfWorkWasSwitchedOnStillJoins opens
// the page, then the operator asks for proof of work: the page's join has no
// solution, and it answers the pow_required error by solving the challenge
// that came with it.
func TestAShopperPageWelcomedBeforeProofOfWorkWasSwitchedOnStillJoins(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "W-Q", "name": "Pow later", "stock": 10, "outflow_per_second": stalled})
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
	); err != nil {
		t.Fatal(err)
	}
	sys.admin(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/pow", map[string]any{"difficulty": 8}, http.StatusOK)
	if err := chromedp.Run(ctx,
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 1`),
	); err != nil {
		t.Fatal(err)
	}
}
