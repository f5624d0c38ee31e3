package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/internal/localservers"
)

// lookingElsewhere makes the page's tab seem hidden (another tab in
// front: DevTools has no switch for it) and notes the notifications it
// shows and the titles it takes; lookAgain brings it to the front.
const lookingElsewhere = `(() => {
  let hidden = true;
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => hidden ? 'hidden' : 'visible'});
  window.lookAgain = () => { hidden = false; document.dispatchEvent(new Event('visibilitychange')); };
  window.notified = [];
  const Shown = window.Notification;
  window.Notification = class extends Shown {
    constructor(title, options) { super(title, options); window.notified.push(title); }
  };
  window.titlesSeen = [];
  new MutationObserver(() => window.titlesSeen.push(document.title))
    .observe(document.querySelector('title'), {childList: true, characterData: true, subtree: true});
})()`

// emulationNoScript has the tab run no script, as a browser with
// JavaScript off.
func emulationNoScript() chromedp.Action {
	return emulation.SetScriptExecutionDisabled(true)
}

// heldThenSoldOut opens a one-unit sale whose unit another shopper holds
// (the page must say every unit is held, not a bare "Open"), then that
// shopper buys it (sold out, with every unit sold, and a way back to the
// shop).
func heldThenSoldOut(t *testing.T, w pageWalk, ctx context.Context) {
	w.t = t
	sys := w.sys
	saleID := sys.createSale(t, map[string]any{"sku": "J-3", "name": "Walk Held", "stock": 1, "outflow_per_second": 100})
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	holder := waiting(t, qctx, sys, saleID)
	admitted := expectMessage(t, qctx, holder, "admitted")
	if err := chromedp.Run(ctx, chromedp.Navigate(sys.URL+"/?sale="+saleID)); err != nil {
		t.Fatal(err)
	}
	w.reach("all-held", `document.querySelector('#hint').dataset.kind === 'all_held'
		&& document.querySelector('#state').textContent.includes('held')`)
	if txt := w.text(); !strings.Contains(txt, "some may come back") {
		t.Errorf("with every unit held the page does not say one may come back:\n%s", txt)
	}
	sys.checkout(t, saleID, admitted.Token)
	w.reach("sold-out", `document.querySelector('#state').dataset.state === 'sold_out'
		&& document.querySelector('#hint').textContent.includes('every unit is sold')`)
	if txt := w.text(); strings.Contains(txt, "lapse") {
		t.Errorf("sold out with nothing held, the page speaks of a hold lapsing:\n%s", txt)
	}
	w.linksToShop("#queue-shop")
}

// boughtThenDegraded joins a sale with a short hold: the page warns, aloud
// too, before the hold runs out; the shopper buys, and "Thank you!" comes
// only with the payment, over a receipt; then Redis stops under the page,
// whose pill must no longer say "Live" beside the alert.
func boughtThenDegraded(t *testing.T, w pageWalk, rs *localservers.Redis) {
	sys, ctx := w.sys, w.ctx
	saleID := sys.createSale(t, map[string]any{"sku": "J-4", "name": "Walk Runner", "price_cents": 12900, "currency": "EUR",
		"stock": 3, "outflow_per_second": 100, "reservation_ttl_seconds": 17})
	if err := chromedp.Run(ctx, // In the test's own browser context: without one, the grant
		// goes to the browser's default context, not this tab's.
		browser.GrantPermissions([]browser.PermissionType{browser.PermissionTypeNotifications}).WithOrigin(sys.URL).
			WithBrowserContextID(chromedp.FromContext(ctx).BrowserContextID),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Evaluate(lookingElsewhere, nil),
		chromedp.Click("#join")); err != nil {
		t.Fatal(err)
	}
	// The turn came while the shopper looked at another tab: a
	// notification, and a title that blinks until they look again.
	if err := chromedp.Run(ctx, waitFor(`window.notified.includes('It’s your turn! · Foyer')
		&& window.titlesSeen.includes('It’s your turn! · Foyer') && window.titlesSeen.includes('Walk Runner · Foyer')`),
		chromedp.Evaluate(`lookAgain()`, nil),
		waitFor(`document.title === 'Walk Runner · Foyer'`)); err != nil {
		t.Fatalf("the turn came while looking elsewhere: %v", err)
	}
	// 17 s is under the first warning's minute: warned at once, then at 15 s.
	w.reach("hold-warning", `!document.querySelector('#hold-warning').hidden
		&& window.said.some(s => /^Your hold runs out in 1[67] seconds/.test(s))`)
	w.reach("hold-15s", `window.said.some(s => /^Your hold runs out in 15 seconds/.test(s))`)
	if err := chromedp.Run(ctx, chromedp.Click("#buy")); err != nil {
		t.Fatal(err)
	}
	w.reach("paid", `document.querySelector('#checkout-title').textContent === 'Thank you!'
		&& document.querySelector('#receipt-order').textContent.startsWith('#')`)
	var seen []struct {
		Title  string `json:"title"`
		Shown  bool   `json:"shown"`
		Status string `json:"status"`
	}
	w.eval(`window.checkoutSeen`, &seen)
	for _, s := range seen {
		if s.Shown && s.Title == "Thank you!" && s.Status != "paid" {
			t.Errorf("the page said Thank you! with the order %q, before the payment succeeded", s.Status)
		}
	}
	var receipt struct {
		Item, Quantity, Amount, Reservation string
	}
	w.eval(`({Item: document.querySelector('#receipt-item').textContent, Quantity: document.querySelector('#receipt-quantity').textContent,
		Amount: document.querySelector('#receipt-amount').textContent, Reservation: document.querySelector('#receipt-reservation').textContent})`, &receipt)
	if receipt.Item != "Walk Runner" || receipt.Quantity != "1" || !strings.Contains(receipt.Amount, "129") ||
		!strings.Contains(receipt.Amount, "€") || receipt.Reservation == "" {
		t.Errorf("the receipt: %+v; want Walk Runner, 1, €129.00 and the reservation", receipt)
	}
	w.linksToShop("#order-shop")

	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := rs.Restart(rctx); err != nil {
			t.Errorf("restart redis: %v", err)
		}
	})
	w.reach("degraded", `document.querySelector('#alert').dataset.code === 'degraded' && !document.querySelector('#alert').hidden`)
	var pill string
	w.eval(`document.querySelector('#connection').textContent`, &pill)
	if pill == "Live" {
		t.Error("the status pill says Live beside the degraded alert")
	}
	var alerted bool
	w.eval(`window.said.includes(document.querySelector('#error').textContent)`, &alerted)
	if !alerted {
		t.Error("the degraded alert was not announced (role=alert)")
	}
}
