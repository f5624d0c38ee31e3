package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/waitingroom"
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
		sys.signInWithToken(),
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

// TestTheShopperPageJoinsAnInvitedSaleWithTheInviteCodeInItsLink opens the
// shopper page from a shop's link carrying an invite code.
func TestTheShopperPageJoinsAnInvitedSaleWithTheInviteCodeInItsLink(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.invitedSale(t)
	code := sys.inviteCodes(t, saleID, 1)[0]
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+saleID+"&invite="+code),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 1`),
	); err != nil {
		t.Fatalf("joining with the link's invite code: %v", err)
	}
	if n := sys.Redis.ZCard(context.Background(), waitingroom.Keys(saleID).Queue).Val(); n != 1 {
		t.Errorf("%d shoppers in the queue, want 1", n)
	}
}
