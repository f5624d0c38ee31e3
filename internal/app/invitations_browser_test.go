package app_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTheDashboardUploadsAnInviteeListSetsGroupsAndMakesCodes runs the
// Invitations panel of an invited sale in a real browser and checks what it
// did in Postgres.
func TestTheDashboardUploadsAnInviteeListSetsGroupsAndMakesCodes(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.invitedSale(t)
	list := filepath.Join(t.TempDir(), "invitees.csv")
	if err := os.WriteFile(list, []byte("customer_id\nalice\nbob\nalice\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/admin.html"),
		chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", sys.AdminToken),
		chromedp.Click("#signin-submit"),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		chromedp.WaitVisible("#invitations"),
		chromedp.SetUploadFiles("#inv-file", []string{list}),
		chromedp.Click("#inv-upload"),
		waitFor(`document.querySelector('#inv-count').textContent === '2'`),
		chromedp.SetValue("#inv-groups", "members, staff"),
		chromedp.Click("#inv-groups-set"),
		waitFor(`document.querySelector('#inv-groups-now').textContent === 'members, staff'`),
		chromedp.SetValue("#inv-code-count", "3"),
		chromedp.Click("#inv-codes-make"),
		waitFor(`document.querySelector('#inv-codes').textContent.startsWith('3 ')`),
		shoot("7-invitations"),
	); err != nil {
		var shown string
		chromedp.Run(ctx, chromedp.Text("#detail", &shown))
		t.Fatalf("the Invitations panel: %v\n%s", err, shown)
	}
	for query, want := range map[string]int{
		`SELECT count(*) FROM sale_invitees WHERE sale_id = $1`:     2,
		`SELECT count(*) FROM sale_groups WHERE sale_id = $1`:       2,
		`SELECT count(*) FROM sale_invite_codes WHERE sale_id = $1`: 3,
	} {
		if n := sys.count(t, query, saleID); n != want {
			t.Errorf("%s: %d, want %d", query, n, want)
		}
	}
}
