package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// speaking makes a tab's browser speak languages (an Accept-Language list,
// "de-DE,de"): navigator.languages, the header and Intl's default locale,
// as a browser set up in that language has them.
func speaking(languages string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		_, _, _, ua, _, err := browser.GetVersion().Do(ctx)
		if err != nil {
			return err
		}
		if err := emulation.SetUserAgentOverride(ua).WithAcceptLanguage(languages).Do(ctx); err != nil {
			return err
		}
		first, _, _ := strings.Cut(languages, ",")
		return emulation.SetLocaleOverride().WithLocale(first).Do(ctx)
	})
}

// pageReadsIn is a condition on the shopper page's texts, by element id:
// each element's text must start with its wanted text.
func pageReadsIn(lang string, want map[string]string) string {
	var b strings.Builder
	b.WriteString(`(() => { const says = (id, text) => (document.getElementById(id).textContent || '').startsWith(text);
		return document.documentElement.lang === '` + lang + `'`)
	for id, text := range want {
		b.WriteString(` && says('` + id + `', '` + text + `')`)
	}
	b.WriteString(`; })()`)
	return b.String()
}

// TestTheShopperPageSpeaksTheBrowsersLanguageAndSwitchesLive opens the
// shopper page in a browser set to German and in one set to Japanese:
// each reads the page, prices and numbers in its own language, with
// axe-core finding nothing. The German shopper joins the queue, then
// picks Español from the page's switch: the page says everything again in
// Spanish at once, keeps the choice over a reload, a link's ?lang=fr wins
// over both, and a ?lang= naming no language of the page changes nothing.
func TestTheShopperPageSpeaksTheBrowsersLanguageAndSwitchesLive(t *testing.T) {
	started := time.Now()
	sys := startSystem(t)
	ctx := newBrowser(t)
	saleID := sys.createSale(t, map[string]any{"sku": "L-1", "name": "Lang Runner", "price_cents": 123450, "currency": "EUR",
		"stock": 5, "outflow_per_second": stalled})
	page := sys.URL + "/?sale=" + saleID
	t.Logf("screenshots in %s (journey-lang-*)", screenshotDir)

	// Japanese first, in a tab of its own, before any choice is kept.
	t.Run("a Japanese browser", func(t *testing.T) {
		tab, cancel := chromedp.NewContext(ctx)
		defer cancel()
		w := pageWalk{t: t, ctx: tab, sys: sys}
		if err := chromedp.Run(tab, recordPage(), speaking("ja-JP,ja"), chromedp.Navigate(page)); err != nil {
			t.Fatal(err)
		}
		w.reach("lang-ja", pageReadsIn("ja", map[string]string{"state": "販売中", "join": "列に並ぶ", "stock-left": "残り 5 / 5",
			"queue-title": "順番待ち", "price": "€1,234.50"}))
		var picked string
		w.eval(`document.querySelector('#lang').selectedOptions[0].textContent`, &picked)
		if picked != "日本語" {
			t.Errorf("the switch shows %q, want 日本語", picked)
		}
	})

	w := pageWalk{t: t, ctx: ctx, sys: sys}
	if err := chromedp.Run(ctx, recordPage(), speaking("de-DE,de,en"), chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	w.reach("lang-de", pageReadsIn("de", map[string]string{"state": "Geöffnet", "join": "Anstellen", "stock-left": "5 von 5 übrig",
		"stock-title": "Bestand", "price": "1.234,50"}))
	if err := chromedp.Run(ctx, chromedp.Click("#join")); err != nil {
		t.Fatal(err)
	}
	w.reach("lang-de-waiting", pageReadsIn("de", map[string]string{"position": "Sie sind Nummer 1", "ahead": "0 vor Ihnen",
		"leave": "Verlassen"}))

	// The switch, as a shopper uses it: the page speaks Spanish at once,
	// place and all, and remembers it.
	if err := chromedp.Run(ctx, chromedp.SetValue("#lang", "es"),
		chromedp.Evaluate(`document.querySelector('#lang').dispatchEvent(new Event('change'))`, nil)); err != nil {
		t.Fatal(err)
	}
	w.reach("lang-es-switched", pageReadsIn("es", map[string]string{"position": "Eres el número 1", "ahead": "0 delante de ti",
		"leave": "Salir", "state": "Abierta", "queue-title": "Cola", "price": "1234,50"}))
	var kept string
	w.eval(`localStorage.getItem('foyer.lang')`, &kept)
	if kept != "es" {
		t.Errorf("the switch kept %q, want es", kept)
	}
	if err := chromedp.Run(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	w.reach("lang-es-reloaded", pageReadsIn("es", map[string]string{"state": "Abierta", "queue-title": "Cola", "sale-name": "Lang Runner"}))

	// A link that names a language wins over the browser's and the kept choice.
	if err := chromedp.Run(ctx, chromedp.Navigate(page+"&lang=fr")); err != nil {
		t.Fatal(err)
	}
	w.reach("lang-fr-link", pageReadsIn("fr", map[string]string{"state": "Ouverte", "queue-title": "File d’attente",
		"stock-left": "5 sur 5 restants"}))
	// A link naming no language of the page, or worse, changes nothing:
	// the kept choice stands.
	if err := chromedp.Run(ctx, chromedp.Navigate(page+"&lang=xx%22%3E%3Cb%3E")); err != nil {
		t.Fatal(err)
	}
	w.reach("lang-unknown-link", pageReadsIn("es", map[string]string{"state": "Abierta", "queue-title": "Cola"}))

	t.Run("without script", func(t *testing.T) { noscriptSaysTheStateInTheBrowsersLanguage(t, page) })
	t.Logf("the languages took %v", time.Since(started).Round(100*time.Millisecond))
}

// noscriptSaysTheStateInTheBrowsersLanguage reads the page as a browser
// without script gets it: the state's sentence in the language the
// browser asks for, marked as such, and a cache told to keep a page per
// language.
func noscriptSaysTheStateInTheBrowsersLanguage(t *testing.T, page string) {
	for _, tt := range []struct{ accept, want string }{
		{"de-DE,de;q=0.9", `<p lang="de">Der Verkauf ist geöffnet.</p>`},
		{"ja", `<p lang="ja">販売中です。</p>`},
		{"en-GB,de;q=0.5", `<p>The sale is open.</p>`},
	} {
		req, err := http.NewRequest(http.MethodGet, page, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Language", tt.accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), tt.want) {
			t.Errorf("Accept-Language %q: the page without script lacks %s", tt.accept, tt.want)
		}
		if vary := res.Header.Get("Vary"); !strings.Contains(vary, "Accept-Language") {
			t.Errorf("Accept-Language %q: Vary is %q; a cache would hand one language to all", tt.accept, vary)
		}
	}
}
