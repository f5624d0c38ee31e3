package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestTheListingPageCountsDownToAnUpcomingSaleAndLinksALiveOne opens /sales
// in headless chromium: an upcoming sale's countdown runs, a live sale has
// its Join link to the shopper page, an ended one is under Ended, and a sale
// that ends while the page is open is announced to screen readers.
func TestTheListingPageCountsDownToAnUpcomingSaleAndLinksALiveOne(t *testing.T) {
	sys := startSystem(t)
	ctx := newBrowser(t)
	upcoming := sys.createSale(t, map[string]any{"sku": "LB-1", "name": "Autumn Runner", "price_cents": 12900,
		"currency": "EUR", "stock": 40, "starts_at": startsIn(2 * time.Hour)})
	live := sys.createSale(t, map[string]any{"sku": "LB-2", "name": "Trail Jacket", "price_cents": 24900,
		"currency": "EUR", "stock": 25})
	ended := sys.createSale(t, map[string]any{"sku": "LB-3", "name": "Summer Cap", "price_cents": 1900,
		"currency": "EUR", "stock": 5})
	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+ended+"/stop", nil, http.StatusOK)
	sys.awaitSaleState(t, live, "open")
	sys.awaitSaleState(t, ended, "ended")

	countdown := fmt.Sprintf(`document.querySelector('#upcoming-list [data-sale=%q] .sale-countdown')`, upcoming)
	var first string
	err := chromedp.Run(ctx,
		watchCSP(),
		// The device's clock is an hour fast: the countdown, on the
		// server's clock, still says the two hours left, not one.
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(`{ const real = Date.now; Date.now = () => real() + 3600e3; }`).Do(ctx)
			return err
		}),
		chromedp.Navigate(sys.URL+"/sales"),
		waitFor(`/^Starts in 01:5\d:\d\d$/.test(`+countdown+`?.textContent)`),
		chromedp.Evaluate(countdown+`.textContent`, &first),
		waitFor(countdown+`.textContent !== `+fmt.Sprintf("%q", first)), // it counts down
		waitFor(fmt.Sprintf(`document.querySelector('#live-list a.join-link[href="/?sale=%s"]') !== null`, live)),
		waitFor(fmt.Sprintf(`document.querySelector('#ended-list [data-sale=%q]') !== null`, ended)),
		shoot("listing-1-sales"), accessible(t, "listing"),
	)
	if err != nil {
		t.Fatal(err)
	}

	// The live sale ends: once the node's listing says so, the page, asked
	// to look again (as when its tab is seen again), moves it and says so.
	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+live+"/stop", nil, http.StatusOK)
	deadline := time.Now().Add(10 * time.Second)
	for statesOf(sys.listing(t, ""))[live] != "ended/ended" {
		if time.Now().After(deadline) {
			t.Fatal("the listing never showed the stopped sale ended")
		}
		time.Sleep(100 * time.Millisecond) // polling the node's two-second copy; the deadline bounds it
	}
	err = chromedp.Run(ctx,
		chromedp.Evaluate(`document.dispatchEvent(new Event('visibilitychange'))`, nil),
		waitFor(fmt.Sprintf(`document.querySelector('#ended-list [data-sale=%q]') !== null`, live)),
		waitFor(`document.querySelector('#announce').textContent.includes('Trail Jacket: Ended.')`),
		waitFor(`!document.querySelector('#live-empty').hidden`),
		shoot("listing-2-ended"), accessible(t, "listing, a sale ended"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if blocked, err := cspViolations(ctx); err != nil || len(blocked) > 0 {
		t.Errorf("the page's policy blocked %v (%v)", blocked, err)
	}
}
