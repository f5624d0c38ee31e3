package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// holdWebSockets makes every WebSocket the page opens hang as one that a
// proxy holds unanswered: it never opens, errs or closes.
const holdWebSockets = `(() => {
  window.__socketsTried = 0;
  window.WebSocket = class {
    constructor(url, protocols) {
      window.__socketsTried++;
      this.url = url;
      this.readyState = 0;
      this.protocol = "";
    }
    send() { throw new DOMException("still connecting", "InvalidStateError"); }
    close() { this.readyState = 3; }
  };
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();`

// blockWebSockets makes every WebSocket the page opens fail as a proxy that
// blocks them does: constructed, its upgrade refused, then closed (1006)
// before it opens. It
// keeps WebSocket's constants, as a real browser behind such a proxy has
// them, and counts the sockets tried.
const blockWebSockets = `(() => {
  const Real = window.WebSocket;
  window.__socketsTried = 0;
  window.WebSocket = class extends Real {
    constructor(url, protocols) {
      window.__socketsTried++;
      // The upgrade refused (a 404), as a proxy that blocks WebSockets refuses it.
      super(String(url).replace(/\/ws(\?.*)?$/, "/ws-blocked-by-proxy"), protocols);
    }
  };
})();`

// A shopper whose browser cannot open WebSockets still joins, over the HTTP
// fallback, and sees its place: the page's socket fails, @foyer/client opens
// the sale's event stream instead, the join goes as a POST, and the
// position comes as an event.
func TestAShopperWhoseWebSocketsAreBlockedJoinsOverTheFallbackAndSeesItsPosition(t *testing.T) {
	sys := startSystem(t)
	ctx := newBrowser(t)
	saleID := sys.createSale(t, map[string]any{"sku": "F-B", "name": "Fallback Runner", "price_cents": 4200,
		"stock": 10, "outflow_per_second": stalled})
	qctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	// One shopper over a WebSocket first, so the browser's is second.
	conn, _ := connectNew(t, qctx, sys.URL, saleID)
	in := listen(conn)
	in.wait(qctx, "welcome")
	conn.Join(qctx)
	if _, err := in.wait(qctx, "position"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx,
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(blockWebSockets).Do(ctx)
			return err
		}),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`), // welcomed: over the fallback, since no socket opens
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 2`),
		shoot("fallback-queued"),
	); err != nil {
		t.Fatal(err)
	}
	var tried int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.__socketsTried`, &tried)); err != nil || tried < 1 {
		t.Fatalf("the page tried %d WebSockets (%v): the block was not in its way", tried, err)
	}
	n, err := sys.Redis.ZCard(qctx, waitingroom.Keys(saleID).Queue).Result()
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d in the queue, want the socket's shopper and the browser's", n)
	}
}

// A WebSocket that neither opens nor fails (a proxy that holds the upgrade
// unanswered) is given up after @foyer/client's 8 s, and the page goes on
// over the fallback.
func TestAShopperWhoseWebSocketNeverOpensFallsBackAndSeesItsPosition(t *testing.T) {
	sys := startSystem(t)
	ctx := newBrowser(t)
	saleID := sys.createSale(t, map[string]any{"sku": "F-S", "name": "Silent proxy", "price_cents": 4200,
		"stock": 10, "outflow_per_second": stalled})
	if err := chromedp.Run(ctx,
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(holdWebSockets).Do(ctx)
			return err
		}),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 1`),
	); err != nil {
		t.Fatal(err)
	}
	var tried int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.__socketsTried`, &tried)); err != nil || tried < 1 {
		t.Fatalf("the page tried %d WebSockets (%v): the block was not in its way", tried, err)
	}
}

// policyBlocksWebSockets sends every WebSocket to another origin, which the
// page's Content-Security-Policy (connect-src 'self') refuses: chromium then
// fires an error and no close, as it does for a socket a policy blocks.
var policyBlocksWebSockets = strings.Replace(blockWebSockets,
	`String(url).replace(/\/ws(\?.*)?$/, "/ws-blocked-by-proxy")`, `"ws://127.0.0.2:9/blocked-by-policy"`, 1)

// A WebSocket that errs and never closes (blocked by a policy) is given up
// at its error, and the page goes on over the fallback.
func TestAShopperWhoseWebSocketErrsWithoutClosingFallsBackAndSeesItsPosition(t *testing.T) {
	if policyBlocksWebSockets == blockWebSockets {
		t.Fatal("the policy's block is the proxy's: the script was not rewritten")
	}
	sys := startSystem(t)
	ctx := newBrowser(t)
	saleID := sys.createSale(t, map[string]any{"sku": "F-P", "name": "Policy", "price_cents": 4200,
		"stock": 10, "outflow_per_second": stalled})
	if err := chromedp.Run(ctx,
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(policyBlocksWebSockets).Do(ctx)
			return err
		}),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 1`),
	); err != nil {
		t.Fatal(err)
	}
}
