package app_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAnOperatorSignsInToTheDashboardSeesOnlyWhatTheRoleMayUseAndSignsOut
// signs in with a wrong password, then the right one, as a viewer: the top
// bar names her and her role, the controls of operators and admins are not
// shown, and signing out ends her session on the server before the form
// shows again.
func TestAnOperatorSignsInToTheDashboardSeesOnlyWhatTheRoleMayUseAndSignsOut(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "L-1", "name": "Login sale", "stock": 10})
	sys.addOperator(t, "vera", "viewer")
	sessions := func() int {
		var n int
		if err := sys.DB.Get(&n, `SELECT count(*) FROM operator_sessions`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ctx := newBrowser(t)
	var refusal string
	if err := chromedp.Run(ctx,
		sys.signInAs("vera", "not the password"),
		waitFor(`document.querySelector('#login-message').textContent !== ''`),
		chromedp.Text("#login-message", &refusal),
		shoot("operator-signin"),
	); err != nil {
		t.Fatal(err)
	}
	if refusal != "Wrong username or password, or the account is disabled." || sessions() != 0 {
		t.Errorf("a wrong password: %q, %d sessions", refusal, sessions())
	}
	hidden := func(sel string) string {
		return `getComputedStyle(document.querySelector('` + sel + `')).display === 'none'`
	}
	var who string
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#password", operatorPassword),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		chromedp.WaitVisible("#detail"),
		chromedp.Text("#whoami", &who),
		waitFor(hidden("#pause")+" && "+hidden("#message-form")+" && "+hidden(".c-new")+" && "+hidden("#sk-form")),
		waitFor(`getComputedStyle(document.querySelector('#orders-csv')).display !== 'none'`), // a viewer reads
		shoot("operator-viewer"),
	); err != nil {
		t.Fatalf("a viewer's dashboard: %v", err)
	}
	if who != "vera · viewer" || sessions() != 1 {
		t.Errorf("signed in: top bar %q, %d sessions", who, sessions())
	}
	if err := chromedp.Run(ctx,
		chromedp.Click("#signout"),
		chromedp.WaitVisible("#username"),
		waitFor(`!document.body.dataset.role`),
	); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	if n := sessions(); n != 0 {
		t.Errorf("signing out left %d sessions", n)
	}
}
