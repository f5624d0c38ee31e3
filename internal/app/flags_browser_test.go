package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAnOperatorRemovesFlaggedShoppersAndSetsProofOfWorkFromTheDashboard
// flags two shoppers who join right at a sale's start, sees them counted and
// listed in the dashboard's suspected-automation section, removes them with
// the policy select and sees the answer, the empty queue and their
// connections told `flagged`; then sets the sale's proof of work from the
// dashboard, and reads both changes back from the API and the audit log.
func TestAnOperatorRemovesFlaggedShoppersAndSetsProofOfWorkFromTheDashboard(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_SIGNAL_EARLY_JOIN": "10s"})
	saleID := sys.createSale(t, map[string]any{"sku": "F-D", "name": "Flagged sale", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sys.waitOpen(t, ctx, saleID)
	var tabs []*inbox
	var shoppers []string
	for i := range 2 {
		conn, sess := connectNew(t, ctx, sys.URL, saleID)
		in := listen(conn)
		if _, err := in.wait(ctx, "welcome"); err != nil {
			t.Fatal(err)
		}
		if err := conn.Join(ctx); err != nil {
			t.Fatal(err)
		}
		waitPosition(t, ctx, in, int64(i+1))
		tabs, shoppers = append(tabs, in), append(shoppers, sess.ShopperID)
	}
	if rep := sys.flags(t, saleID); rep.Flagged != 2 || rep.Policy != "allow" {
		t.Fatalf("flags after two joins right at the start: %+v, want both flagged under allow", rep)
	}
	if n := sys.queueLength(t, saleID); n != 2 {
		t.Fatalf("%d in the queue, want both flagged shoppers still there under allow", n)
	}

	browser := newBrowser(t)
	var table string
	if err := chromedp.Run(browser,
		sys.signInWithToken(),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		waitFor(`document.querySelector('#flag-count').dataset.value === '2' &&
			document.querySelectorAll('#flags tr[data-shopper]').length === 2`),
		chromedp.Text("#flags", &table),
		shoot("8-flags"),
	); err != nil {
		t.Fatalf("the dashboard never showed the two flagged shoppers: %v", err)
	}
	for _, want := range []string{shoppers[0], shoppers[1], "joined at the very start", "127.0.0.1"} {
		if !strings.Contains(table, want) {
			t.Errorf("the flagged shoppers' table does not show %q:\n%s", want, table)
		}
	}

	var answer string
	if err := chromedp.Run(browser,
		chromedp.SetValue("#flag-policy", "remove"),
		chromedp.Click("#flag-apply"),
		waitFor(`!document.querySelector('#flag-result').hidden`),
		chromedp.Text("#flag-result", &answer),
		waitFor(`document.querySelector('#flag-policy-now').textContent === 'Remove'`),
	); err != nil {
		t.Fatalf("removing the flagged shoppers from the dashboard: %v", err)
	}
	if answer != "2 removed" {
		t.Errorf("the dashboard answered %q to Remove, want %q", answer, "2 removed")
	}
	for i, in := range tabs {
		if m, err := in.next(ctx, "error"); err != nil || m.Code != "flagged" {
			t.Errorf("flagged shopper %d heard %+v (%v), want the error flagged", i+1, m, err)
		}
	}
	if n := sys.queueLength(t, saleID); n != 0 {
		t.Errorf("%d in the queue after Remove, want none", n)
	}

	if err := chromedp.Run(browser,
		chromedp.SetValue("#pow", "8"),
		chromedp.Click("#pow-set"),
		waitFor(`document.querySelector('#pow-now').textContent === '8'`),
		waitFor(`document.querySelector('#audit').textContent.includes('difficulty 8') &&
			document.querySelector('#audit').textContent.includes('policy remove · 2 removed')`),
		shoot("9-flags-removed"),
	); err != nil {
		var audit string
		chromedp.Run(browser, chromedp.Text("#audit", &audit))
		t.Fatalf("setting proof of work from the dashboard: %v\naudit log shown:\n%s", err, audit)
	}
	var sale struct {
		Plan struct {
			PowDifficulty int `json:"pow_difficulty"`
		} `json:"plan"`
	}
	sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID, sys.AdminToken, nil, &sale)
	if sale.Plan.PowDifficulty != 8 {
		t.Errorf("pow_difficulty %d after the dashboard set it, want 8", sale.Plan.PowDifficulty)
	}
}
