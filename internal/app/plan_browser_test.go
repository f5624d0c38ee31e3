package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTheShopperPageFollowsAnEditedPlanAndSaysADeletedSaleWasCancelled
// opens the page of a sale scheduled for later. An operator moves its
// start: the page's name and countdown follow the plan push at once,
// without a reload. Then the operator deletes it: the page says the sale
// was cancelled, not that it never existed.
func TestTheShopperPageFollowsAnEditedPlanAndSaysADeletedSaleWasCancelled(t *testing.T) {
	sys := startSystem(t)
	t.Logf("screenshots in %s (plan-*)", screenshotDir)
	ctx := newBrowser(t)
	start := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	saleID := sys.createSale(t, map[string]any{"sku": "P-1", "name": "Plan Runner", "stock": 5,
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(time.Hour).Format(time.RFC3339),
		"prequeue_seconds": 600})
	w := pageWalk{t: t, ctx: ctx, sys: sys}
	if err := chromedp.Run(ctx, recordPage(), chromedp.Navigate(sys.URL+"/?sale="+saleID+"&lang=en")); err != nil {
		t.Fatal(err)
	}
	// The queue opens 10 minutes before the start: about 1 h 50 min away.
	w.reach("scheduled", `document.querySelector('#countdown').textContent.includes('1:49:')`)

	later := start.Add(3 * time.Hour)
	sys.admin(t, http.MethodPatch, "/v1/admin/sales/"+saleID, map[string]any{"name": "Plan Runner, later",
		"starts_at": later.Format(time.RFC3339), "ends_at": later.Add(time.Hour).Format(time.RFC3339)}, http.StatusOK)
	w.reach("moved", `document.querySelector('#sale-name').textContent === 'Plan Runner, later' &&
		document.querySelector('#countdown').textContent.includes('4:49:')`)
	if err := chromedp.Run(ctx, accessible(t, "plan moved"), shoot("plan-moved")); err != nil {
		t.Fatal(err)
	}

	sys.admin(t, http.MethodDelete, "/v1/admin/sales/"+saleID, nil, http.StatusOK)
	w.reach("cancelled", `document.querySelector('#fatal').dataset.code === 'sale_cancelled' && !document.querySelector('#fatal').hidden`)
	w.noDeveloperText("sale_cancelled")
	var title string
	w.eval(`document.querySelector('#sale-name').textContent`, &title)
	if title != "Sale cancelled" {
		t.Errorf("the page's title says %q, want %q", title, "Sale cancelled")
	}
	if err := chromedp.Run(ctx, accessible(t, "sale cancelled"), shoot("plan-cancelled")); err != nil {
		t.Fatal(err)
	}
}
