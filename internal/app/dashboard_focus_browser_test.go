package app_test

import (
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// TestSigningInLeavesTheFocusWhereTheOperatorMovedIt signs in while the
// list of sales is held back on its way, types into the blocklist's form
// meanwhile, then lets the list arrive: the focus and what was typed stay
// where the operator put them. Signing in sends the focus to the list of
// sales for keyboard users; before, it did so even after the operator had
// gone on, and the rest of what was typed went nowhere.
func TestSigningInLeavesTheFocusWhereTheOperatorMovedIt(t *testing.T) {
	sys := startSystem(t)
	ctx := newBrowser(t)
	held := make(chan fetch.RequestID, 1)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			select {
			case held <- e.RequestID: // the first: the one signing in waits for
			default: // never blocks chromedp's event loop
			}
		}
	})
	if err := chromedp.Run(ctx,
		sys.openSignIn(),
		fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "*/v1/admin/sales"}}),
		submitToken(sys.AdminToken),
	); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	var id fetch.RequestID
	select {
	case id = <-held:
	case <-ctx.Done():
		t.Fatalf("the dashboard never asked for its sales: %v", ctx.Err())
	}
	const typed = "127.0.9.0/24"
	var focused, value string
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible("#bl-value"),
		chromedp.Focus("#bl-value"),
		chromedp.SendKeys("#bl-value", typed),
		fetch.ContinueRequest(id),
		fetch.Disable(),
		// The blocklist is asked for after the focus moved, if it moves.
		waitFor(`document.querySelector('#blocklist tr') !== null`),
		chromedp.Evaluate(`document.activeElement ? document.activeElement.id : ''`, &focused),
		chromedp.Value("#bl-value", &value),
	); err != nil {
		t.Fatalf("typing while the sales load: %v", err)
	}
	if focused != "bl-value" || value != typed {
		t.Errorf("after the sales loaded the focus is on %q and the field holds %q, want bl-value holding %q", focused, value, typed)
	}
}
