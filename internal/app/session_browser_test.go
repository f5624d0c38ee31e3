package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAShopperPageWithAStaleStoredSessionGetsANewOneAndSaysNothing opens the
// shopper page with a session in its storage the server does not know (a
// deployment's keys changed, say): the socket is closed 4001, the library
// makes a new session, and the page, having lost no place, says nothing of
// it, keeps the new session and joins with it.
func TestAShopperPageWithAStaleStoredSessionGetsANewOneAndSaysNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "S-STALE", "name": "Stale", "stock": 5, "outflow_per_second": stalled})
	ctx := newBrowser(t)
	const stale = `{"shopper_id":"v_stale","token":"not-a-session","expires_at":"2999-01-01T00:00:00Z"}`
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/sales"), // the page's origin, to set its storage
		chromedp.Evaluate(`localStorage.setItem('foyer.session', '`+stale+`')`, nil),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 1`),
	); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Token       string `json:"token"`
		AlertHidden bool   `json:"alertHidden"`
		Notice      string `json:"notice"`
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`({token: JSON.parse(localStorage.getItem('foyer.session') || '{}').token || '',
		alertHidden: document.querySelector('#alert').hidden, notice: document.querySelector('#notice').hidden ? '' : document.querySelector('#notice').textContent})`, &got)); err != nil {
		t.Fatal(err)
	}
	if got.Token == "" || got.Token == "not-a-session" {
		t.Errorf("the stored session's token is %q, want the new one", got.Token)
	}
	if !got.AlertHidden || got.Notice != "" {
		t.Errorf("the page spoke of a stale session that cost nothing: alert hidden %v, notice %q", got.AlertHidden, got.Notice)
	}
	if n := sys.queueLength(t, saleID); n != 1 {
		t.Errorf("%d in the queue, want the page's shopper", n)
	}
}
