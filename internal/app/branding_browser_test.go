package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// servePictures answers the browser's requests for images on the test's
// image host with a picture of that colour: the host is not on any network
// this machine reaches, and the page under test still loads the image
// through its own Content-Security-Policy, which the DevTools protocol's
// answer does not bypass.
func servePictures(t *testing.T, ctx context.Context, fill color.Color) chromedp.Action {
	pic := image.NewRGBA(image.Rect(0, 0, 320, 160))
	for y := range 160 {
		for x := range 320 {
			pic.Set(x, y, fill)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, pic); err != nil {
		t.Fatal(err)
	}
	body := base64.StdEncoding.EncodeToString(buf.Bytes())
	chromedp.ListenTarget(ctx, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		// Answered on a goroutine of its own, as chromedp requires of a
		// command sent from a listener; it ends with the answer, or with
		// the browser's context.
		go func() {
			c := chromedp.FromContext(ctx)
			err := fetch.FulfillRequest(e.RequestID, http.StatusOK).
				WithResponseHeaders([]*fetch.HeaderEntry{{Name: "Content-Type", Value: "image/png"}}).
				WithBody(body).Do(cdp.WithExecutor(ctx, c.Target))
			if err != nil && ctx.Err() == nil {
				t.Errorf("answer %s: %v", e.Request.URL, err)
			}
		}()
	})
	return fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: "https://" + testImageHost + "/*"}})
}

// TestABrandedSalesPageShowsTheShopsLookAccessibly opens the page of a
// branded sale in its prequeue, then joins: the logo links back to the
// shop, the product's image has the sale's name as alt text, the colours
// and texts are the operator's, and axe-core finds nothing at phone and
// desktop sizes.
func TestABrandedSalesPageShowsTheShopsLookAccessibly(t *testing.T) {
	started := time.Now()
	sys := startNodes(t, 1, map[string]string{"FOYER_IMAGE_HOSTS": testImageHost})
	starts := time.Now().Add(10 * time.Minute).UTC() // within the default 15-minute prequeue: joinable, nobody admitted
	saleID := sys.createSale(t, map[string]any{"sku": "B-3", "name": "Spring sneaker", "stock": 5, "price_cents": 9900,
		"starts_at": starts, "ends_at": starts.Add(time.Hour)})
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/branding", sys.AdminToken, testBranding, nil); status != http.StatusOK {
		t.Fatalf("PUT branding: %d", status)
	}
	ctx := newBrowser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	err := chromedp.Run(ctx, servePictures(t, ctx, color.RGBA{R: 11, G: 93, B: 30, A: 255}),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`(() => { const l = document.querySelector('.brand-logo'), p = document.querySelector('.brand-product');
			return !!l && !!p && l.complete && l.naturalWidth > 0 && p.complete && p.naturalWidth > 0
				&& !document.querySelector('#join').disabled; })()`))
	if err != nil {
		t.Fatalf("the branded page with its pictures: %v", err)
	}
	var shown struct {
		LogoAlt, LogoHref, ProductAlt, Headline, Description, Background, Button, FoyerHidden string
		SoldOut, Shop                                                                         string
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`({
		LogoAlt: document.querySelector('.brand-logo').alt,
		LogoHref: document.querySelector('.brand-logo-link').href,
		ProductAlt: document.querySelector('.brand-product').alt,
		Headline: document.querySelector('#brand-headline').textContent,
		Description: document.querySelector('#brand-description').textContent,
		Background: getComputedStyle(document.documentElement).backgroundColor,
		Button: getComputedStyle(document.querySelector('#join')).backgroundColor,
		FoyerHidden: String(document.querySelector('.brand').hidden),
		SoldOut: window.foyerBranding.soldOutText(),
		Shop: window.foyerBranding.shopURL(),
	})`, &shown)); err != nil {
		t.Fatal(err)
	}
	want := struct {
		LogoAlt, LogoHref, ProductAlt, Headline, Description, Background, Button, FoyerHidden string
		SoldOut, Shop                                                                         string
	}{"Back to the shop", "https://shop.example/drops", "Spring sneaker", "The spring drop", "Two hundred pairs, one per shopper.",
		"rgb(255, 248, 231)", "rgb(11, 93, 30)", "true", "All gone: the next drop is in May.", "https://shop.example/drops"}
	if shown != want {
		t.Errorf("the branded page shows\n%+v\nwant\n%+v", shown, want)
	}
	if err := chromedp.Run(ctx, accessible(t, "branded, prequeue"), shoot("branding-prequeue")); err != nil {
		t.Fatal(err)
	}

	var waiting string
	err = chromedp.Run(ctx, chromedp.Click("#join", chromedp.ByQuery),
		waitFor(`!document.querySelector('#queue').hidden && !!document.querySelector('#brand-waiting')
			&& document.querySelector('#brand-waiting').offsetParent !== null`),
		chromedp.Evaluate(`document.querySelector('#brand-waiting').textContent`, &waiting),
		accessible(t, "branded, waiting"), shoot("branding-waiting"))
	if err != nil {
		t.Fatalf("joined: %v", err)
	}
	if !strings.Contains(waiting, "your place is kept") {
		t.Errorf("while waiting the page says %q; want the sale's waiting text", waiting)
	}
	// Ended: the way back is the sale's own shop link, not the deployment's.
	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/stop", nil, http.StatusOK)
	if err := chromedp.Run(ctx, waitFor(`[...document.querySelectorAll('a.shop-link')].some(a => !a.hidden
		&& a.offsetParent !== null && a.href === 'https://shop.example/drops')`)); err != nil {
		t.Errorf("the ended page links back to the sale's shop: %v", err)
	}
	t.Logf("screenshots in %s (branding-*); %s", screenshotDir, time.Since(started).Round(time.Millisecond))
}
