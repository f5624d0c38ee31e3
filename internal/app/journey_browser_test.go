package app_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/internal/testenv"
)

// testShopURL is the shop the pages link back to in these tests.
const testShopURL = "https://shop.example/"

// pageWalk drives one browser tab through the shopper page's states, on
// one system, and holds each state it reaches to axe-core's rules and a
// screenshot at phone and desktop sizes.
type pageWalk struct {
	t   *testing.T
	ctx context.Context
	sys *system
}

// reach waits for a state of the page (a JavaScript condition), then
// screenshots it and runs axe-core on it.
func (w pageWalk) reach(name, cond string) {
	w.t.Helper()
	if err := chromedp.Run(w.ctx, waitFor(cond)); err != nil {
		w.t.Fatalf("%s: the page never showed %s: %v", name, cond, err)
	}
	if err := chromedp.Run(w.ctx, shoot("journey-"+name), accessible(w.t, name)); err != nil {
		w.t.Fatalf("%s: %v", name, err)
	}
	var thrown []string
	w.eval(`window.pageErrors || []`, &thrown)
	if len(thrown) > 0 {
		w.t.Errorf("%s: the page's script failed: %q", name, thrown)
	}
}

// text is what a shopper can read on the page now: hidden parts aside, and
// the live regions too, which hold what was last read out, not what shows.
func (w pageWalk) text() string {
	w.t.Helper()
	var s string
	if err := chromedp.Run(w.ctx, chromedp.Evaluate(`[...document.querySelectorAll('main > :not(.visually-hidden)')].map(e => e.innerText).join('\n')`, &s)); err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w pageWalk) eval(js string, out any) {
	w.t.Helper()
	if err := chromedp.Run(w.ctx, chromedp.Evaluate(js, out)); err != nil {
		w.t.Fatalf("%s: %v", js, err)
	}
}

// recordPage has every page from now on note its script's uncaught errors
// in window.pageErrors, in window.said what it
// announces (politely and as alerts), and in window.checkoutSeen the
// checkout card's title beside its order status at every change, so a
// state that flashed by can be checked after.
func recordPage() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`window.said = []; window.checkoutSeen = []; window.pageErrors = [];
window.addEventListener('error', e => window.pageErrors.push(e.message));
window.addEventListener('unhandledrejection', e => window.pageErrors.push(String(e.reason)));
document.addEventListener('DOMContentLoaded', () => {
  for (const id of ['announce', 'announce-alert']) {
    const n = document.getElementById(id);
    if (n) new MutationObserver(() => window.said.push(n.textContent)).observe(n, {childList: true, characterData: true, subtree: true});
  }
  const card = document.getElementById('checkout');
  if (card) new MutationObserver(() => window.checkoutSeen.push({
    title: document.getElementById('checkout-title').textContent, shown: !card.hidden,
    status: document.getElementById('order-status').dataset.status || ''})).observe(card, {childList: true, characterData: true, subtree: true, attributes: true});
});`).Do(ctx)
		return err
	})
}

