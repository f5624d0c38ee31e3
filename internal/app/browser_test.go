package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// screenshotDir is where browser tests leave what a shopper sees; git
// ignores it.
const screenshotDir = "../../screenshots"

// chromium is the test process's one headless browser, started by the
// first test that needs it and stopped by TestMain. Each test gets a tab
// of its own in a browser context of its own (cookies, storage and
// permissions apart, as in a new profile): a chromium of its own cost each
// of some forty tests about two seconds of CPU to start and stop.
var chromium struct {
	mu      sync.Mutex
	ctx     context.Context // the first tab's; its browser serves every test's
	stop    func()
	profile string
}

// newBrowser opens a tab for one test, in a browser context of its own,
// closed with the test. Tabs the test opens from it share its context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	browser, err := startChromium()
	if err != nil {
		t.Fatal(err)
	}
	// By hand, not chromedp.WithNewBrowserContext: a context's first tab
	// needs a window of its own, or headless chromium answers "no browser
	// is open".
	do := cdp.WithExecutor(browser, chromedp.FromContext(browser).Browser)
	id, err := target.CreateBrowserContext().Do(do)
	if err != nil {
		t.Fatalf("make a browser context: %v", err)
	}
	tab, err := target.CreateTarget("about:blank").WithBrowserContextID(id).WithNewWindow(true).Do(do)
	if err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	ctx, closeTab := chromedp.NewContext(browser, chromedp.WithTargetID(tab))
	chromedp.FromContext(ctx).BrowserContextID = id // inherited by the tabs opened from this one
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		closeTab()
		dispose, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := target.DisposeBrowserContext(id).Do(cdp.WithExecutor(dispose, chromedp.FromContext(browser).Browser)); err != nil {
			t.Logf("dispose of the test's browser context: %v", err)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("attach to the tab: %v", err)
	}
	return ctx
}

// startChromium starts Debian's headless chromium once, or again if it is
// gone, and returns its first tab's context.
func startChromium() (context.Context, error) {
	chromium.mu.Lock()
	defer chromium.mu.Unlock()
	if chromium.ctx != nil && chromium.ctx.Err() == nil {
		return chromium.ctx, nil
	}
	stopChromiumLocked()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		return nil, fmt.Errorf("chromium is not installed (make test installs it): %w", err)
	}
	// Not a test's TempDir: chromium's helper processes may still write to
	// the profile after the browser is gone.
	profile, err := os.MkdirTemp("", "foyer-chromium-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(profile),
		chromedp.WindowSize(390, 844),
		// Scrolls jump rather than glide (the dashboard scrolls to a sale picked
		// on a phone): a click aimed during a smooth scroll lands elsewhere.
		chromedp.Flag("force-prefers-reduced-motion", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	chromium.ctx, chromium.profile = ctx, profile
	chromium.stop = func() { cancelCtx(); cancelAlloc() }
	if err := chromedp.Run(ctx); err != nil {
		stopChromiumLocked()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	return ctx, nil
}

// stopChromium stops the process's chromium, if one was started.
func stopChromium() {
	chromium.mu.Lock()
	defer chromium.mu.Unlock()
	stopChromiumLocked()
}

func stopChromiumLocked() {
	if chromium.stop == nil {
		return
	}
	chromium.stop()
	removeProfile(chromium.profile)
	chromium.ctx, chromium.stop, chromium.profile = nil, nil, ""
}

// removeProfile removes a browser profile once chromium's last helper has
// stopped writing to it. No event says when that is: it tries for a few
// seconds, and leaves the folder to the system's temp cleaning after that.
func removeProfile(dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "chromium's profile %s is left behind: %v\n", dir, err)
			return
		}
		time.Sleep(50 * time.Millisecond) // polling the folder; the deadline bounds it
	}
}

// waitFor waits until a JavaScript condition holds in the page.
func waitFor(js string) chromedp.Action {
	return chromedp.Poll(js, nil, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))
}

// shoot saves a screenshot of the page at phone and desktop sizes.
func shoot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
			return err
		}
		for _, size := range []struct {
			label string
			w, h  int64
		}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
			var png []byte
			if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h), chromedp.FullScreenshot(&png, 100)); err != nil {
				return err
			}
			path := filepath.Join(screenshotDir, fmt.Sprintf("%s-%s.png", name, size.label))
			if err := os.WriteFile(path, png, 0o644); err != nil {
				return err
			}
		}
		return chromedp.EmulateViewport(390, 844).Do(ctx)
	})
}

