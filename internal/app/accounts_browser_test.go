package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The dashboard's Operators panel (docs/operators.md): an admin manages
// accounts there as with the API, and no other role ever sees it.

// listedAccount is an account as GET /v1/admin/operators lists it.
type listedAccount struct {
	Username   string     `json:"username"`
	Role       string     `json:"role"`
	DisabledAt *time.Time `json:"disabled_at"`
}

// account is the account named as the API lists it, or fails the test.
func (s *system) account(t *testing.T, name string) listedAccount {
	t.Helper()
	var list struct{ Operators []listedAccount }
	if status := s.call(t, http.MethodGet, "/v1/admin/operators", s.AdminToken, nil, &list); status != http.StatusOK {
		t.Fatalf("list operators: %d", status)
	}
	for _, a := range list.Operators {
		if a.Username == name {
			return a
		}
	}
	t.Fatalf("no account %q in %+v", name, list.Operators)
	return listedAccount{}
}

// panelHidden holds when the page does not show the Operators panel, has
// read no account into it and shows no error.
const panelHidden = `getComputedStyle(document.querySelector('#operators-panel')).display === 'none' &&
	document.querySelector('#operators').children.length === 0 && document.querySelector('#alert').hidden`

// TestAnAdminManagesOperatorAccountsInTheDashboard: an admin (the admin
// token) is refused a bad account beside the form, with nothing made; makes
// an operator, who signs in with it in another tab and sees no Operators
// panel; makes it a viewer, which sees none either; disables it, and the
// operator's open dashboard is signed out; enables it and resets its
// password. Each step is checked in the API and Postgres, and axe-core
// finds nothing wrong with the panel.
func TestAnAdminManagesOperatorAccountsInTheDashboard(t *testing.T) {
	sys := startSystem(t)
	sys.createSale(t, map[string]any{"sku": "OP-1", "name": "Accounts sale", "stock": 10})
	admin := newBrowser(t)
	if err := chromedp.Run(admin,
		sys.signInWithToken(),
		chromedp.WaitVisible("#op-form"),
		waitFor(`document.querySelector('#operators').textContent.includes('No accounts yet')`),
	); err != nil {
		t.Fatal(err)
	}

	// A password too short: said beside the form, the field marked, nothing made.
	before := sys.accountRows(t)
	var refusal string
	if err := chromedp.Run(admin,
		chromedp.SendKeys("#op-username", "olga"),
		chromedp.SendKeys("#op-password", "short"),
		chromedp.Click("#op-create"),
		waitFor(`document.querySelector('#op-message').textContent !== ''`),
		chromedp.Text("#op-message", &refusal),
		waitFor(`document.querySelector('#op-password').getAttribute('aria-invalid') === 'true' && document.querySelector('#alert').hidden`),
	); err != nil {
		t.Fatalf("a short password: %v", err)
	}
	if !strings.Contains(refusal, "12 to 128 characters") || sys.accountRows(t) != before {
		t.Errorf("a short password: the form says %q; rows %v, were %v", refusal, sys.accountRows(t), before)
	}

	// An operator made.
	const password = "olga's own long passphrase"
	if err := chromedp.Run(admin,
		chromedp.SetValue("#op-password", password),
		chromedp.SetValue("#op-role", "operator"),
		chromedp.Click("#op-create"),
		waitFor(`!document.querySelector('#op-result').hidden && document.querySelector('#op-message').textContent === ''`),
		waitFor(`document.querySelector('#operators tr[data-username="olga"]') !== null`),
	); err != nil {
		t.Fatalf("make an account: %v", err)
	}
	if a := sys.account(t, "olga"); a.Role != "operator" || a.DisabledAt != nil {
		t.Errorf("the account made in the dashboard: %+v", a)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'operator_created' AND actor = 'admin-token'`); n != 1 {
		t.Errorf("%d operator_created rows by the admin token, want 1", n)
	}

	// The same username again: said beside the form, nothing made.
	before = sys.accountRows(t)
	if err := chromedp.Run(admin,
		chromedp.SendKeys("#op-username", "Olga"),
		chromedp.SendKeys("#op-password", password),
		chromedp.Click("#op-create"),
		waitFor(`document.querySelector('#op-message').textContent.includes('exists')`),
		waitFor(`document.querySelector('#op-username').getAttribute('aria-invalid') === 'true'`),
	); err != nil {
		t.Fatalf("a taken username: %v", err)
	}
	if after := sys.accountRows(t); after != before {
		t.Errorf("a taken username changed rows %v to %v", before, after)
	}

	// The operator signs in, in a tab of her own (in front, as the tab a
	// person works in is): no Operators panel.
	olga, closeOlga := chromedp.NewContext(admin)
	t.Cleanup(closeOlga)
	var token string
	if err := chromedp.Run(olga,
		sys.signInAs("olga", password),
		waitFor(`document.querySelector('#whoami').textContent === 'olga · operator'`),
		chromedp.WaitVisible("#sales li"),
		waitFor(panelHidden),
		waitFor(`sessionStorage.getItem('foyer.admin') !== null`),
		chromedp.Evaluate(`sessionStorage.getItem('foyer.admin')`, &token),
	); err != nil {
		t.Fatalf("the operator's dashboard: %v", err)
	}

	// Made a viewer: the API acts with the role at once, and her dashboard,
	// opened again, still has no panel.
	if err := chromedp.Run(admin,
		page.BringToFront(),
		chromedp.Click(`#operators button[data-change="olga"]`),
		chromedp.WaitVisible("#op-edit"),
		chromedp.SetValue("#op-edit-role", "viewer"),
		chromedp.Click("#op-role-set"),
		waitFor(`!document.querySelector('#op-role-result').hidden`),
		waitFor(`document.querySelector('#operators tr[data-username="olga"]').children[1].textContent === 'viewer'`),
	); err != nil {
		t.Fatalf("change the role: %v", err)
	}
	var me struct{ Role string }
	if status := sys.call(t, http.MethodGet, "/v1/admin/me", token, nil, &me); status != http.StatusOK || me.Role != "viewer" {
		t.Errorf("olga's session after the role change: %d %q, want viewer", status, me.Role)
	}
	if err := chromedp.Run(olga,
		page.BringToFront(),
		chromedp.Reload(),
		waitFor(`document.querySelector('#whoami').textContent === 'olga · viewer'`),
		chromedp.WaitVisible("#sales li"),
		waitFor(panelHidden),
	); err != nil {
		t.Fatalf("the viewer's dashboard: %v", err)
	}
	// Back to the admin's tab: a hidden tab draws nothing, and Chrome tells
	// a dialog's close when it draws.
	if err := chromedp.Run(admin, page.BringToFront(), accessible(t, "dashboard, the operators panel with an account open"),
		shoot("operators-panel")); err != nil {
		t.Fatal(err)
	}

	// Disabled, once confirmed: her open dashboard is signed out, her session gone.
	var asked string
	if err := chromedp.Run(admin,
		chromedp.Click(`#operators button[data-disable="olga"]`),
		chromedp.WaitVisible("#confirm-ok"),
		chromedp.Text("#confirm-text", &asked),
		chromedp.Click("#confirm-ok"),
		waitFor(`!document.querySelector('#op-list-result').hidden`),
		waitFor(`document.querySelector('#operators tr[data-username="olga"]').dataset.disabled === 'true'`),
		waitFor(`document.activeElement.dataset.enable === 'olga'`), // the focus stays where the button was
	); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if !strings.HasPrefix(asked, "Disable olga?") {
		t.Errorf("the dialog asks %q", asked)
	}
	if a := sys.account(t, "olga"); a.DisabledAt == nil {
		t.Errorf("disabled in the dashboard, the API lists %+v", a)
	}
	if n := sys.count(t, `SELECT count(*) FROM operator_sessions WHERE username = 'olga'`); n != 0 {
		t.Errorf("a disabled account keeps %d sessions", n)
	}
	if err := chromedp.Run(olga, waitFor(`!document.querySelector('#signin-view').hidden && !document.body.dataset.role`)); err != nil {
		t.Fatalf("the disabled operator's dashboard stays signed in: %v", err)
	}
	if status := sys.call(t, http.MethodGet, "/v1/admin/me", token, nil, nil); status != http.StatusUnauthorized {
		t.Errorf("a disabled operator's session: %d, want 401", status)
	}

	// Enabled, and a new password: the old one signs in no more.
	const newPassword = "a brand new passphrase for olga"
	if err := chromedp.Run(admin,
		chromedp.Click(`#operators button[data-enable="olga"]`),
		chromedp.WaitVisible("#confirm-ok"),
		chromedp.Click("#confirm-ok"),
		waitFor(`document.querySelector('#operators tr[data-username="olga"]').dataset.disabled === undefined`),
		chromedp.Click(`#operators button[data-change="olga"]`),
		chromedp.SendKeys("#op-new-password", newPassword),
		chromedp.Click("#op-password-set"),
		waitFor(`!document.querySelector('#op-password-result').hidden && document.querySelector('#op-new-password').value === ''`),
	); err != nil {
		t.Fatalf("enable and reset the password: %v", err)
	}
	if a := sys.account(t, "olga"); a.DisabledAt != nil || a.Role != "viewer" {
		t.Errorf("enabled in the dashboard, the API lists %+v", a)
	}
	login := func(pw string) int {
		return sys.call(t, http.MethodPost, "/v1/admin/login", "", map[string]any{"username": "olga", "password": pw}, nil)
	}
	if old, renewed := login(password), login(newPassword); old != http.StatusUnauthorized || renewed != http.StatusOK {
		t.Errorf("signing in with the old password: %d, the new: %d", old, renewed)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE actor = 'admin-token' AND action IN
		('operator_role_changed', 'operator_disabled', 'operator_enabled', 'operator_password_reset')`); n != 4 {
		t.Errorf("%d audit rows of the admin token's changes, want 4", n)
	}
}

// TestAnAdminIsAskedBeforeLockingThemselfOut: the API lets an admin
// disable or demote their own account (docs/operators.md); the dashboard
// says so before, names the last admin account, and after a demotion
// shows the new role without the panel, and no error.
func TestAnAdminIsAskedBeforeLockingThemselfOut(t *testing.T) {
	sys := startSystem(t)
	sys.addOperator(t, "ada", "admin")
	ctx := newBrowser(t)
	var asked string
	if err := chromedp.Run(ctx,
		sys.signInAs("ada", operatorPassword),
		waitFor(`document.querySelector('#operators tr[data-username="ada"] td')?.textContent === 'ada (you)'`),
		chromedp.Click(`#operators button[data-disable="ada"]`),
		chromedp.WaitVisible("#confirm-cancel"),
		chromedp.Text("#confirm-text", &asked),
		chromedp.Click("#confirm-cancel"),
		chromedp.WaitNotVisible("#confirm"),
	); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"your own account", "signed out at once", "No other admin account is enabled"} {
		if !strings.Contains(asked, want) {
			t.Errorf("disabling oneself, the dialog says %q, want it to say %q", asked, want)
		}
	}
	if a := sys.account(t, "ada"); a.DisabledAt != nil {
		t.Errorf("cancelled, the account is disabled all the same: %+v", a)
	}

	if err := chromedp.Run(ctx,
		recordFetches(),
		chromedp.Click(`#operators button[data-change="ada"]`),
		chromedp.SetValue("#op-edit-role", "operator"),
		chromedp.Click("#op-role-set"),
		chromedp.WaitVisible("#confirm-ok"),
		chromedp.Text("#confirm-text", &asked),
		chromedp.Click("#confirm-ok"),
		waitFor(`document.querySelector('#whoami').textContent === 'ada · operator'`),
		waitFor(panelHidden),
	); err != nil {
		t.Fatalf("demoting oneself: %v", err)
	}
	if !strings.Contains(asked, "you lose this panel") {
		t.Errorf("demoting oneself, the dialog says %q", asked)
	}
	if a := sys.account(t, "ada"); a.Role != "operator" {
		t.Errorf("after the demotion the API lists %+v", a)
	}
	// Nothing asks for the accounts once the panel is gone: a 403 would
	// show as an error. The page asked who is signed in, to show the role.
	asksWho := false
	for _, f := range fetchesAfter(ctx, t, "PUT /v1/admin/operators/ada/role") {
		asksWho = asksWho || f.Call == "GET /v1/admin/me"
		if strings.HasPrefix(f.Call, "GET /v1/admin/operators") {
			t.Errorf("after the demotion the page asked for the accounts: %s", f.Call)
		}
	}
	if !asksWho {
		t.Error("after the demotion the page did not ask who is signed in")
	}
}
