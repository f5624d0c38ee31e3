package app_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/waitingroom"
)

// TestTheDashboardEditsDeletesAndClearsOnAPhone walks issue 23's operator
// items at a phone's size: a wrong token is told once; the live sale is
// selected by default, not the newest; choosing another scrolls to it;
// its plan is edited and it is deleted, each confirmed beside what did it;
// a message is sent and cleared.
func TestTheDashboardEditsDeletesAndClearsOnAPhone(t *testing.T) {
	sys := startSystem(t)
	live := sys.createSale(t, map[string]any{"sku": "D-1", "name": "Live now", "stock": 10})
	later := sys.createSale(t, map[string]any{"sku": "D-2", "name": "Next week", "stock": 5,
		"starts_at": time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Minute)})
	ctx := newBrowser(t)
	visible := func(sel string) string {
		return `(() => { const n = document.querySelector('` + sel + `'); return !!n && !n.hidden && n.offsetParent !== null; })()`
	}

	// A wrong token: the sign-in form says so, and no alert says it again.
	var alertShown bool
	var said string
	if err := chromedp.Run(ctx,
		sys.openSignIn(),
		submitToken("not-the-admin-token-of-this-system"),
		waitFor(`(document.querySelector('#login-message').textContent + document.querySelector('#signin-message').textContent) !== ''`),
		chromedp.Evaluate(visible("#alert"), &alertShown),
		chromedp.Evaluate(`document.querySelector('#login-message').textContent + document.querySelector('#signin-message').textContent`, &said),
	); err != nil {
		t.Fatal(err)
	}
	if alertShown {
		t.Errorf("a wrong token is told twice: %q, and in the alert", said)
	}

	// Signed in, the live sale is shown, though the one next week is newer.
	var title string
	if err := chromedp.Run(ctx,
		submitToken(sys.AdminToken),
		chromedp.WaitVisible("#sale-"+later),
		waitFor(`document.querySelector('#detail-title').textContent === 'Live now'`),
		chromedp.Text("#detail-title", &title),
	); err != nil {
		t.Fatalf("the live sale is not the default selection (shown: %q): %v", title, err)
	}

	// A message sent, then cleared, from the phone.
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#message", "Back in five minutes"),
		chromedp.Click("#message-send"),
		waitFor(`document.querySelector('#message-now').textContent.includes('Back in five minutes')`),
		chromedp.Click("#message-clear"),
		waitFor(`document.querySelector('#message-now').textContent === 'No message is shown.'`),
		waitFor(visible("#message-form + #action-result")),
	); err != nil {
		t.Fatalf("send and clear a message: %v (%s)", err, pageSays(ctx))
	}
	sys.noMessage(t, live, "the dashboard's clear")

	// Choosing the sale next week scrolls to it; its plan is edited.
	if err := chromedp.Run(ctx,
		chromedp.Click("#sale-"+later),
		waitFor(`Math.abs(document.querySelector('#detail').getBoundingClientRect().top) < 50`),
	); err != nil {
		var top float64
		chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('#detail').getBoundingClientRect().top`, &top))
		t.Fatalf("choosing a sale on a phone does not scroll to it (its top is at %v): %v", top, err)
	}
	if err := chromedp.Run(ctx,
		waitFor(visible("#plan-edit")),
		chromedp.SetValue("#ed-name", "Next week, bigger"),
		chromedp.SetValue("#ed-stock", "8"),
		chromedp.Click("#edit-save"),
		waitFor(visible("#edit-form + #action-result")),
		shoot("23-plan-edit"),
	); err != nil {
		t.Fatalf("edit from the dashboard: %v (%s)", err, pageSays(ctx))
	}
	if row := sys.planRow(t, later); row.Name != "Next week, bigger" || row.Stock != 8 {
		t.Errorf("after the dashboard's edit postgres has %+v", row)
	}
	if got := sys.Redis.HGet(context.Background(), waitingroom.Keys(later).Meta, "stock").Val(); got != strconv.Itoa(8) {
		t.Errorf("after the dashboard's edit redis has stock %s", got)
	}

	// Deleted after a confirmation; the list says so where the sale was.
	if err := chromedp.Run(ctx,
		chromedp.Click("#delete-sale"),
		chromedp.WaitVisible("#confirm-ok"),
		chromedp.Click("#confirm-ok"),
		waitFor(visible("#sales-result")),
		waitFor(`!document.querySelector('#sale-`+later+`')`),
	); err != nil {
		t.Fatalf("delete from the dashboard: %v", err)
	}
	if n := sys.count(t, `SELECT count(*) FROM sales WHERE id = $1`, later); n != 0 {
		t.Error("the sale deleted from the dashboard is still in postgres")
	}
}

// pageSays is what the dashboard shows of its last action, for a failing test's log.
func pageSays(ctx context.Context) string {
	var says string
	chromedp.Run(ctx, chromedp.Evaluate(`['#error', '#message-now', '#action-result'].map((s) => s + ': ' +
		document.querySelector(s).textContent).join(' | ') + ' | result after #' +
		(document.querySelector('#action-result').previousElementSibling || {}).id`, &says))
	return says
}
