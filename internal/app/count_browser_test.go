package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/waitingroom"
)

// TestAWaitingPageCountsItsPositionDownEachSecondFromFewerMessages: in a
// queue let out at 40 a second, the page's position falls every second,
// never rises and never runs ahead of the shopper's true place by more
// than half a second of the pace, while the server writes it a position a
// few times only (docs/protocol.md, "Counting a position down").
func TestAWaitingPageCountsItsPositionDownEachSecondFromFewerMessages(t *testing.T) {
	const ahead, rate = 600, 40
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "C-1", "name": "Counted", "stock": 2 * ahead,
		"outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Those ahead join without a socket: a place each, nothing to write to.
	rooms := waitingroom.NewRooms(sys.Redis)
	for i := range ahead {
		if _, err := rooms.Join(ctx, saleID, fmt.Sprintf("ahead-%03d", i), fmt.Sprintf("t-ahead-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	browser := newBrowser(t)
	var positions atomic.Int64 // position messages the page was sent
	chromedp.ListenTarget(browser, func(ev any) {
		if e, ok := ev.(*network.EventWebSocketFrameReceived); ok && strings.Contains(e.Response.PayloadData, `"type":"position"`) {
			positions.Add(1)
		}
	})
	start := ahead + 1
	if err := chromedp.Run(browser,
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		waitFor(fmt.Sprintf(`Number(document.querySelector('#position').dataset.value) === %d`, start)),
		// Every figure the page shows, as it shows it.
		chromedp.Evaluate(`window.shown = []; new MutationObserver(() => window.shown.push([performance.now(),
			Number(document.querySelector('#position').dataset.value)])).observe(document.querySelector('#position'),
			{attributes: true, attributeFilter: ['data-value']}); true`, nil),
	); err != nil {
		t.Fatal(err)
	}
	told := positions.Load()
	sys.admin(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/rate", map[string]any{"outflow_per_second": rate}, http.StatusOK)
	// Ten seconds of the queue moving.
	if err := chromedp.Run(browser, waitFor(fmt.Sprintf(`Number(document.querySelector('#position').dataset.value) <= %d`, start-10*rate))); err != nil {
		t.Fatalf("the page's position did not fall by ten seconds of the queue: %v", err)
	}
	var shownNow int64
	if err := chromedp.Run(browser, chromedp.Evaluate(`Number(document.querySelector('#position').dataset.value)`, &shownNow)); err != nil {
		t.Fatal(err)
	}
	// Last to join, the page's shopper is last in the queue: its place is
	// the queue's length, read after the figure shown.
	truth, err := sys.Redis.ZCard(ctx, waitingroom.Keys(saleID).Queue).Result()
	if err != nil {
		t.Fatal(err)
	}
	var shown [][2]float64
	if err := chromedp.Run(browser, chromedp.Evaluate(`window.shown`, &shown)); err != nil {
		t.Fatal(err)
	}
	sent := positions.Load() - told
	if 2*(truth-shownNow) > rate {
		t.Errorf("the page shows %d, its place is %d: more than half a second of the queue ahead", shownNow, truth)
	}
	// The page moved at least once a second, never up, from far fewer messages.
	var longest float64
	for i := 1; i < len(shown); i++ {
		if shown[i][1] > shown[i-1][1] {
			t.Fatalf("the page's position rose from %v to %v", shown[i-1][1], shown[i][1])
		}
		longest = max(longest, shown[i][0]-shown[i-1][0])
	}
	t.Logf("the page showed %d figures from %d position messages; longest still %.0f ms", len(shown), sent, longest)
	// A second of no count after each message, a render tick of 250 ms,
	// and room for a slow host: a page not counting stands still 5 s.
	if longest > 2500 {
		t.Errorf("the page's position stood still for %.0f ms while the queue moved", longest)
	}
	if sent == 0 || int64(len(shown)) < 3*sent {
		t.Errorf("the page showed %d figures from %d position messages, want at least three figures a message", len(shown), sent)
	}
}