func positionOf(ctx context.Context) (int, error) {
	var n int
	err := chromedp.Run(ctx, chromedp.Evaluate(`Number(document.querySelector('#position').dataset.value || 0)`, &n))
	return n, err
}

// TestAShopperInARealBrowserWaitsBuysAndSeesTheOrderPaid drives the shopper
// page in headless chromium: the countdown, joining behind three others,
// the position falling as they are let in, the admission, the checkout and
// the paid order.
func TestAShopperInARealBrowserWaitsBuysAndSeesTheOrderPaid(t *testing.T) {
	sys := startSystem(t)
	ctx := newBrowser(t)
	// The browser starts before the sale is made: on a busy machine its
	// start alone can outlast the three seconds the countdown runs.
	if err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	saleID := sys.createSale(t, map[string]any{"sku": "W-1", "name": "Foyer Runner", "price_cents": 12900,
		"stock": 10, "starts_at": startsIn(3 * time.Second), "prequeue_seconds": 0, "outflow_per_second": stalled})
	page := sys.URL + "/?sale=" + saleID
	err := chromedp.Run(ctx,
		chromedp.Navigate(page),
		waitFor(`/opens in \d\d:\d\d:\d\d/.test(document.querySelector('#countdown').textContent)`),
		shoot("1-countdown"), accessible(t, "countdown"),
		waitFor(`!document.querySelector('#join').disabled`), // the sale opened
	)
	if err != nil {
		t.Fatal(err)
	}
	// Three shoppers get in first, so the browser's shopper has people ahead.
	qctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 {
		conn, _ := connectNew(t, qctx, sys.URL, saleID)
		in := listen(conn)
		in.wait(qctx, "welcome")
		conn.Join(qctx)
		if _, err := in.wait(qctx, "position"); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Run(ctx,
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 4`),
		shoot("2-queued"), accessible(t, "queued"),
	); err != nil {
		t.Fatal(err)
	}
	sys.admin(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/rate", map[string]any{"outflow_per_second": 2}, http.StatusOK)
	if err := chromedp.Run(ctx, waitFor(`Number(document.querySelector('#position').dataset.value) < 4`)); err != nil {
		t.Fatalf("the position never fell: %v", err)
	}
	if n, _ := positionOf(ctx); n >= 4 || n < 1 {
		t.Errorf("position after admissions began: %d", n)
	}
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible("#buy"),
		shoot("3-admitted"), accessible(t, "admitted"),
		chromedp.Click("#buy"),
		waitFor(`document.querySelector('#order-status').textContent.startsWith('Paid')`),
		shoot("4-paid"), accessible(t, "paid"),
	); err != nil {
		t.Fatal(err)
	}
	var paid int
	sys.DB.Get(&paid, `SELECT count(*) FROM orders WHERE sale_id = $1 AND status = 'paid'`, saleID)
	if paid != 1 {
		t.Errorf("%d paid orders in postgres, want the browser's one", paid)
	}
}

// TestAShopperSeesAPauseWithinASecondAndTheQueueMoveAgain pauses the sale
// under a waiting shopper's page, then resumes it.
func TestAShopperSeesAPauseWithinASecondAndTheQueueMoveAgain(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "W-2", "name": "Pause", "stock": 10, "outflow_per_second": 100})
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
	); err != nil {
		t.Fatal(err)
	}
	base := "/v1/admin/sales/" + saleID
	sys.admin(t, http.MethodPost, base+"/pause", nil, http.StatusOK)
	paused := time.Now()
	if err := chromedp.Run(ctx, chromedp.Poll(`document.querySelector('#state').dataset.state === 'paused'`, nil,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(time.Second))); err != nil {
		t.Fatalf("the page did not show the pause within a second: %v", err)
	}
	t.Logf("the page showed the pause %v after the request", time.Since(paused))
	if err := chromedp.Run(ctx, shoot("5-paused"), accessible(t, "paused"), chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 1`)); err != nil {
		t.Fatal(err)
	}
	sys.admin(t, http.MethodPost, base+"/resume", nil, http.StatusOK)
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#buy")); err != nil {
		t.Fatalf("the queue did not move after resume: %v", err)
	}
}
