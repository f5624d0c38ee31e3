package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// TestAnOperatorBlocksANetworkFromTheDashboardAndUnblocksIt blocks a network
// from the dashboard's blocklist panel, sees a shopper from inside it refused
// a session, removes the entry and sees the same shopper served; a value that
// is no address shows the API's own error under the form.
func TestAnOperatorBlocksANetworkFromTheDashboardAndUnblocksIt(t *testing.T) {
	sys := startSystem(t)
	const network, inside = "127.0.9.0/24", "127.0.9.5"
	row := `#blocklist tr[data-kind="net"][data-value="` + network + `"]`
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		sys.signInWithToken(),
		chromedp.WaitVisible("#bl-form"),
		chromedp.SetValue("#bl-kind", "net"),
		chromedp.SendKeys("#bl-value", network),
		chromedp.SendKeys("#bl-reason", "scalper farm"),
		chromedp.Click("#bl-add"),
		chromedp.WaitVisible(row),
		shoot("7-blocklist"),
	); err != nil {
		t.Fatalf("blocking %s from the dashboard: %v", network, err)
	}
	sessionFrom(t, sys.URL, inside, "blocked")

	if err := chromedp.Run(ctx,
		chromedp.Click(row+" button"),
		waitFor(`document.querySelector('`+row+`') === null`),
	); err != nil {
		t.Fatalf("removing %s in the dashboard: %v", network, err)
	}
	sessionFrom(t, sys.URL, inside, "")
	var audit struct{ Entries []struct{ Action string } }
	sys.call(t, http.MethodGet, "/v1/admin/audit", sys.AdminToken, nil, &audit)
	if len(audit.Entries) < 2 || audit.Entries[0].Action != "unblock" || audit.Entries[1].Action != "block" {
		t.Errorf("audit log %+v, want the dashboard's unblock after its block", audit.Entries)
	}

	// What the dashboard shows for a bad value is what the API says.
	var refused struct {
		Error struct{ Code, Message string }
	}
	if status := sys.call(t, http.MethodPost, "/v1/admin/blocklist", sys.AdminToken,
		map[string]any{"kind": "ip", "value": "not-an-ip"}, &refused); status != http.StatusUnprocessableEntity {
		t.Fatalf("blocking not-an-ip: status %d, want 422", status)
	}
	var shown string
	if err := chromedp.Run(ctx,
		chromedp.SetValue("#bl-kind", "ip"),
		chromedp.SendKeys("#bl-value", "not-an-ip"),
		chromedp.Click("#bl-add"),
		waitFor(`document.querySelector('#bl-message').textContent !== ''`),
		chromedp.Text("#bl-message", &shown),
	); err != nil {
		t.Fatalf("blocking not-an-ip from the dashboard: %v", err)
	}
	if shown != refused.Error.Message {
		t.Errorf("the dashboard shows %q for not-an-ip, want the API's %q", shown, refused.Error.Message)
	}
}

// sessionFrom asks for sessions from ip until the refusal's code is want ("":
// a session is given), and fails the test if that takes more than a few
// seconds. The blocklist promises a second; defence_test.go holds it to that.
func sessionFrom(t *testing.T, url, ip, want string) {
	t.Helper()
	client := shopperclient.NewWithTransport(url, transportFrom(ip))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	poll := time.NewTicker(50 * time.Millisecond) // under the 10 sessions a second one address may ask for
	defer poll.Stop()
	for {
		_, err := client.NewSession(ctx)
		if code, _ := apiCode(err); code == want && (want != "" || err == nil) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("POST /v1/sessions from %s: %v, want code %q", ip, err, want)
		case <-poll.C:
		}
	}
}
