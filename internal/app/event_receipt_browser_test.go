package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAnEventsShopperWhoReloadsAfterPayingReadsAReceiptNamingTheProduct:
// the receipt was made from the checkout the page kept in memory, so a
// page reloaded after an event's checkout named the event, one unit at the
// event's price. The order push now names the product and the units, and
// the reloaded page's receipt says what was bought and for how much.
// axe-core finds nothing on it.
func TestAnEventsShopperWhoReloadsAfterPayingReadsAReceiptNamingTheProduct(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, eventBody(0))
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		chromedp.WaitVisible("#choice"),
		chromedp.Click(`#choice-list input[value="TEE-BLUE"]`, chromedp.ByQuery),
		waitFor(`!document.querySelector('#quantity-field').hidden && !document.querySelector('#quantity').disabled`),
		chromedp.SetValue("#quantity", "2"),
		chromedp.Evaluate(`document.querySelector('#quantity').dispatchEvent(new Event('change', {bubbles: true}))`, nil),
		chromedp.Click("#buy"),
		waitFor(`document.querySelector('#order-status').textContent.startsWith('Paid')`),
	); err != nil {
		var shown string
		chromedp.Run(ctx, chromedp.Text("main", &shown))
		t.Fatalf("buying two blue tees: %v\n%s", err, shown)
	}

	var item, quantity, amount, order string
	if err := chromedp.Run(ctx,
		chromedp.Reload(),
		waitFor(`document.querySelector('#order-status').textContent.startsWith('Paid') && !document.querySelector('#receipt').hidden`),
		waitFor(`document.querySelector('#receipt-order').textContent.startsWith('#')`),
		chromedp.Text("#receipt-item", &item),
		chromedp.Text("#receipt-quantity", &quantity),
		chromedp.Text("#receipt-amount", &amount),
		chromedp.Text("#receipt-order", &order),
		shoot("event-reloaded-receipt"), accessible(t, "an event's order paid, the page reloaded"),
	); err != nil {
		var shown string
		chromedp.Run(ctx, chromedp.Text("main", &shown))
		t.Fatalf("the reloaded page: %v\n%s", err, shown)
	}
	if item != "Blue tee" || quantity != "2" || amount != "€30.00" {
		t.Errorf("the reloaded receipt says %q × %q for %q (order %s), want Blue tee × 2 for €30.00", item, quantity, amount, order)
	}
}