// TestTheShopperPageTellsEveryStateTruthfullyAndAccessibly walks the
// shopper page through the states of issue 23 — no sale, an unknown sale,
// no script, the prequeue and its draw, a pause with a message and the
// resume, every unit held, sold out, the hold running out, the order paid,
// and the servers degraded — in one browser on one system, and checks what
// each says against what is so, with axe-core finding nothing at phone and
// desktop sizes.
func TestTheShopperPageTellsEveryStateTruthfullyAndAccessibly(t *testing.T) {
	started := time.Now()
	rs := testenv.NewRedis(t, testenv.WithAppendOnly())
	sys := startNodesOn(t, rs, 1, map[string]string{"FOYER_SHOP_URL": testShopURL})
	ctx := newBrowser(t)
	ctx, cancel := context.WithTimeout(ctx, 80*time.Second)
	t.Cleanup(cancel)
	w := pageWalk{t: t, ctx: ctx, sys: sys}
	if err := chromedp.Run(ctx, recordPage()); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s (journey-*)", screenshotDir)

	t.Run("no sale in the link", func(t *testing.T) {
		w := pageWalk{t: t, ctx: ctx, sys: sys}
		if err := chromedp.Run(ctx, chromedp.Navigate(sys.URL+"/")); err != nil {
			t.Fatal(err)
		}
		w.reach("no-sale", `!document.querySelector('#fatal').hidden && document.querySelector('#fatal').dataset.code === 'no_sale'`)
		w.noDeveloperText("no_sale")
		w.linksToShop("#fatal-shop")
	})

	t.Run("a sale that does not exist", func(t *testing.T) {
		w := pageWalk{t: t, ctx: ctx, sys: sys}
		if err := chromedp.Run(ctx, chromedp.Navigate(sys.URL+"/?sale=s-no-such-sale")); err != nil {
			t.Fatal(err)
		}
		w.reach("not-found", `document.querySelector('#fatal').dataset.code === 'sale_not_found'`)
		w.noDeveloperText("sale_not_found")
		var joinable bool
		w.eval(`!document.querySelector('#join').disabled`, &joinable)
		if joinable {
			t.Error("the Join button is active on the page of a sale that does not exist")
		}
	})

	// A sale behind an open prequeue, with proof of work: its shopper waits
	// for the draw, which the walk brings on by moving the start once the
	// prequeue has been read (a start a few seconds away could come, on a
	// busy machine, before the page was read).
	drawn := sys.createSale(t, map[string]any{"sku": "J-1", "name": "Walk Prequeue", "stock": 5,
		"starts_at": startsIn(5 * time.Minute), "prequeue_seconds": 600, "outflow_per_second": stalled, "pow_difficulty": 8})

	t.Run("without script", func(t *testing.T) { noscriptTellsTheState(t, ctx, sys, drawn) })

	t.Run("the prequeue and its draw", func(t *testing.T) {
		w := pageWalk{t: t, ctx: ctx, sys: sys}
		if err := chromedp.Run(ctx, chromedp.Navigate(sys.URL+"/?sale="+drawn),
			waitFor(`!document.querySelector('#join').disabled`), chromedp.Click("#join")); err != nil {
			t.Fatal(err)
		}
		w.reach("prequeue", `document.querySelector('#position').textContent === 'You are in the prequeue'`)
		if txt := w.text(); regexp.MustCompile(`(?i)ticket\s*#?\d`).MatchString(txt) {
			t.Errorf("the prequeue shows a ticket number, which reads like a place in line:\n%s", txt)
		}
		if txt := w.text(); !strings.Contains(txt, "your place is decided by a fair draw") {
			t.Errorf("the prequeue does not say the place is drawn fairly:\n%s", txt)
		}
		var href, solver string
		w.eval(`document.querySelector('#draw-link').href`, &href)
		if want := sys.URL + "/v1/sales/" + drawn + "/draw"; href != want {
			t.Errorf("the draw's link goes to %q, want %q", href, want)
		}
		w.eval(`FoyerPow.solvedBy()`, &solver)
		if solver != "worker" {
			t.Errorf("the proof of work was solved on the %q, want in a worker", solver)
		}
		sys.admin(t, http.MethodPatch, "/v1/admin/sales/"+drawn, map[string]any{"starts_at": startsIn(time.Second)}, http.StatusOK)
		w.reach("drawn", `window.said.some(s => /^The draw is done\. Your place is number 1\.$/.test(s))
			&& document.querySelector('#position').dataset.value === '1' && !document.querySelector('#fairness').hidden`)
	})

	t.Run("paused with a message, then resumed", func(t *testing.T) {
		w := pageWalk{t: t, ctx: ctx, sys: sys}
		base := "/v1/admin/sales/" + drawn
		sys.admin(t, http.MethodPost, base+"/pause", nil, http.StatusOK)
		sys.admin(t, http.MethodPost, base+"/messages", map[string]any{"text": "The queue is paused while we restock."}, http.StatusOK)
		w.reach("paused", `document.querySelector('#state').dataset.state === 'paused'
			&& document.querySelector('#eta').dataset.kind === 'paused' && !document.querySelector('#eta').hidden
			&& document.querySelector('#operator-message').textContent.includes('restock')`)
		sys.admin(t, http.MethodPost, base+"/resume", nil, http.StatusOK)
		w.reach("resumed", `document.querySelector('#state').dataset.state === 'open'`)
		if txt := w.text(); strings.Contains(strings.ToLower(txt), "paused") {
			t.Errorf("after resume the page still says paused:\n%s", txt)
		}
	})

	t.Run("a time told with its time zone", func(t *testing.T) {
		w := pageWalk{t: t, ctx: ctx, sys: sys}
		later := sys.createSale(t, map[string]any{"sku": "J-2", "name": "Walk Later", "stock": 5,
			"starts_at": startsIn(2 * time.Hour), "prequeue_seconds": 600})
		if err := chromedp.Run(ctx, chromedp.Navigate(sys.URL+"/?sale="+later)); err != nil {
			t.Fatal(err)
		}
		// The browser's own zone, as Intl names it: UTC here, or another.
		w.reach("scheduled", `(() => { const h = document.querySelector('#hint').textContent;
			const zone = new Intl.DateTimeFormat([], {timeZoneName: 'short'}).formatToParts(new Date()).find(p => p.type === 'timeZoneName').value;
			return h.startsWith('The queue opens at') && h.includes(zone); })()`)
	})

	t.Run("every unit held, then sold out", func(t *testing.T) { heldThenSoldOut(t, w, ctx) })
	t.Run("the hold runs out, the order is paid, the servers falter", func(t *testing.T) {
		boughtThenDegraded(t, pageWalk{t: t, ctx: ctx, sys: sys}, rs)
	})
	t.Logf("the walk took %v", time.Since(started).Round(100*time.Millisecond))
}

