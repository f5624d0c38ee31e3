package app_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// buyTwoBlueTees, on the page of an admitted shopper of an event selling
// eventBody's blue tee, picks two of them and pays, until the page says Paid.
func buyTwoBlueTees() chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Click(`#choice-list input[value="TEE-BLUE"]`, chromedp.ByQuery),
		waitFor(`!document.querySelector('#quantity-field').hidden && !document.querySelector('#quantity').disabled`),
		chromedp.SetValue("#quantity", "2"),
		chromedp.Evaluate(`document.querySelector('#quantity').dispatchEvent(new Event('change', {bubbles: true}))`, nil),
		chromedp.Click("#buy"),
		waitFor(`document.querySelector('#order-status').textContent.startsWith('Paid')`),
	}
}

// shownReceipt is what an event page's receipt says was bought.
type shownReceipt struct{ item, quantity, amount string }

// twoBlueTees is the receipt of buyTwoBlueTees: €15.00 each after the discount.
var twoBlueTees = shownReceipt{item: "Blue tee", quantity: "2", amount: "€30.00"}

// read reads the receipt the page shows.
func (r *shownReceipt) read() chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Text("#receipt-item", &r.item),
		chromedp.Text("#receipt-quantity", &r.quantity),
		chromedp.Text("#receipt-amount", &r.amount),
	}
}

// runOnPage runs actions in the browser and, should one fail, fails the
// test saying what was being done and what the page's main showed then.
func runOnPage(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var shown string
		chromedp.Run(ctx, chromedp.Text("main", &shown))
		t.Fatalf("%s: %v\n%s", what, err, shown)
	}
}

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
	runOnPage(t, ctx, "buying two blue tees",
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		chromedp.WaitVisible("#choice"),
		buyTwoBlueTees(),
	)

	var receipt shownReceipt
	var order string
	runOnPage(t, ctx, "the reloaded page",
		chromedp.Reload(),
		waitFor(`document.querySelector('#order-status').textContent.startsWith('Paid') && !document.querySelector('#receipt').hidden`),
		waitFor(`document.querySelector('#receipt-order').textContent.startsWith('#')`),
		receipt.read(),
		chromedp.Text("#receipt-order", &order),
		shoot("event-reloaded-receipt"), accessible(t, "an event's order paid, the page reloaded"),
	)
	if receipt != twoBlueTees {
		t.Errorf("the reloaded receipt says %+v (order %s), want %+v", receipt, order, twoBlueTees)
	}
}
