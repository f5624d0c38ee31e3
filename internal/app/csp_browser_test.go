package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// watchCSP has every page the browser opens from now on note what its
// Content-Security-Policy blocks, in window.cspViolations.
func watchCSP() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.effectiveDirective + ' ' + e.blockedURI));`).Do(ctx)
		return err
	})
}

// cspViolations is what the page's policy has blocked so far.
func cspViolations(ctx context.Context) ([]string, error) {
	var got []string
	err := chromedp.Run(ctx, chromedp.Evaluate(`window.cspViolations`, &got))
	return got, err
}

// TestThePagesWorkUnderTheirContentSecurityPolicy opens the shopper page
// until the sale lets it join, and the dashboard until its live feed (the
// WebSocket with the token as a subprotocol) is live, and expects the
// policies to have blocked nothing. An inline script run at the end must
// be blocked, so the watch is known to see what it should.
func TestThePagesWorkUnderTheirContentSecurityPolicy(t *testing.T) {
	sys := startSystem(t)
	ctx := newBrowser(t)
	saleID := sys.createSale(t, map[string]any{"sku": "C-1", "name": "Policy", "stock": 5, "outflow_per_second": stalled})
	if err := chromedp.Run(ctx, watchCSP(),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		chromedp.WaitVisible("#join"),
		waitFor(`!document.querySelector('#join').disabled`),
	); err != nil {
		t.Fatalf("the shopper page: %v", err)
	}
	if got, err := cspViolations(ctx); err != nil || len(got) > 0 {
		t.Errorf("the shopper page's policy blocked %q (%v)", got, err)
	}
	if err := chromedp.Run(ctx,
		sys.signInWithToken(),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		waitFor(`document.querySelector('#live').dataset.status === 'live'`),
	); err != nil {
		t.Fatalf("the dashboard: %v", err)
	}
	if got, err := cspViolations(ctx); err != nil || len(got) > 0 {
		t.Errorf("the dashboard's policy blocked %q (%v)", got, err)
	}
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`{ const s = document.createElement('script'); s.textContent = 'window.inlineRan = true'; document.body.append(s); }`, nil),
		waitFor(`window.cspViolations.length > 0`),
	); err != nil {
		t.Fatalf("an inline script was not reported blocked: %v", err)
	}
	if got, _ := cspViolations(ctx); !strings.HasPrefix(got[0], "script-src") {
		t.Errorf("the inline script was blocked as %q; want script-src", got)
	}
}