// noDeveloperText fails when the page shows a code in the developer's form
// ("no_sale — …") rather than words for the shopper.
func (w pageWalk) noDeveloperText(code string) {
	w.t.Helper()
	if txt := w.text(); strings.Contains(txt, code) || strings.Contains(txt, "?sale=") {
		w.t.Errorf("the page shows developer text:\n%s", txt)
	}
}

// linksToShop fails unless the link sel is shown and goes to the shop.
func (w pageWalk) linksToShop(sel string) {
	w.t.Helper()
	var got struct {
		Shown bool   `json:"shown"`
		Href  string `json:"href"`
	}
	w.eval(`(() => { const a = document.querySelector('`+sel+`'); return {shown: !!a && !a.hidden, href: a ? a.href : ''}; })()`, &got)
	if !got.Shown || got.Href != testShopURL {
		w.t.Errorf("%s: shown %v, to %q; want a link back to %s", sel, got.Shown, got.Href, testShopURL)
	}
}

// noscriptTellsTheState reads the shopper page as a browser without script
// gets it: the sale's name and state in words, and a Join button that is
// not active.
func noscriptTellsTheState(t *testing.T, ctx context.Context, sys *system, saleID string) {
	res, err := http.Get(sys.URL + "/?sale=" + saleID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	html := string(body)
	for _, want := range []string{"<strong>Walk Prequeue</strong>", "places are decided by a fair draw", "UTC",
		`href="/v1/sales/` + saleID + `"`, `href="` + testShopURL + `"`, `id="join" class="primary" disabled`} {
		if !strings.Contains(html, want) {
			t.Errorf("the page without script lacks %q", want)
		}
	}
	if strings.Contains(html, "<!--foyer:noscript-->") {
		t.Error("the page's noscript mark was left unfilled")
	}
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	tab, cancelWait := context.WithTimeout(tab, 15*time.Second) // a page without the part would be waited on to the end
	defer cancelWait()
	var shown string
	if err := chromedp.Run(tab, emulationNoScript(),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		chromedp.Text("noscript .card, .noscript", &shown, chromedp.ByQuery),
		shoot("journey-noscript")); err != nil {
		t.Fatalf("the page without script: %v", err)
	}
	if !strings.Contains(shown, "Walk Prequeue") {
		t.Errorf("without script the page shows %q; want the sale's name and state", shown)
	}
}
