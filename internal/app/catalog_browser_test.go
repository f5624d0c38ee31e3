package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestTheDashboardImportsProductsAndSellsOneAtADiscount pastes a CSV into
// the dashboard's catalog, picks the product in the New sale form with 25 %
// off, and checks the sale Postgres holds; then the shopper page's price.js
// shows the list price struck through, with one sentence for screen readers.
func TestTheDashboardImportsProductsAndSellsOneAtADiscount(t *testing.T) {
	sys := startSystem(t)
	ctx := newBrowser(t)
	csv := "sku,name,list_price_cents,currency\\nSNK-1,Runner 2,8000,EUR\\nBT-2,Boot,12000,EUR\\n"
	if err := chromedp.Run(ctx,
		sys.signInWithToken(),
		chromedp.WaitVisible("#cat-text"),
		chromedp.Evaluate(`document.querySelector('#cat-text').value = "`+csv+`"`, nil),
		chromedp.Click("#cat-import"),
		waitFor(`document.querySelector('#cat-result').textContent.includes('2 new')`),
		waitFor(`document.querySelector('#products').textContent.includes('SNK-1')`),
		waitFor(`[...document.querySelector('#ns-product').options].some((o) => o.value === 'SNK-1')`),
		chromedp.Evaluate(`(() => {
			const pick = (id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); };
			pick('ns-product', 'SNK-1');
			pick('ns-discount-kind', 'percent');
			document.getElementById('ns-discount').value = '25';
			document.getElementById('ns-stock').value = '5';
		})()`, nil),
		waitFor(`document.querySelector('#ns-name').value === 'Runner 2' && document.querySelector('#ns-name').disabled`),
		chromedp.Click("#ns-submit"),
		waitFor(`document.querySelector('#ns-result').textContent.includes('Sale created: Runner 2')`),
		shoot("catalog-dashboard"),
	); err != nil {
		var msg string
		chromedp.Run(ctx, chromedp.Text("body", &msg))
		t.Fatalf("%v\n%s", err, msg)
	}
	var sale struct {
		ID    string `db:"id"`
		Name  string `db:"name"`
		Price int64  `db:"price_cents"`
		List  int64  `db:"list_price_cents"`
		Off   int    `db:"discount_percent"`
	}
	if err := sys.DB.Get(&sale, `SELECT id, name, price_cents, list_price_cents, discount_percent FROM sales WHERE sku = 'SNK-1'`); err != nil {
		t.Fatal(err)
	}
	if sale.Name != "Runner 2" || sale.Price != 6000 || sale.List != 8000 || sale.Off != 25 {
		t.Errorf("the sale made from the dashboard: %+v", sale)
	}
	var spoken, struck, shown string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+sale.ID),
		waitFor(`typeof foyerPrice === 'object'`),
		chromedp.Evaluate(`(async () => {
			const sale = await (await fetch('/v1/sales/`+sale.ID+`')).json();
			const p = document.createElement('p');
			p.id = 'price-test';
			document.body.append(p);
			foyerPrice.render(p, sale, 'en-GB');
		})()`, nil, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
		waitFor(`!!document.querySelector('#price-test s')`),
		chromedp.Text("#price-test .visually-hidden", &spoken, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#price-test s').textContent`, &struck),
		chromedp.Evaluate(`document.querySelector('#price-test .now').textContent`, &shown),
	); err != nil {
		t.Fatal(err)
	}
	if spoken != "Was €80.00, now €60.00" || struck != "€80.00" || shown != "€60.00" {
		t.Errorf("the price shows %q struck, %q now, and says %q", struck, shown, spoken)
	}
	// The page's own price line, as the shopper sees it.
	if err := chromedp.Run(ctx,
		waitFor(`!!document.querySelector('#price s.was')`),
		chromedp.Evaluate(`document.querySelector('#price s.was').textContent`, &struck),
		chromedp.Evaluate(`document.querySelector('#price .visually-hidden').textContent`, &spoken),
	); err != nil {
		t.Fatalf("the page's price line: %v", err)
	}
	if struck != "€80.00" || !strings.Contains(spoken, "€60.00") {
		t.Errorf("the page's price line strikes %q and says %q", struck, spoken)
	}
}
