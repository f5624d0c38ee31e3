package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/internal/webhooks"
)

// TestAnOperatorRegistersAWebhookFromTheDashboardSeesItsSecretOnceAndItsLog
// registers the shop's endpoint in the Webhooks panel, reads the secret
// the panel shows once, buys an order, and watches the delivery log show
// it delivered; a redeliver from the log sends the event again, signed.
func TestAnOperatorRegistersAWebhookFromTheDashboardSeesItsSecretOnceAndItsLog(t *testing.T) {
	sys := startSystem(t)
	shop := newShopEndpoint(t)
	ctx := newBrowser(t)
	var secret string
	if err := chromedp.Run(ctx,
		sys.signInWithToken(),
		chromedp.WaitVisible("#wh-url"),
		// SetValue, not SendKeys: signing in moves the focus to the sales
		// once they load, which could land mid-typing.
		chromedp.SetValue("#wh-url", shop.URL+"/foyer"),
		chromedp.Click("#wh-add"),
		chromedp.WaitVisible("#wh-secret"),
		chromedp.Text("#wh-secret-value", &secret),
		waitFor(`document.querySelector('#wh-endpoints button[data-log]') !== null`),
	); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the panel shows the secret %q", secret)
	}
	shop.mu.Lock()
	shop.secret = secret
	shop.mu.Unlock()

	qctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	saleID := sys.createSale(t, map[string]any{"sku": "W-1", "name": "Webhooks", "stock": 5, "outflow_per_second": 100})
	orderStatus(t, qctx, buyOne(t, qctx, sys, saleID), "paid")
	shop.await(t, qctx, "order.paid", func(evs []webhooks.Event) bool { return len(evs) >= 2 })

	if err := chromedp.Run(ctx,
		chromedp.Click("#wh-endpoints button[data-log]"),
		chromedp.WaitVisible("#wh-log"),
		// The log refreshes every few seconds until the worker has recorded both 2xx.
		waitFor(`[...document.querySelectorAll('#wh-deliveries tr')].filter(r => r.dataset.status === 'delivered').length === 2`),
		shoot("7-webhooks"),
		chromedp.Click("#wh-deliveries button[data-redeliver]"),
	); err != nil {
		t.Fatalf("the delivery log: %v", err)
	}
	shop.await(t, qctx, "the redelivery", func(evs []webhooks.Event) bool { return len(evs) >= 3 })
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action IN ('webhook_created', 'webhook_redelivered') AND actor = 'admin-token'`); n != 2 {
		t.Errorf("%d of the dashboard's webhook actions audited, want 2", n)
	}
}
