package app_test

import (
	"net/http"
	"strings"
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

// TestThePlanFormSetsChangesAndRemovesASalesDiscount edits a scheduled
// sale's discount in the dashboard's plan form: 20 % off its price, then
// 2.50 off a new list price, then none. Each is checked in the plan the
// API returns, and in what the form sent: the discount only when it
// changed. A percent out of bounds is refused and changes nothing.
func TestThePlanFormSetsChangesAndRemovesASalesDiscount(t *testing.T) {
	sys := startSystem(t)
	start := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Minute)
	saleID := sys.createSale(t, map[string]any{"sku": "DS-1", "name": "Discounted", "price_cents": 1000, "currency": "EUR",
		"stock": 5, "starts_at": start.Format(time.RFC3339)})
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		sys.signInWithToken(),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		chromedp.WaitVisible("#ed-discount-kind"),
		recordFetches(),
	); err != nil {
		t.Fatal(err)
	}
	type discounted struct {
		Price   int64 `json:"price_cents"`
		List    int64 `json:"list_price_cents"`
		Percent int   `json:"discount_percent"`
		Amount  int64 `json:"discount_amount_cents"`
	}
	plan := func() discounted {
		var sale struct{ Plan discounted }
		if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID, sys.AdminToken, nil, &sale); status != http.StatusOK {
			t.Fatalf("read the sale: %d", status)
		}
		return sale.Plan
	}
	// save sets the form's price and discount, saves, and waits for the
	// detail to show the sale price the API derived.
	save := func(step, price, kind, off, shows string) []pageFetch {
		t.Helper()
		if err := chromedp.Run(ctx,
			chromedp.SetValue("#ed-price", price),
			chromedp.Evaluate(`(() => { const k = document.querySelector('#ed-discount-kind');
				k.value = '`+kind+`'; k.dispatchEvent(new Event('change')); return true; })()`, nil),
			chromedp.SetValue("#ed-discount", off),
			chromedp.Click("#edit-save"),
			waitFor(`document.querySelector('#detail-sub').textContent.includes('`+shows+`') &&
				document.querySelector('#ed-price').value !== '' && document.querySelector('#alert').hidden`),
		); err != nil {
			t.Fatalf("%s: %v (%s)", step, err, pageSays(ctx))
		}
		return fetchesAfter(ctx, t, "")
	}
	patches := func(fetches []pageFetch) []string {
		var bodies []string
		for _, f := range fetches {
			if strings.HasPrefix(f.Call, "PATCH ") {
				bodies = append(bodies, f.Body)
			}
		}
		return bodies
	}

	save("20 % off", "10", "percent", "20", "8.00")
	if got := plan(); got != (discounted{Price: 800, List: 1000, Percent: 20}) {
		t.Errorf("20 %% off 10.00: the plan is %+v", got)
	}
	save("2.50 off 12.00", "12", "amount", "2.5", "9.50")
	if got := plan(); got != (discounted{Price: 950, List: 1200, Amount: 250}) {
		t.Errorf("2.50 off 12.00: the plan is %+v", got)
	}
	var shown [3]string
	if err := chromedp.Run(ctx,
		chromedp.Value("#ed-price", &shown[0]), chromedp.Value("#ed-discount-kind", &shown[1]), chromedp.Value("#ed-discount", &shown[2]),
		shoot("plan-discount"),
	); err != nil || shown != [3]string{"12", "amount", "2.5"} {
		t.Errorf("the form shows price, kind, off %q after the save (%v)", shown, err)
	}
	// The name alone: the discount is not sent again.
	if err := chromedp.Run(ctx,
		chromedp.SetValue("#ed-name", "Discounted, renamed"),
		chromedp.Click("#edit-save"),
		waitFor(`document.querySelector('#detail-title').textContent === 'Discounted, renamed'`),
	); err != nil {
		t.Fatal(err)
	}
	got := save("no discount", "12", "", "", "12.00")
	if got := plan(); got != (discounted{Price: 1200}) {
		t.Errorf("the discount taken off: the plan is %+v", got)
	}
	want := []string{`{"discount":{"percent":20}}`, `{"discount":{"amount_cents":250},"list_price_cents":1200}`,
		`{"name":"Discounted, renamed"}`, `{"discount":{}}`}
	if bodies := patches(got); strings.Join(bodies, " ") != strings.Join(want, " ") {
		t.Errorf("the form sent %q, want %q", bodies, want)
	}

	// 95 % off: refused, the field marked, the plan as it was.
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`(() => { const k = document.querySelector('#ed-discount-kind');
			k.value = 'percent'; k.dispatchEvent(new Event('change')); return true; })()`, nil),
		chromedp.SetValue("#ed-discount", "95"),
		chromedp.Click("#edit-save"),
		waitFor(`!document.querySelector('#alert').hidden && document.querySelector('#ed-discount').getAttribute('aria-invalid') === 'true'`),
	); err != nil {
		t.Fatalf("95 %% off: %v (%s)", err, pageSays(ctx))
	}
	if got := plan(); got != (discounted{Price: 1200}) {
		t.Errorf("a refused discount changed the plan to %+v", got)
	}
	if err := chromedp.Run(ctx, accessible(t, "dashboard, a discount refused in the plan form")); err != nil {
		t.Fatal(err)
	}
}
